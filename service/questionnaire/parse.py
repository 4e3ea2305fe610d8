"""Read the yearly questionnaire texts that ASDG member cities send in.

A questionnaire is plain text copied out of a word processor::

    ОМСК
    Организационная деятельность Администрации города Омска строится
    по нескольким направлениям:
    - ...
    Что наиболее значительное удалось сделать в 2020 году?
    <answer>
    Какие задачи стоят в 2021 году?
    <answer>
    Какую помощь и содействие может оказать АСДГ в решении стоящих проблем?
    <answer>

:func:`parse_questionnaire` turns such a text into a :class:`ParsedQuestionnaire`
(long fields as CommonMark) and the events the answers name
(:class:`~service.questionnaire.events.ParsedEvent`). Each step has its module:

* :mod:`~service.questionnaire.text` -- clean-up, broken lines, sentences, Markdown;
* :mod:`~service.questionnaire.questions` -- the city heading, the questions and
  their answers, the reporting year;
* :mod:`~service.questionnaire.area` -- the area of activity;
* :mod:`~service.questionnaire.events` (with :mod:`~service.questionnaire.grammar`)
  -- the events named in the answers.

Pure: standard library only, no Flask, no database. Every problem is a
:class:`~service.errors.QuestionnaireError` whose ``part`` says what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.questionnaire.area import area_of
from service.questionnaire.events import ParsedEvent, dedupe, events_in
from service.questionnaire.questions import Section, read_layout
from service.questionnaire.text import clean_lines, markdown, md_escape

__all__ = ["ParsedEvent", "ParsedQuestionnaire", "parse_questionnaire"]


@dataclass(frozen=True)
class ParsedQuestionnaire:
    """A questionnaire split into its parts; long text fields are Markdown."""

    city_name: str
    area: str
    summary: str
    year: int
    achievements: str
    plans: str
    assistance: str
    body: str
    events: tuple[ParsedEvent, ...]


def _answer(section: Section | None) -> str:
    return markdown(section.paragraphs) if section is not None else ""


def _body(others: list[Section]) -> str:
    """Unknown questions in bold, each followed by its answer."""
    return "\n\n".join(
        f"**{md_escape(s.question.text)}**"
        + (f"\n\n{markdown(s.paragraphs)}" if s.paragraphs else "")
        for s in others
    )


def parse_questionnaire(text: str) -> ParsedQuestionnaire:
    """Parse a questionnaire text (see the modules' notes for the rules).

    Raises :class:`~service.errors.QuestionnaireError` with ``part`` set to
    ``"text"`` (nothing to read), ``"city"`` (no city heading), ``"achievements"``
    (no question about the year's achievements, or no answer to it) or
    ``"year"`` (no reporting year in the questions).
    """
    layout = read_layout(clean_lines(text))
    year = layout.year
    events = events_in(layout.achievements.paragraphs, year, "achievements")
    if layout.plans is not None:
        events += events_in(layout.plans.paragraphs, year + 1, "plans")
    return ParsedQuestionnaire(
        city_name=layout.city_name,
        area=area_of(layout.header),
        summary=markdown(layout.header),
        year=year,
        achievements=_answer(layout.achievements),
        plans=_answer(layout.plans),
        assistance=_answer(layout.assistance),
        body=_body(layout.others),
        events=dedupe(events),
    )
