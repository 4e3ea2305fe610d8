"""Office documents built in the tests from a questionnaire text.

Each paragraph of the text (lines up to a blank line, a list item or a
sentence's end) becomes a paragraph; those starting with ``- `` or ``1. `` become
list items (bulleted or numbered lists of the format); lines
ending with ``?`` (the questions) are set in bold; ``*word*`` in a line is set
in italic. The documents are made with the formats' own libraries
(python-docx, odfpy) and an RTF writer here (RTF is plain text).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import docx
from odf.opendocument import OpenDocumentText
from odf.style import Style, TextProperties
from odf.text import H, List, ListItem, ListLevelStyleNumber, ListStyle, P, Span

_ITEM = re.compile(r"^(?:(- )|(\d+)\. )")


def _paragraphs(text: str) -> Iterator[str]:
    """The paragraphs a Word user would have: lines run on until a blank line,
    a list item or the end of a sentence; the first line alone."""
    current: list[str] = []
    for i, raw in enumerate(line.strip() for line in text.splitlines()):
        if current and (not raw or _ITEM.match(raw)):
            yield " ".join(current)
            current = []
        if raw:
            current.append(raw)
        if current and (i == 0 or raw.endswith((".", "!", "?", "…", ":", ";"))):
            yield " ".join(current)
            current = []
    if current:
        yield " ".join(current)


def _lines(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) for each paragraph: kind is heading, bullet, number, question, p."""
    for i, raw in enumerate(_paragraphs(text)):
        if i == 0:
            yield "heading", raw
        elif match := _ITEM.match(raw):
            yield ("bullet" if match.group(1) else "number"), raw[match.end() :]
        elif raw.endswith("?"):
            yield "question", raw
        else:
            yield "p", raw


def _runs(line: str) -> Iterator[tuple[str, bool]]:
    """(text, italic) runs of a line with ``*italic*`` parts."""
    for i, part in enumerate(re.split(r"\*([^*]+)\*", line)):
        if part:
            yield part, i % 2 == 1


def make_docx(text: str) -> bytes:
    document = docx.Document()
    styles = {"bullet": "List Bullet", "number": "List Number"}
    for kind, line in _lines(text):
        if kind == "heading":
            document.add_heading(line, level=1)
            continue
        paragraph = document.add_paragraph(style=styles.get(kind))
        for part, italic in _runs(line):
            run = paragraph.add_run(part)
            run.bold = kind == "question"
            run.italic = italic
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_odt(text: str) -> bytes:
    document = OpenDocumentText()
    bold = Style(name="Bold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    italic = Style(name="Italic", family="text")
    italic.addElement(TextProperties(fontstyle="italic"))
    numbered = ListStyle(name="Numbered")
    numbered.addElement(ListLevelStyleNumber(level=1, numformat="1"))
    for style in (bold, italic, numbered):
        document.automaticstyles.addElement(style)
    current: tuple[str, List] | None = None
    for kind, line in _lines(text):
        if kind == "heading":
            document.text.addElement(H(outlinelevel=1, text=line))
            continue
        paragraph = P()
        for part, is_italic in _runs(line):
            style = italic if is_italic else bold if kind == "question" else None
            if style is None:
                paragraph.addText(part)
            else:
                paragraph.addElement(Span(stylename=style, text=part))
        if kind in ("bullet", "number"):
            if current is None or current[0] != kind:
                items = List(stylename=numbered) if kind == "number" else List()
                document.text.addElement(items)
                current = (kind, items)
            item = ListItem()
            item.addElement(paragraph)
            current[1].addElement(item)
        else:
            current = None
            document.text.addElement(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _rtf_escape(text: str) -> str:
    out = []
    for char in text:
        if char in "\\{}":
            out.append("\\" + char)
        elif ord(char) < 128:
            out.append(char)
        else:
            try:
                out.append(f"\\'{char.encode('cp1251')[0]:02x}")
            except UnicodeEncodeError:
                code = ord(char)
                out.append(f"\\u{code if code < 32768 else code - 65536}?")
    return "".join(out)


def make_rtf(text: str) -> bytes:
    """An RTF document as Word writes it: Windows-1251 bytes as ``\\'xx``,
    list markers kept in the text, questions in bold."""
    body = []
    for line in _paragraphs(text):
        escaped = "".join(
            f"{{\\i {_rtf_escape(part)}}}" if italic else _rtf_escape(part)
            for part, italic in _runs(line)
        )
        if line.endswith("?"):
            escaped = f"{{\\b {escaped}}}"
        body.append(f"\\pard {escaped}\\par")
    document = (
        "{\\rtf1\\ansi\\ansicpg1251\\deff0{\\fonttbl{\\f0\\froman\\fcharset204 Times New Roman;}}"
        "\\f0\\fs24\n" + "\n".join(body) + "\n}"
    )
    return document.encode("ascii")
