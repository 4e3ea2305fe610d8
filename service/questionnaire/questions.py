"""Recognising the parts of a questionnaire: the city heading, the questions
and the answers under them.

City (:func:`city_name`)
    The first non-empty line is the city heading when it is short (at most
    four words, letters, spaces and hyphens only, optionally after
    ``г.``/``город`` and before a year): ``ОМСК`` -> ``Омск``, ``УЛАН-УДЭ`` ->
    ``Улан-Удэ``, ``КОМСОМОЛЬСК-НА-АМУРЕ`` -> ``Комсомольск-на-Амуре``. A name
    already in mixed case is kept.

Questions (:func:`split_question`, :func:`classify`)
    A paragraph is a question when it ends with ``?`` (an optional
    parenthesised remark may follow) and is shorter than 250 characters; a
    leading number (``1.``, ``2)``, ``Вопрос 3:``) is dropped. A known
    question followed by its answer on the same line is split at the ``?``.
    Questions are classified by meaning:

    * assistance -- mentions ``АСДГ``/``Ассоциаци…`` and ``помо…``/
      ``содейств…``/``поддерж…``;
    * achievements -- ``удалось``/``достигнут…``/``достижени…``/``итог…``;
    * plans -- ``задач…``/``план…``.

    A question that names a year wins over one that does not; questions about
    colleagues (``коллег``, ``других городов``) are never one of the three.
    Everything else -- unknown questions and second copies of known ones --
    is kept in :attr:`Layout.others` with its answer, so no text is lost.

Year (:func:`read_layout`)
    The year of the achievements question (the last year of a range such as
    ``2019–2020``); failing that, the plans year minus one.

Every problem is a :class:`~service.errors.QuestionnaireError` whose ``part``
says what is missing. Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from service.errors import QuestionnaireError
from service.questionnaire.text import (
    BULLET,
    LETTERED,
    MAX_QUESTION_LEN,
    QMARK_END,
    QUESTION_NUMBER,
    QUESTION_START,
    paragraphs,
    plain,
)

QuestionKind = Literal["achievements", "plans", "assistance"]

# --------------------------------------------------------------------------
# City heading

_CITY_PREFIX: Final = re.compile(r"^(?:г\.|гор\.|город(?:ской округ)?\b)\s*", re.IGNORECASE)
_CITY_SUFFIX: Final = re.compile(
    r"[\s,.:–—-]*(?:(?:19|20)\d{2})\s*(?:год[а-я]*|г\.?)?\s*\.?$", re.IGNORECASE
)
_CITY_NAME: Final = re.compile(r"^[A-Za-zА-Яа-яЁё]+(?:(?: |-)[A-Za-zА-Яа-яЁё]+)*$")
_CITY_PARTICLES: Final = frozenset({"на", "де", "он", "над", "при", "у"})


def city_name(line: str) -> str | None:
    """The city named by a heading line, or ``None`` when it is no heading."""
    line = plain(line).strip()
    if QUESTION_START.match(line):
        return None
    name = _CITY_PREFIX.sub("", line)
    name = _CITY_SUFFIX.sub("", name).strip(" .")
    name = re.sub(r"\s*[–—]\s*|\s*-\s*", "-", name)
    if not name or not _CITY_NAME.match(name) or len(name.replace("-", " ").split()) > 4:
        return None
    if name != name.upper() and name != name.lower():
        return name[0].upper() + name[1:]
    words = []
    for i, word in enumerate(re.split(r"([ -])", name.lower())):
        if word in (" ", "-") or (i > 0 and word in _CITY_PARTICLES):
            words.append(word)
        else:
            words.append(word[:1].upper() + word[1:])
    return "".join(words)


# --------------------------------------------------------------------------
# Questions

_YEAR: Final = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_YEAR_RANGE: Final = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-–—]\s*((?:19|20)\d{2})(?!\d)")
_ASSISTANCE_WHO: Final = re.compile(r"асдг|ассоциаци", re.IGNORECASE)
_ASSISTANCE_WHAT: Final = re.compile(r"помо[чщ]|содейств|поддерж", re.IGNORECASE)
_ACHIEVEMENTS: Final = re.compile(r"удалось|достигнут|достижени|итог", re.IGNORECASE)
_PLANS: Final = re.compile(r"задач|план", re.IGNORECASE)
_COLLEAGUES: Final = re.compile(r"коллег|других город|других муниципал", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    text: str
    kind: QuestionKind | None
    year: int | None


def _question_year(question: str) -> int | None:
    if match := _YEAR_RANGE.search(question):
        return int(match.group(1))
    if match := _YEAR.search(question):
        return int(match.group(1))
    return None


def classify(question: str) -> Question:
    year = _question_year(question)
    kind: QuestionKind | None = None
    if _ASSISTANCE_WHO.search(question) and _ASSISTANCE_WHAT.search(question):
        kind = "assistance"
    elif _COLLEAGUES.search(question):
        kind = None
    elif _ACHIEVEMENTS.search(question):
        kind = "achievements"
    elif _PLANS.search(question):
        kind = "plans"
    return Question(question, kind, year)


def split_question(paragraph: str) -> tuple[str, str] | None:
    """``(question, answer on the same line)`` when the paragraph opens a question.

    Both come without bold/italic marks (a question is often set in bold).
    """
    paragraph = plain(paragraph).strip()
    if BULLET.match(paragraph) or LETTERED.match(paragraph):
        return None
    numbered = QUESTION_NUMBER.match(paragraph)
    body = paragraph[numbered.end() :] if numbered else paragraph
    if not body:
        return None
    if len(body) < MAX_QUESTION_LEN and QMARK_END.search(body):
        return body, ""
    starts_like_question = bool(numbered) or bool(QUESTION_START.match(body))
    if not starts_like_question:
        return None
    if len(body) < MAX_QUESTION_LEN and body.endswith(":") and classify(body).kind:
        return body, ""
    mark = body.find("?")
    if 0 < mark < MAX_QUESTION_LEN and classify(body[: mark + 1]).kind:
        return body[: mark + 1], body[mark + 1 :].strip()
    return None


@dataclass
class Section:
    question: Question
    paragraphs: list[str]


def _pick(sections: list[Section], kind: QuestionKind, *, need_year: bool) -> Section | None:
    candidates = [s for s in sections if s.question.kind == kind]
    if need_year:
        with_year = [s for s in candidates if s.question.year is not None]
        candidates = with_year or candidates
    return candidates[0] if candidates else None


@dataclass(frozen=True)
class Layout:
    """A questionnaire's parts, in source paragraphs (not yet Markdown)."""

    city_name: str
    header: list[str]  # the description before the first question
    year: int
    achievements: Section
    plans: Section | None
    assistance: Section | None
    others: list[Section]  # unknown questions and second copies, in order


