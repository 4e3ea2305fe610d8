"""Questionnaires from the web: upload, review beside the source, publish all
or some in one step (through HTTP, on a real database)."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.store.models import QuestionnaireImport, db
from tests.conftest import Api
from tests.documents import make_docx, make_odt
from tests.test_web_admin import Admin, logged_in, make_admin

DATA = Path(__file__).parent / "data" / "questionnaires"
OMSK = (DATA / "omsk-2020.txt").read_text(encoding="utf-8")
MAGADAN = (DATA / "variants" / "magadan-2022-social.txt").read_text(encoding="utf-8")


@pytest.fixture
def magadan(app: Flask, api: Api, runner: Any) -> Admin:
    return logged_in(app, api, runner, "magadan", "Магадан")


def event_form(**over: str) -> dict[str, str]:
    """An event as the browser sends the form (dates as day, month, year)."""
    form = {
        "title": "Фестиваль", "stage": "held", "year": "", "month": "",
        "starts_on-day": "", "starts_on-month": "", "starts_on-year": "",
        "ends_on-day": "", "ends_on-month": "", "ends_on-year": "",
        "format": "offline", "level": "municipal", "location": "Магадан",
        "summary": "Прошёл фестиваль.", "status": "published",
    }  # fmt: skip
    return {**form, **over}


def reviews(app: Flask) -> int:
    with app.app_context():
        return db.session.query(QuestionnaireImport).count()


def upload(admin: Admin, *files: tuple[str, bytes], text: str = ""):
    data: dict[str, Any] = {"files": [(io.BytesIO(d), name) for name, d in files], "text": text}
    return admin.client.post("/admin/import", data=data, content_type="multipart/form-data")


def review_id(response) -> int:
    match = re.search(r"/admin/import/(\d+)$", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def entry_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'name="publish" value="(\d+)"', page)]


def form_of(page: str) -> dict[str, Any]:
    """The review form as the browser would post it unchanged."""
    data: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="(e\d+-[\w-]+)"', tag)
        if not name:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        kind = re.search(r'type="(\w+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if " checked" not in tag:
                continue
            if name.group(1).endswith("-topics"):
                data.setdefault(name.group(1), []).append(value.group(1) if value else "")
                continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="(e\d+-\w+)"[^>]*>([^<]*)</textarea>', page):
        data[name] = text.replace("&#34;", '"').replace("&#39;", "'").replace("&amp;", "&")
    for name, body in re.findall(r'<select[^>]*name="(e\d+-\w+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        data[name] = chosen.group(1) if chosen else ""
    data["publish"] = entry_ids(page)
    return data


def test_upload_review_fix_and_publish(magadan: Admin, api: Api, app: Flask) -> None:
    response = upload(magadan, ("Магадан 2022.docx", make_docx(MAGADAN)))
    assert response.status_code == 302
    page = magadan.client.get(f"/admin/import/{review_id(response)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    # The source beside the drafts, every guess flagged.
    assert "Адресную помощь получили 3400 семей" in html
    assert "проверьте темы" in html
    assert "даты не указаны — уточните" in html
    assert "запланировано или проведено?" in html
    ids = entry_ids(html)
    assert len(ids) == 6  # the note and five events
    assert api.get("/api/v1/events").json["total"] == 0  # drafts until published
    data = form_of(html)
    # Fix a flagged field: the charity action's dates.
    action = next(
        i for i in ids if "Благотворительная акция" in html.split(f'id="e{i}-draft"')[1][:400]
    )
    data.update({f"e{action}-starts_on-day": "15", f"e{action}-starts_on-month": "8",
                 f"e{action}-starts_on-year": "2022"})  # fmt: skip
    data["action"] = "publish"
    done = magadan.client.post(f"/admin/import/{review_id(response)}", data=data)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/")
    events = {e["title"]: e for e in api.get("/api/v1/events", per_page=50).json["items"]}
    assert events["Благотворительная акция «Дорога в школу»"]["starts_on"] == "2022-08-15"
    planned = events["Первая городская спартакиада для людей с инвалидностью"]
    assert (planned["stage"], planned["year"], planned["starts_on"]) == ("planned", 2023, None)
    note = api.get("/api/v1/practices").json["items"][0]
    assert note["topics"][0] == "social-support"
    assert "social-support" in events["Декада милосердия"]["topics"]
    assert reviews(app) == 0  # the review is finished


def test_publish_some_and_errors_in_one_round(magadan: Admin, api: Api) -> None:
    response = upload(magadan, ("omsk.odt", make_odt(OMSK)))
    url = f"/admin/import/{review_id(response)}"
    html = magadan.client.get(url).get_data(as_text=True)
    ids = entry_ids(html)
    note, first, second = ids[0], ids[1], ids[2]
    data = form_of(html)
    data.update({f"e{first}-title": "", f"e{second}-starts_on-day": "31",
                 f"e{second}-starts_on-month": "2", f"e{second}-starts_on-year": "2020",
                 "action": "publish"})  # fmt: skip
    bad = magadan.client.post(url, data=data)
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="error-summary"' in page
    assert f'href="#e{first}-title"' in page and f'href="#e{second}-starts_on-day"' in page
    assert "Такой даты нет: 31.2.2020" in page
    assert api.get("/api/v1/events").json["total"] == 0  # nothing saved
    data = form_of(html)
    data.update({"publish": [note, first], "action": "publish"})
    good = magadan.client.post(url, data=data)
    assert good.status_code == 302 and good.headers["Location"].endswith(url)
    assert api.get("/api/v1/practices").json["total"] == 1
    assert api.get("/api/v1/events").json["total"] == 1
    rest = magadan.client.get(url).get_data(as_text=True)
    assert "Опубликовано. <a" in rest and len(entry_ids(rest)) == len(ids) - 2


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("broken.docx", b"PK\x03\x04" + b"\x00" * 64, "повреждён"),
        ("empty.odt", make_odt(""), "нет текста"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "Сохранить как"),
        ("no-city.txt", (DATA / "no-city.txt").read_bytes(), "название города"),
        ("empty.txt", b"", "пуст"),
    ],
)
def test_broken_and_empty_files_write_nothing(
    magadan: Admin, api: Api, app: Flask, name: str, data: bytes, words: str
) -> None:
    response = upload(magadan, (name, data))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Анкета не загружена" in page and f"«{name}»" in page and words in page
    assert reviews(app) == 0
    token = api.token("magadan")
    assert api.get("/api/v1/practices", token).json["total"] == 0
    assert api.get("/api/v1/events", token).json["total"] == 0


def test_several_files_and_pasted_text(magadan: Admin, api: Api) -> None:
    response = upload(
        magadan,
        ("omsk.docx", make_docx(OMSK)),
        ("broken.docx", b"PK\x03\x04"),
        text=MAGADAN,
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/import")
    page = magadan.client.get("/admin/import").get_data(as_text=True)
    assert "Загружено анкет: 2" in page and "«broken.docx» не загружен" in page
    assert "omsk.docx" in page and "вставленный текст.txt" in page
    token = api.token("magadan")
    assert api.get("/api/v1/practices", token).json["total"] == 2


def test_nothing_chosen_and_another_citys_review(
    magadan: Admin, app: Flask, api: Api, runner: Any
) -> None:
    empty = upload(magadan)
    assert empty.status_code == 422 and "Выберите файл анкеты" in empty.get_data(as_text=True)
    response = upload(magadan, ("omsk.txt", OMSK.encode()))
    url = f"/admin/import/{review_id(response)}"
    email = make_admin(api, runner, "tomsk", "Томск")
    tomsk = Admin(app.test_client(), email)
    tomsk.login()
    assert tomsk.client.get(url).status_code == 404
    assert tomsk.client.post(url, data={"action": "publish"}).status_code == 404
    assert magadan.client.get("/admin/import/999999").status_code == 404


def test_event_form_takes_day_month_year(magadan: Admin, api: Api) -> None:
    form = event_form(**{"starts_on-day": "12", "starts_on-month": "6", "starts_on-year": "2022"})
    page = magadan.client.get("/admin/events/new").get_data(as_text=True)
    assert 'name="starts_on-day"' in page and "Например, 12 06 2022" in page
    assert magadan.client.post("/admin/events/new", data=form).status_code == 302
    event = api.get("/api/v1/events").json["items"][0]
    assert (event["starts_on"], event["year"], event["month"]) == ("2022-06-12", 2022, 6)
    bad = magadan.client.post(
        "/admin/events/new", data={**form, "starts_on-month": "13", "title": ""}
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Такой даты нет" in text and 'href="#title"' in text  # all errors in one round


def test_preview_saved_link_and_publish_from_the_draft_page(magadan: Admin, api: Api) -> None:
    form = event_form(
        title="Фестиваль «Север»", year="2022", status="draft",
        summary="Прошёл **большой** фестиваль.",
    )  # fmt: skip
    token = api.token("magadan")
    preview = magadan.client.post("/admin/events/new", data={**form, "action": "preview"})
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Предпросмотр: так запись будет выглядеть" in page
    assert "<strong>большой</strong>" in page
    assert api.get("/api/v1/events", token).json["total"] == 0  # nothing saved
    saved = magadan.client.post("/admin/events/new", data=form, follow_redirects=True)
    flash = saved.get_data(as_text=True)
    link = re.search(r'сохранено как черновик\. <a href="(/events/\d+)">Открыть запись</a>', flash)
    assert link, flash
    draft = magadan.client.get(link.group(1)).get_data(as_text=True)
    assert "Это черновик" in draft and ">Опубликовать</button>" in draft
    action = re.search(r'action="(/admin/events/\d+/publish)"', draft)
    assert action
    done = magadan.client.post(action.group(1), data={"next": "entry"})
    assert done.status_code == 302 and done.headers["Location"].endswith(link.group(1))
    assert api.get("/api/v1/events").json["items"][0]["title"] == "Фестиваль «Север»"


def test_collection_for_the_instance_admin(
    magadan: Admin, api: Api, app: Flask, runner: Any, tmp_path: Path
) -> None:
    import zipfile

    app.config["IMPORT_UPLOAD_DIR"] = str(tmp_path / "uploads")
    url = "/admin/import/collection"
    assert magadan.client.get(url).status_code == 403  # a city's admin
    magadan = logged_in(app, api, runner, "anadyr", "Анадырь", instance=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Магадан.docx", make_docx(MAGADAN))
        archive.writestr("Омск.odt", make_odt(OMSK))
        archive.writestr("сломан.docx", b"PK\x03\x04")
    data = {"files": [(io.BytesIO(buffer.getvalue()), "собрание.zip")], "publish": "1"}
    asked = magadan.client.post(url, data=data, content_type="multipart/form-data")
    page = asked.get_data(as_text=True)
    assert "Этих городов на сайте нет" in page and 'value="Омск" checked' in page
    assert api.get("/api/v1/practices").json["total"] == 0  # nothing before confirming
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    done = magadan.client.post(url, data={"token": token, "create": ["Омск"], "publish": "1"})
    report = done.get_data(as_text=True)
    assert "Загружено файлов: 2 из 3." in report
    assert "Омск (добавлен)" in report and "Не загружен:" in report
    assert {n["city"] for n in api.get("/api/v1/practices").json["items"]} == {"magadan", "omsk"}
    again = magadan.client.post(url, data={"token": token, "create": ["Омск"]})
    assert "Загрузка устарела" in again.get_data(as_text=True)  # a token is used once


def test_too_large_uploads_get_a_russian_page(magadan: Admin, app: Flask, api: Api) -> None:
    app.config["QUESTIONNAIRE_MAX_BYTES"] = 2000
    one = upload(magadan, ("big.txt", b"x" * 5000))
    assert one.status_code == 422 and "больше 1 МБ" in one.get_data(as_text=True)
    # (A request over the total limit gets the site's Russian 413 page; the test client
    # spools such a body to a temporary file it does not close, so it is not sent here.)
    assert api.get("/api/v1/practices", api.token("magadan")).json["total"] == 0
