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

Marks
    Office documents keep bold and italic: their runs stand between
    :data:`STRONG` and :data:`EMPH` marks (private-use characters), balanced on
    every line (:func:`tidy_marks`). Shapes (questions, list items, headings)
    are read from the text without marks (:func:`plain`).

Markdown (:func:`markdown`)
    Long text fields are CommonMark: one paragraph per source paragraph,
    separated by a blank line; list items as ``- item`` (numbered items as
    ``1. item``); marked runs as ``**bold**`` and ``*italic*``; characters
    that Markdown would read as markup (``*``, ``_``, backquote, brackets,
    ``<``, a leading ``#`` ...) are backslash-escaped.

Pure: standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Final

MAX_QUESTION_LEN: Final = 250

#: Marks around a bold and an italic run of an office document.
STRONG: Final = "\ue000"
EMPH: Final = "\ue001"
_NO_MARKS: Final = dict.fromkeys(map(ord, STRONG + EMPH))


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
# Marks


def plain(text: str) -> str:
    """``text`` without bold/italic marks."""
    return text.translate(_NO_MARKS)


def _runs(line: str) -> tuple[list[str], list[str]]:
    """The line as text pieces and mark characters, marks well nested, and
    the marks left open at its end (closed in the pieces).

    A mark closes the innermost open run when it is the same mark; a mark
    closing an outer run first closes (and later reopens) the inner one.
    """
    tokens: list[str] = []
    stack: list[str] = []
    piece = ""
    for char in line:
        if char not in (STRONG, EMPH):
            piece += char
            continue
        tokens.append(piece)
        piece = ""
        if char not in stack:
            stack.append(char)
            tokens.append(char)
            continue
        inner = stack[stack.index(char) + 1 :]
        tokens.extend(reversed(inner))
        tokens.append(char)
        stack.remove(char)
        tokens.extend(inner)
    tokens.append(piece)
    tokens.extend(reversed(stack))
    return [t for t in tokens if t], stack


def _is_mark(token: str) -> bool:
    return token in (STRONG, EMPH)


def _tidy_step(tokens: list[str]) -> bool:
    """Make one fix in ``tokens`` (see :func:`_tidy_line`); whether one was made."""
    for i in range(len(tokens) - 1):
        a, b = tokens[i], tokens[i + 1]
        if _is_mark(a) and a == b:  # an empty run
            del tokens[i : i + 2]
            return True
        opening = _is_mark(a) and tokens[: i + 1].count(a) % 2 == 1
        if opening and not _is_mark(b) and b.startswith(" "):
            tokens[i : i + 2] = [" ", a, b[1:]] if b[1:] else [" ", a]
            return True
        closing = _is_mark(b) and tokens[: i + 1].count(b) % 2 == 1
        if closing and not _is_mark(a) and a.endswith(" "):
            tokens[i : i + 2] = [a[:-1], b, " "] if a[:-1] else [b, " "]
            return True
    return False


def _tidy_line(line: str) -> str:
    """Spaces moved out of marked runs and empty runs dropped."""
    tokens, _ = _runs(line)
    while _tidy_step(tokens):
        pass
    return "".join(tokens)


def tidy_marks(text: str) -> str:
    """Marks balanced on every line (runs over a line break are closed at its
    end and reopened after it), spaces outside the runs, no empty runs."""
    out: list[str] = []
    carried = ""
    for line in text.split("\n"):
        line = carried + line
        carried = "".join(_runs(line)[1])
        out.append(_tidy_line(line))
    return "\n".join(out)


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


def _should_join(marked_prev: str, marked_line: str) -> bool:
    """Whether ``line`` continues the paragraph ``prev`` (a broken line)."""
    prev, line = plain(marked_prev), plain(marked_line)
    if not prev or not line:
        return bool(prev) and not line
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


def mask_quotes(text: str) -> str:
    """Replace what is inside quotes with ``x`` so cuts never happen there."""

    def hide(match: re.Match[str]) -> str:
        inner = match.group(0)
        return inner[0] + "x" * (len(inner) - 2) + inner[-1]

    return re.sub(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"", hide, text)


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, minding ``г.``, ``т.д.``, initials and
    names in quotes («Алтай. Слово и цифра»)."""
    out: list[str] = []
    start = 0
    masked = mask_quotes(text)
    for match in re.finditer(r"[.!?…]+[»\"”)]*\s+(?=[«\"„(]?[А-ЯЁA-Z0-9])", masked):
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
    """``text`` with Markdown's markup characters escaped; marks become
    ``**``/``*`` when they are balanced, and are dropped otherwise."""
    text = _MD_INLINE.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match and match.group(1):
        return _render_marks("\\" + text)
    if match:
        text = match.group(2) + "\\" + text[match.end(2) :]
    return _render_marks(text)


def _render_marks(text: str) -> str:
    if STRONG not in text and EMPH not in text:
        return text
    if text.count(STRONG) % 2 or text.count(EMPH) % 2:
        return plain(text)
    return text.replace(STRONG, "**").replace(EMPH, "*")


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