def _heading(lines: list[str]) -> tuple[str, list[str]]:
    """The city named by the first non-empty line and the lines after it."""
    non_empty = [i for i, line in enumerate(lines) if line]
    if not non_empty:
        raise QuestionnaireError("Текст анкеты пуст.", part="text")
    name = city_name(lines[non_empty[0]])
    if name is None:
        raise QuestionnaireError(
            "Не найдено название города: первая строка анкеты должна содержать только "
            "название города (например, «ОМСК»).",
            part="city",
        )
    return name, lines[non_empty[0] + 1 :]


def _sections(lines: list[str]) -> tuple[list[str], list[Section]]:
    """The paragraphs before the first question, and each question with its answer."""
    header: list[str] = []
    sections: list[Section] = []
    for paragraph in paragraphs(lines):
        split = split_question(paragraph)
        if split is not None:
            question, answer = split
            sections.append(Section(classify(question), [answer] if answer else []))
        elif sections:
            sections[-1].paragraphs.append(paragraph)
        else:
            header.append(paragraph)
    if not sections:
        raise QuestionnaireError(
            "В тексте не найдено ни одного вопроса анкеты (строки, оканчивающейся знаком «?»), "
            "в том числе вопроса о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    return header, sections


def _reporting_year(achievements: Section, plans: Section | None) -> int:
    if achievements.question.year is not None:
        return achievements.question.year
    if plans is not None and plans.question.year is not None:
        return plans.question.year - 1
    raise QuestionnaireError(
        "Не удалось определить отчётный год: укажите его в вопросе о достижениях "
        "(например, «Что удалось сделать в 2020 году?»).",
        part="year",
    )


def read_layout(lines: list[str]) -> Layout:
    """The parts of a questionnaire from its clean lines.

    Raises :class:`~service.errors.QuestionnaireError` with ``part`` set to
    ``"text"`` (nothing to read), ``"city"`` (no city heading), ``"achievements"``
    (no question about the year's achievements, or no answer to it) or
    ``"year"`` (no reporting year in the questions).
    """
    name, rest = _heading(lines)
    header, sections = _sections(rest)
    achievements = _pick(sections, "achievements", need_year=True)
    plans = _pick(sections, "plans", need_year=True)
    assistance = _pick(sections, "assistance", need_year=False)
    if achievements is None:
        raise QuestionnaireError(
            "Не найден вопрос о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    if not achievements.paragraphs:
        raise QuestionnaireError(
            "Нет ответа на вопрос о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    known = {id(s) for s in (achievements, plans, assistance) if s is not None}
    return Layout(
        city_name=name,
        header=header,
        year=_reporting_year(achievements, plans),
        achievements=achievements,
        plans=plans,
        assistance=assistance,
        others=[s for s in sections if id(s) not in known],
    )
