"""Reading the text: clean lines, paragraphs, sentences and CommonMark.

Clean-up
    CRLF/CR line ends, a BOM, zero-width characters, soft hyphens,
    non-breaking and other exotic spaces, tabs, repeated and trailing spaces
    are normalised away (:func:`clean_lines`).

Broken lines (:func:`paragraphs`)
    Consecutive lines are joined into one paragraph when the second starts
    with a lower-case letter (unless the first ends with ``?``, ``:`` or
    ``;``), when the first ends with an abbreviation such as ``г.``, when the
    first is the beginning of a question (``Что ...``, ``Какую ...``) that the
    next line finishes, or when the first is long (six words or more) and does
    not end with sentence punctuation. Blank lines, list markers (``-``,
    ``–``, ``•``, ``* ``, ``1.``, ``2)``, ``а)``) and lines ending with
    ``.``/``!``/``?``/``…``/``:``/``;`` always end a paragraph. What a
    question line looks like (:data:`QMARK_END`, :data:`QUESTION_START`) lives
    here because joining lines depends on it.

Markdown (:func:`markdown`)
    Long text fields are CommonMark: one paragraph per source paragraph,
    separated by a blank line; list items as ``- item`` (numbered items as
    ``1. item``); characters that Markdown would read as markup (``*``,
    ``_``, backquote, brackets, ``<``, a leading ``#`` ...) are
    backslash-escaped.

Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

MAX_QUESTION_LEN: Final = 250


def word_set(text: str) -> frozenset[str]:
    """The space-separated words of ``text`` as a set (for word lists)."""
    return frozenset(text.split())


# --------------------------------------------------------------------------
# Clean-up

_LINE_BREAKS: Final = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x85": "\n", "\x0b": "\n"})
_INVISIBLE: Final = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\ufffe"))
_SPACES: Final = dict.fromkeys(
    map(ord, "\t\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        "\u2009\u200a\u202f\u205f\u3000"),
    " ",
)  # fmt: skip
_MULTI_SPACE: Final = re.compile(r" {2,}")


def clean_lines(text: str) -> list[str]:
    """The lines of ``text``, normalised (see the module notes) and stripped."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    text = text.translate(_INVISIBLE).translate(_SPACES)
    return [_MULTI_SPACE.sub(" ", line).strip() for line in text.split("\n")]


# --------------------------------------------------------------------------
# Line shapes: list items and questions

BULLET: Final = re.compile(r"^(?:[-–—•·▪●◦○■□➢►✓]\s*|\*\s+)(?=\S)")
NUMBERED: Final = re.compile(r"^(\d{1,2})\s*[.)]\s+(?=\S)")
LETTERED: Final = re.compile(r"^[а-яa-z]\)\s+(?=\S)")
QUESTION_NUMBER: Final = re.compile(
    r"^(?:вопрос\s*(?:№\s*)?\d{1,2}\s*[.:)]?|№?\s*\d{1,2}\s*[.):])\s*", re.IGNORECASE
)
QUESTION_START: Final = re.compile(
    r"^(?:(?:вопрос\s*)?\d{1,2}\s*[.):]\s*)?"
    r"(?:что|чего|чем|как\w*|кто|где|когда|почему|зачем|сколько|назовите|опишите|"
    r"есть ли|в ч[её]м|в как\w+|на как\w+|с как\w+|по как\w+|за сч[её]т чего)\b",
    re.IGNORECASE,
)
QMARK_END: Final = re.compile(r"\?\s*(?:\([^()]*\))?$")
ABBREVIATIONS: Final = word_set(
    "г гг ул им т д др пр руб тыс млн млрд чел ст просп пл обл р н э см стр кв км "
    "пос с мкр ок пер наб б-р туп ш"
)
_SENTENCE_END: Final = ".!?…"


def is_list_item(line: str) -> bool:
    return bool(BULLET.match(line) or NUMBERED.match(line) or LETTERED.match(line))


