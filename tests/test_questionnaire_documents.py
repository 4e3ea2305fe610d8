"""Questionnaire files: every format reads to the same questionnaire as its
text; broken, empty and unsupported files give a Russian message (pure: no
app, no database)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.errors import QuestionnaireError
from service.questionnaire.documents import MAX_UNPACKED_BYTES, decode_text, read_document
from service.questionnaire.parse import ParsedQuestionnaire, parse_questionnaire
from tests.documents import make_docx, make_odt, make_rtf

DATA = Path(__file__).parent / "data" / "questionnaires"
BUILDERS = {"docx": make_docx, "odt": make_odt, "rtf": make_rtf}


def parse_file(name: str, data: bytes) -> ParsedQuestionnaire:
    return parse_questionnaire(read_document(name, data).text)


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


# Every text in every format would take a minute (mammoth reads a .docx in about
# a second); these cover CRLF, blank lines, numbered questions and lists.
FORMAT_TEXTS = [
    DATA / name
    for name in (
        "omsk-2020.txt",
        "irkutsk-2019-crlf.txt",
        "barnaul-blank-lines.txt",
        "ulan-ude-numbered.txt",
        "variants/yakutsk-2022-sport.txt",
        "variants/magadan-2022-social.txt",
    )
]


@pytest.mark.parametrize("fmt", sorted(BUILDERS))
@pytest.mark.parametrize("path", FORMAT_TEXTS, ids=lambda p: p.stem)
def test_every_format_reads_like_the_text(path: Path, fmt: str) -> None:
    text = read(path)
    document = read_document(f"{path.stem}.{fmt}", BUILDERS[fmt](text))
    assert document.format == fmt
    assert parse_questionnaire(document.text) == parse_questionnaire(text)


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_lists_and_emphasis_are_kept_as_markdown(fmt: str) -> None:
    text = (
        "ЧИТА\nУправление культуры ведёт *четыре* направления:\n"
        "- библиотеки;\n- музеи.\n"
        "Что удалось сделать в 2021 году?\n"
        "Открыта *модельная* библиотека.\n"
        "1. первое;\n2. второе.\n"
    )
    parsed = parse_file(f"chita.{fmt}", BUILDERS[fmt](text))
    assert parsed.summary == (
        "Управление культуры ведёт *четыре* направления:\n\n- библиотеки;\n- музеи."
    )
    assert parsed.achievements == "Открыта *модельная* библиотека.\n\n1. первое;\n2. второе."
    assert parsed.year == 2021  # the question, set in bold, is still found


def test_docx_bold_runs_and_breaks() -> None:
    document = docx.Document()
    document.add_paragraph("ОМСК")
    question = document.add_paragraph()
    question.add_run("Что удалось сделать в 2020 году?").bold = True
    answer = document.add_paragraph("Открыта ")
    answer.add_run("новая школа ").bold = True
    answer.add_run("на 1100 мест.")
    document.add_paragraph("Проведён городской фестиваль «Сибирь»")
    document.add_paragraph("в онлайн режиме.")  # Enter pressed mid-sentence
    buffer = io.BytesIO()
    document.save(buffer)
    parsed = parse_file("omsk.docx", buffer.getvalue())
    paragraphs = parsed.achievements.split("\n\n")
    assert paragraphs[0] == "Открыта **новая школа** на 1100 мест."
    assert paragraphs[1] == "Проведён городской фестиваль «Сибирь» в онлайн режиме."
    assert [e.title for e in parsed.events] == ["Городской фестиваль «Сибирь»"]


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "cp1251", "koi8_r", "utf-16", "cp866"])
def test_text_encodings_are_detected(codec: str) -> None:
    # KOI8-R and CP866 have no typographic quotes and dashes.
    plain_marks = str.maketrans({"«": '"', "»": '"', "–": "-", "—": "-", "…": "..."})
    text = read(DATA / "omsk-2020.txt").translate(plain_marks)
    assert decode_text(text.encode(codec)) == text
    assert parse_file("omsk.txt", text.encode(codec)) == parse_questionnaire(text)


def test_marks_in_plain_text_are_dropped() -> None:
    text = "ОМСК\nЧто удалось сделать в 2020 году?\nОткрыта \ue000школа\ue001."
    assert parse_file("omsk.txt", text.encode()).achievements == "Открыта школа."


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


SAMPLE_DOCX = make_docx(read(DATA / "omsk-2020.txt"))

BROKEN = {
    "old-word.doc": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "file", "docx"),
    "renamed.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "file", "docx"),
    "truncated.docx": (SAMPLE_DOCX[: len(SAMPLE_DOCX) // 2], "file", "повреждён"),
    "garbage.docx": (b"PK\x03\x04" + b"\x00\x01" * 300, "file", "повреждён"),
    "not-a-document.docx": (b"just some text, not a document", "file", "повреждён"),
    "missing-part.docx": (_zip({"word/document.xml": b"<w:document/>"}), "file", "повреждён"),
    "broken.odt": (
        _zip({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x"}),
        "file",
        "повреждён",
    ),
    "archive.zip": (_zip({"a.txt": b"x"}), "file", "архив"),
    "scan.pdf": (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "file", "PDF"),
    "photo.jpg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "file", "не поддерживается"),
    "binary.txt": (bytes(range(256)) * 4, "file", "кодировк"),
    "empty.txt": (b"", "text", "пуст"),
    "blank.txt": (b" \r\n\t\n", "text", "пуст"),
    "empty.docx": (make_docx(""), "text", "нет текста"),
    "empty.odt": (make_odt(""), "text", "нет текста"),
    "empty.rtf": (b"{\\rtf1\\ansi }", "text", "нет текста"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_and_empty_files_get_a_russian_message(name: str) -> None:
    data, part, words = BROKEN[name]
    with pytest.raises(QuestionnaireError) as info:
        read_document(name, data)
    assert info.value.part == part
    assert words.lower() in info.value.message.lower()
    assert re.search(r"[А-Яа-яЁё]{4}", info.value.message)


def test_size_limits() -> None:
    with pytest.raises(QuestionnaireError) as info:
        read_document("big.txt", b"x" * 2048, max_bytes=1024)
    assert "МБ" in info.value.message
    bomb = _zip({"word/document.xml": b"\x00" * (MAX_UNPACKED_BYTES + 1)})
    assert len(bomb) < 1024 * 1024
    with pytest.raises(QuestionnaireError) as info:
        read_document("bomb.docx", bomb)
    assert "распаковки" in info.value.message


def test_doc_message_says_how_to_save_as_docx() -> None:
    with pytest.raises(QuestionnaireError) as info:
        read_document("анкета.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    assert "Сохранить как" in info.value.message and ".docx" in info.value.message


def test_format_is_taken_from_the_content() -> None:
    odt = make_odt(read(DATA / "omsk-2020.txt"))
    assert read_document("анкета.docx", odt).format == "odt"  # misnamed, still read
    assert read_document("анкета", SAMPLE_DOCX).format == "docx"
    assert read_document("анкета.txt", make_rtf("ОМСК")).format == "rtf"


_ODT_SAMPLE = make_odt(read(DATA / "omsk-2020.txt"))


@settings(max_examples=150, deadline=None, database=None)
@given(
    st.sampled_from(["a.docx", "a.odt", "a.rtf", "a.txt", "a", "a.zip"]),
    st.sampled_from(["docx", "odt", "rtf", "txt"]),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    st.integers(0, 10**6),
)
def test_damaged_files_give_a_questionnaire_error_or_a_document(
    name: str, base: str, flips: list[tuple[int, int]], cut: int
) -> None:
    """Bytes flipped and files cut anywhere: a Russian error or a text, never a crash."""
    source = {"docx": SAMPLE_DOCX, "odt": _ODT_SAMPLE, "rtf": make_rtf("ОМСК\nТекст."),
              "txt": "ОМСК".encode("cp1251")}[base]  # fmt: skip
    data = bytearray(source[: max(1, cut % (len(source) + 1))])
    for position, value in flips:
        data[position % len(data)] = value
    try:
        document = read_document(name, bytes(data))
    except QuestionnaireError as error:
        assert error.part in {"file", "text"} and re.search(r"[А-Яа-я]", error.message)
    else:
        assert isinstance(document.text, str)
