"""The command line, run through Flask's CLI runner on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.conftest import Api

DATA = Path(__file__).parent / "data" / "questionnaires"
GOOD = sorted(p for p in DATA.glob("*.txt") if not p.name.startswith(("no-", "empty")))
BAD = sorted(p for p in DATA.glob("*.txt") if p.name.startswith(("no-", "empty")))


def invoke(runner: FlaskCliRunner, *args: str, input: str | None = None):
    return runner.invoke(args=list(args), input=input, catch_exceptions=False)


def test_init_db_is_repeatable(runner: FlaskCliRunner) -> None:
    for _ in range(2):
        result = invoke(runner, "init-db")
        assert result.exit_code == 0 and "готова" in result.output


def test_city_add_and_errors(runner: FlaskCliRunner, api: Api) -> None:
    result = invoke(runner, "city", "add", "ulan-ude", "Улан-Удэ", "--region", "Бурятия")
    assert result.exit_code == 0, result.output
    cities = api.get("/api/v1/cities").json
    assert cities == [{"slug": "ulan-ude", "name": "Улан-Удэ", "region": "Бурятия",
                       "latitude": None, "longitude": None, "local": True,
                       "instance_url": None}]  # fmt: skip
    again = invoke(runner, "city", "add", "ulan-ude", "Улан-Удэ")
    assert again.exit_code == 1 and "уже есть" in again.output
    bad = invoke(runner, "city", "add", "Улан Удэ", "Улан-Удэ")
    assert bad.exit_code == 1 and "[slug]" in bad.output
    assert "Traceback" not in bad.output


def test_token_create_prints_a_working_token_once(runner: FlaskCliRunner, api: Api) -> None:
    api.city("omsk", "Омск")
    result = invoke(runner, "token", "create", "--city", "omsk", "--label", "сайт")
    assert result.exit_code == 0
    token = result.output.strip()
    assert token.startswith("asdg_")
    from tests.conftest import practice_body

    assert api.post("/api/v1/practices", practice_body(), token).status_code == 201
    operator = invoke(runner, "token", "create", "--all").output.strip()
    assert api.post("/api/v1/practices", practice_body(city="omsk"), operator).status_code == 201
    assert invoke(runner, "token", "create", "--city", "nowhere").exit_code == 1
    neither = runner.invoke(args=["token", "create"])
    assert neither.exit_code == 2


def test_admin_create_with_password_stdin(runner: FlaskCliRunner, api: Api) -> None:
    api.city("omsk", "Омск")
    ok = invoke(runner, "admin", "create", "Admin@Omsk.example", "--city", "omsk",
                "--password-stdin", input="секретный-пароль\n")  # fmt: skip
    assert ok.exit_code == 0 and "admin@omsk.example" in ok.output
    dup = invoke(runner, "admin", "create", "admin@omsk.example", "--city", "omsk",
                 "--password-stdin", input="секретный-пароль\n")  # fmt: skip
    assert dup.exit_code == 1
    short = invoke(runner, "admin", "create", "b@omsk.example", "--city", "omsk",
                   "--password-stdin", input="123\n")  # fmt: skip
    assert short.exit_code == 1 and "[password]" in short.output
    prompt = invoke(runner, "admin", "create", "c@omsk.example", "--city", "omsk",
                    input="длинный-пароль\nдлинный-пароль\n")  # fmt: skip
    assert prompt.exit_code == 0


def test_demo_loads_the_omsk_note_once(runner: FlaskCliRunner, api: Api) -> None:
    first = invoke(runner, "demo")
    assert first.exit_code == 0
    ids = first.output.split()
    assert len(ids) >= 4 and all(i.startswith("tag:test.example,") for i in ids)
    notes = api.get("/api/v1/practices", city="omsk").json
    assert notes["total"] == 1
    note = notes["items"][0]
    assert note["year"] == 2020 and note["area"] == "Организационная деятельность"
    assert "Дельфийские игры" in note["achievements"]
    events = api.get("/api/v1/events", city="omsk").json["items"]
    assert all(e["related"] == note["id"] for e in events)
    assert any(e["format"] == "online" for e in events)
    second = invoke(runner, "demo")
    assert second.exit_code == 0 and "уже загружены" in second.output
    assert api.get("/api/v1/practices").json["total"] == 1


def test_import_sample_as_drafts_then_publish(runner: FlaskCliRunner, api: Api) -> None:
    api.city("omsk", "Омск")
    token = api.token("omsk")
    result = invoke(runner, "practice", "import", str(DATA / "omsk-2020.txt"), "--city", "omsk")
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    kinds = [kind for kind, _ in lines]
    assert kinds[0] == "practice" and kinds.count("event") >= 3
    assert api.get("/api/v1/practices").json["total"] == 0  # drafts are not public
    mine = api.get("/api/v1/practices", token).json["items"]
    assert [m["status"] for m in mine] == ["draft"]
    note = mine[0]
    assert "строится по нескольким направлениям" in note["summary"]
    assert "- организация и проведение работы" in note["summary"]
    assert "большая помощь в организации работы" in note["assistance"]
    events = api.get("/api/v1/events", token, per_page=50).json["items"]
    titles = " ".join(e["title"] for e in events)
    for words in ("Дельфийские игры", "Победы", "Дн"):
        assert words in titles
    assert {e["year"] for e in events} >= {2020}
    published = invoke(runner, "practice", "import", str(DATA / "omsk-2020.txt"), "--city",
                       "omsk", "--publish")  # fmt: skip
    assert published.exit_code == 0
    assert api.get("/api/v1/practices").json["total"] == 1


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_import_variants(runner: FlaskCliRunner, api: Api, path: Path) -> None:
    api.city("city", "Город")
    result = invoke(runner, "practice", "import", str(path), "--city", "city", "--publish")
    assert result.exit_code == 0, result.output
    note = api.get("/api/v1/practices", city="city").json["items"][0]
    assert 1990 <= note["year"] <= 2100
    assert note["achievements"].strip()
    assert "\r" not in note["summary"] + note["achievements"] + note["plans"]
    assert "\ufeff" not in note["summary"] + note["title"]


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_unreadable_texts_write_nothing(runner: FlaskCliRunner, api: Api, path: Path) -> None:
    api.city("city", "Город")
    token = api.token("city")
    result = invoke(runner, "practice", "import", str(path), "--city", "city")
    assert result.exit_code == 1
    assert "Ошибка [" in result.output and "Traceback" not in result.output
    assert api.get("/api/v1/practices", token).json["total"] == 0
    assert api.get("/api/v1/events", token).json["total"] == 0


def test_import_errors_for_city_and_file(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    missing_city = invoke(runner, "practice", "import", str(DATA / "omsk-2020.txt"), "--city", "x")
    assert missing_city.exit_code == 1 and "[city]" in missing_city.output
    missing_file = runner.invoke(
        args=["practice", "import", str(tmp_path / "no.txt"), "--city", "x"]
    )
    assert missing_file.exit_code == 2
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    invoke(runner, "city", "add", "x", "Икс")
    result = invoke(runner, "practice", "import", str(empty), "--city", "x")
    assert result.exit_code == 1 and "[text]" in result.output


def test_import_reads_windows_1251(runner: FlaskCliRunner, api: Api, tmp_path: Path) -> None:
    api.city("omsk", "Омск")
    legacy = tmp_path / "omsk-cp1251.txt"
    legacy.write_bytes((DATA / "omsk-2020.txt").read_text(encoding="utf-8").encode("cp1251"))
    result = invoke(runner, "practice", "import", str(legacy), "--city", "omsk", "--publish")
    assert result.exit_code == 0, result.output
    assert "Дельфийские" in api.get("/api/v1/practices").json["items"][0]["achievements"]


def test_import_several_files_of_every_format(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    from tests.documents import make_docx, make_odt, make_rtf

    api.city("city", "Город")
    variants = DATA / "variants"
    files = {
        "omsk.docx": make_docx((DATA / "omsk-2020.txt").read_text(encoding="utf-8")),
        "yakutsk.odt": make_odt((variants / "yakutsk-2022-sport.txt").read_text("utf-8")),
        "magadan.rtf": make_rtf((variants / "magadan-2022-social.txt").read_text("utf-8")),
        "bratsk.txt": (variants / "bratsk-2021-ecology.txt").read_text("utf-8").encode("cp1251"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    paths = [str(tmp_path / name) for name in files]
    result = invoke(runner, "practice", "import", *paths, "--city", "city", "--publish")
    assert result.exit_code == 0, result.output
    kinds = [line.split("\t")[0] for line in result.output.strip().splitlines()]
    assert kinds.count("practice") == 4
    notes = api.get("/api/v1/practices", per_page=10).json["items"]
    assert sorted(n["year"] for n in notes) == [2020, 2021, 2022, 2022]
    by_area = {n["area"]: n for n in notes}
    assert by_area["Комитет по благоустройству"]["topics"][0] == "ecology"
    events = {e["title"]: e for e in api.get("/api/v1/events", per_page=100).json["items"]}
    assert {"Спартакиада", "Благотворительная акция «Дорога в школу»"} <= events.keys()
    concert = events["Праздничный концерт ко Дню пожилого человека"]
    assert (concert["stage"], concert["starts_on"], concert["ends_on"]) == (
        "held",
        "2022-10-01",
        "2022-10-01",
    )
    planned = events["Первая городская спартакиада для людей с инвалидностью"]
    assert (planned["stage"], planned["year"], planned["month"], planned["starts_on"]) == (
        "planned",
        2023,
        None,
        None,
    )
    subbotnik = events["Общегородской субботник"]
    assert (subbotnik["year"], subbotnik["month"], subbotnik["topics"][0]) == (2021, 4, "ecology")
    # No placeholder dates: an event known by its year has none.
    assert all(e["starts_on"] is None for e in events.values() if e["month"] is None)


def test_import_broken_and_empty_files_write_nothing(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    from tests.documents import make_odt

    api.city("city", "Город")
    token = api.token("city")
    files = {
        "good.txt": (DATA / "omsk-2020.txt").read_bytes(),
        "broken.docx": b"PK\x03\x04" + b"\x00" * 100,
        "empty.odt": make_odt(""),
        "old.doc": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
        "no-year.txt": (DATA / "no-year.txt").read_bytes(),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    result = invoke(
        runner, "practice", "import", *(str(tmp_path / n) for n in files), "--city", "city"
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for name, words in {
        "broken.docx": "повреждён",
        "empty.odt": "нет текста",
        "old.doc": "сохраните как «Документ Word",
        "no-year.txt": "отчётный год",
    }.items():
        line = next(line for line in result.output.splitlines() if f"«{name}»" in line)
        assert line.startswith("Ошибка [") and words in line, line
    assert "Не загружено файлов: 4 из 5." in result.output
    # One transaction per file: the good file is in, the others wrote nothing.
    assert api.get("/api/v1/practices", token).json["total"] == 1


def _collection_zip(members: dict[str, bytes], *, cp866_names: bool = False) -> bytes:
    import io
    import zipfile

    class Cp866Name(zipfile.ZipInfo):
        """A name in CP866 without the UTF-8 flag, as Windows' Explorer writes it."""

        def _encodeFilenameFlags(self) -> tuple[bytes, int]:
            return self.filename.encode("cp866"), self.flag_bits

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = (Cp866Name if cp866_names else zipfile.ZipInfo)(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def test_import_collection_takes_each_city_from_its_heading(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    from tests.documents import make_docx, make_odt

    api.city("chita", "Чита")
    variants = DATA / "variants"
    text = {p.stem: p.read_text("utf-8") for p in variants.glob("*.txt")}
    collection = tmp_path / "АСДГ-2021.zip"
    collection.write_bytes(
        _collection_zip(
            {
                "Чита/культура.docx": make_docx(text["chita-2021-culture"]),
                "Братск.odt": make_odt(text["bratsk-2021-ecology"]),
                "Якутск.txt": text["yakutsk-2022-sport"].encode("cp1251"),
                "сломанный.docx": b"PK\x03\x04" + b"\x00" * 50,
                "__MACOSX/._Братск.odt": b"junk",
                "~$культура.docx": b"lock",
            },
            cp866_names=True,
        )
    )
    loose = tmp_path / "Южно-Сахалинск.txt"
    loose.write_text(text["yuzhno-sakhalinsk-2023-civil-defence"], encoding="utf-8")

    first = invoke(runner, "practice", "import-collection", str(collection), str(loose))
    assert first.exit_code == 1
    assert "ok\tАСДГ-2021.zip/Чита/культура.docx\tЧита: практика и мероприятий 6" in first.output
    assert "город «Братск» здесь не ведётся" in first.output
    assert "«АСДГ-2021.zip/сломанный.docx»" in first.output and "повреждён" in first.output
    assert "MACOSX" not in first.output and "~$" not in first.output
    assert "Загружено файлов: 1 из 5." in first.output
    assert [c["slug"] for c in api.get("/api/v1/cities").json] == ["chita"]

    second = invoke(
        runner, "practice", "import-collection", str(collection), str(loose),
        "--create-cities", "--publish",
    )  # fmt: skip
    assert second.exit_code == 1  # the broken file still
    assert "(город добавлен)" in second.output
    slugs = {c["slug"]: c["name"] for c in api.get("/api/v1/cities").json}
    assert slugs == {
        "chita": "Чита",
        "bratsk": "Братск",
        "yakutsk": "Якутск",
        "yuzhno-sakhalinsk": "Южно-Сахалинск",
    }
    published = api.get("/api/v1/practices", per_page=20).json["items"]
    assert sorted(p["city"] for p in published) == [
        "bratsk",
        "chita",
        "yakutsk",
        "yuzhno-sakhalinsk",
    ]


def test_import_collection_with_a_damaged_archive(
    runner: FlaskCliRunner, api: Api, tmp_path: Path
) -> None:
    good = _collection_zip({"омск.txt": (DATA / "omsk-2020.txt").read_bytes()})
    damaged = bytearray(good)
    start = damaged.index("омск.txt".encode()) + 20  # past the name: the compressed data
    for i in range(start, start + 40):
        damaged[i] ^= 0xFF
    archive = tmp_path / "собрание.zip"
    archive.write_bytes(bytes(damaged))
    result = invoke(runner, "practice", "import-collection", str(archive), "--create-cities")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "повреждён" in result.output
    assert api.get("/api/v1/cities").json == []