def strip_list_marker(text: str) -> str:
    """``text`` without a leading bullet, number or letter."""
    for pattern in (BULLET, NUMBERED, LETTERED):
        text = pattern.sub("", text, count=1)
    return text


def looks_like_question(line: str) -> bool:
    body = QUESTION_NUMBER.sub("", line, count=1)
    return len(body) < MAX_QUESTION_LEN and bool(QMARK_END.search(body))


# --------------------------------------------------------------------------
# Paragraphs


def _first_letter(line: str) -> str:
    for char in line:
        if char.isalpha():
            return char
        if char.isdigit():
            return ""
    return ""


def _ends_with_abbreviation(line: str) -> bool:
    match = re.search(r"(?:^|\s)([A-Za-zА-Яа-яЁё-]+)\.$", line)
    return match is not None and match.group(1).lower() in ABBREVIATIONS


def _should_join(prev: str, line: str) -> bool:
    """Whether ``line`` continues the paragraph ``prev`` (a broken line)."""
    if is_list_item(line) or QMARK_END.search(prev):
        return False
    if prev.endswith((":", ";")):
        return False
    if _ends_with_abbreviation(prev):
        return True
    if _first_letter(line[:2]).islower():
        return True
    if prev[-1] in _SENTENCE_END:
        return False
    if (
        QUESTION_START.match(prev)
        and QMARK_END.search(line)
        and len(prev) + len(line) < MAX_QUESTION_LEN
        and not re.search(r"[.!?…;]\s", prev)
    ):
        return True
    if looks_like_question(line):
        return False
    return is_list_item(prev) or len(prev.split()) >= 6


def paragraphs(lines: Iterable[str]) -> list[str]:
    """Join broken lines; each result is one paragraph or one list item."""
    out: list[str] = []
    current: str | None = None
    for line in lines:
        if not line:
            if current is not None:
                out.append(current)
            current = None
        elif current is None:
            current = line
        elif _should_join(current, line):
            glue = "" if re.search(r"\w-$", current) and line[:1].islower() else " "
            current = current + glue + line
        else:
            out.append(current)
            current = line
    if current is not None:
        out.append(current)
    return out


# --------------------------------------------------------------------------
# Sentences


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, minding ``г.``, ``т.д.`` and initials."""
    out: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?…]+[»\"”)]*\s+(?=[«\"„(]?[А-ЯЁA-Z0-9])", text):
        if text[match.start()] == ".":
            before = re.search(r"([A-Za-zА-Яа-яЁё-]+)$", text[start : match.start()])
            word = before.group(1) if before else ""
            if word.lower() in ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue
        out.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def strip_trailing(text: str) -> str:
    return re.sub(r"[\s,.;:–—-]+$", "", text.strip())


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------
# Markdown

_MD_INLINE: Final = re.compile(r"([\\`*_\[\]<])")
_MD_LINE_START: Final = re.compile(r"^(?:([#>+=|~-])|(\d+)([.)]))")


def md_escape(text: str) -> str:
    text = _MD_INLINE.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match and match.group(1):
        return "\\" + text
    if match:
        return match.group(2) + "\\" + text[match.end(2) :]
    return text


def markdown(paragraphs: Iterable[str]) -> str:
    """Paragraphs as CommonMark: blank line between blocks, tight lists."""
    out: list[str] = []
    previous_kind = ""
    for paragraph in paragraphs:
        if match := NUMBERED.match(paragraph):
            kind = "ol"
            line = f"{match.group(1)}. {md_escape(paragraph[match.end() :])}"
        elif match := BULLET.match(paragraph):
            kind = "ul"
            line = f"- {md_escape(paragraph[match.end() :])}"
        elif LETTERED.match(paragraph):
            kind = "ul"
            line = f"- {md_escape(paragraph)}"
        else:
            kind = "p"
            line = md_escape(paragraph)
        if out:
            out.append("\n" if kind != "p" and kind == previous_kind else "\n\n")
        out.append(line)
        previous_kind = kind
    return "".join(out)
