"""Events named in the achievements and plans answers.

Each sentence of the two answers is cut into clauses at ``, а также``,
``, и``, ``, а``, ``, в том числе`` and ``;``; each clause is searched for
event names (:mod:`service.questionnaire.names`). For each event:

Stage
    ``held`` or ``planned`` from the verbs of its clause, else of its sentence
    (:func:`~service.questionnaire.grammar.stage_of_words`: "проведён",
    "состоялся" -> held; "будет проведён", "планируется", "провести" ->
    planned), else from the question it answers (achievements -> held, plans
    -> planned). A postponed event ("перенесён на следующий год") is planned
    for the next year.
Year and month
    A year named in the clause (within a year before and two after the
    reporting year); else the reporting year (achievements) or the next
    (plans). The month and days named in the clause, the nearest to the name
    (``в сентябре``, ``12 июня`` -> both dates, ``с 15 по 17 июля``); when the
    clause names no time of its own, the one month its sentence names, if only
    one.
Format
    ``hybrid`` for гибрид/смешанн or both online and offline words, ``online``
    for онлайн/дистанционно/видеоконференц/вебинар..., ``offline`` for
    очно/в обычном режиме and by default; the clause decides first, then its
    sentence.
Level
    From the title, then the clause -- СНГ/международн/государств/стран ->
    international; России/российск/межрегиональн/всероссийск/федеральн/АСДГ
    -> interregional; област/края/краев/региональн/республик -> regional;
    else municipal.
Summary
    The sentence naming the event, whole, without a leading connective
    ("Кроме того,", "Так,", "Также"), capitalised and ending with a stop.

Same title and year -> one event (the first). Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from service.questionnaire.dates import When, dates_of, has_time_words, times, years
from service.questionnaire.grammar import Stage, stage_of_words
from service.questionnaire.names import MAX_TITLE_LEN, title_at, triggers
from service.questionnaire.text import (
    capitalise,
    mask_quotes,
    md_escape,
    plain,
    sentences,
    strip_list_marker,
)

__all__ = ["MAX_TITLE_LEN", "EventFormat", "EventLevel", "ParsedEvent", "dedupe", "events_in"]

EventFormat = Literal["online", "offline", "hybrid"]
EventLevel = Literal["municipal", "regional", "interregional", "international"]
SourceSection = Literal["achievements", "plans"]


@dataclass(frozen=True)
class ParsedEvent:
    """An event named in the achievements or plans answer."""

    title: str
    year: int
    format: EventFormat
    level: EventLevel
    summary: str
    source_section: SourceSection
    stage: Stage
    month: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None


_CLAUSE_SPLIT: Final = re.compile(
    r"\s*(?:,\s*а\s+(?:также|так\s+же)|\s+а\s+также|,\s*и\s+также|,\s*также|,\s*и"
    r"|,\s*в\s+том\s+числе|,\s*а(?=\s)|;)\s+",
    re.IGNORECASE,
)
_WORD: Final = re.compile(r"[А-Яа-яЁё]+")
_CONNECTIVE: Final = re.compile(
    r"^(?:кроме\s+(?:того|этого|того\s+же)|помимо\s+(?:этого|того|прочего)|так|также|так\s+же"
    r"|вместе\s+с\s+тем|при\s+этом|наряду\s+с\s+этим|более\s+того|однако|таким\s+образом"
    r"|в\s+частности|например|итак|кроме\s+перечисленного|в\s+том\s+числе|к\s+тому\s+же"
    r"|в\s+дополнение|дополнительно)(?:\s*,\s*|\s+(?=[а-яёa-z0-9«\"]))",
    re.IGNORECASE,
)
_YEAR_BEFORE: Final = 1
_YEAR_AFTER: Final = 2


# --------------------------------------------------------------------------
# Format and level


def format_of(text: str) -> EventFormat | None:
    low = text.lower()
    hybrid = re.search(r"гибридн|смешанн|hybrid|очно-дистанц|очно-заочн", low)
    online = re.search(
        r"онлайн|он-лайн|online|дистанционн|видеоконференц|видео-конференц|вебинар"
        r"|видеосвяз|виртуальн|в сети интернет|в социальных сетях",
        low,
    )
    offline = re.search(
        r"(?<!\w)очн\w*|офлайн|оффлайн|offline|в обычном (?:режиме|формате)"
        r"|в традиционном формате",
        low,
    )
    if hybrid or (online and offline):
        return "hybrid"
    if online:
        return "online"
    if offline:
        return "offline"
    return None


_INTERNATIONAL: Final = re.compile(
    r"(?<!\w)снг(?!\w)|международн|межгосударствен|государств(?!енн)|зарубежн|иностран"
    r"|(?<!\w)стран(?:ы|ах|ами)?(?!\w)",
)
_INTERREGIONAL: Final = re.compile(
    r"(?<!\w)росси(?:и|я|ю|ей)(?!\w)|российск|межрегиональн|всероссийск|федеральн|асдг"
)
_REGIONAL: Final = re.compile(r"област|(?<!\w)края(?!\w)|краев|региональн|республик")


def level_of(*texts: str) -> EventLevel:
    for text in texts:
        low = text.lower()
        if _INTERNATIONAL.search(low):
            return "international"
        if _INTERREGIONAL.search(low):
            return "interregional"
        if _REGIONAL.search(low):
            return "regional"
    return "municipal"


# --------------------------------------------------------------------------
# Summary


def summary_of(sentence: str) -> str:
    """The sentence as an event summary: no leading connective, capitalised,
    ending with a stop (Markdown-escaped)."""
    text = _CONNECTIVE.sub("", sentence.strip(), count=1) or sentence.strip()
    text = re.sub(r"[\s,;:–—-]+$", "", text)
    if text and not re.search(r"[.!?…][»\")]*$", text):
        text += "."
    return md_escape(capitalise(text))


# --------------------------------------------------------------------------
# Stage, year, month


@dataclass(frozen=True)
class _Context:
    """Where an event is named: its clause and sentence (both quote-masked)."""

    clause: str
    sentence: str
    position: int  # of the event's name in the clause
    section: SourceSection
    report_year: int


def _stage(context: _Context) -> tuple[Stage, bool]:
    stage, postponed = stage_of_words(_WORD.findall(context.clause))
    if stage is None:
        stage, postponed_in_sentence = stage_of_words(_WORD.findall(context.sentence))
        postponed = postponed or postponed_in_sentence
    if postponed:
        return "planned", True
    if stage is None:
        stage = "held" if context.section == "achievements" else "planned"
    return stage, False


def _year(context: _Context, postponed: bool) -> int:
    report = context.report_year
    for year in years(context.clause):
        if report - _YEAR_BEFORE <= year <= report + _YEAR_AFTER:
            return year
    if postponed or context.section == "plans":
        return report + 1
    return report


def _when(context: _Context) -> tuple[When | None, bool]:
    """The time named for the event and whether it is the clause's own."""
    own = times(context.clause)
    if own:
        return min(own, key=lambda when: abs(when.start - context.position)), True
    if has_time_words(context.clause):
        return None, False
    months = {when.month for when in times(context.sentence)}
    if len(months) == 1:
        return times(context.sentence)[0], False
    return None, False


@dataclass(frozen=True)
class _Timing:
    stage: Stage
    year: int
    month: int | None
    starts_on: date | None
    ends_on: date | None


def timing(context: _Context) -> _Timing:
    stage, postponed = _stage(context)
    year = _year(context, postponed)
    when, own = (None, False) if postponed else _when(context)
    if when is None:
        return _Timing(stage, year, None, None, None)
    if own and when.year is not None and abs(when.year - context.report_year) <= _YEAR_AFTER:
        year = when.year
    starts_on, ends_on = dates_of(when, year) if own else (None, None)
    return _Timing(stage, year, when.month, starts_on, ends_on)


# --------------------------------------------------------------------------
# Events of an answer


def _clauses(sentence: str, masked_sentence: str) -> Iterator[tuple[str, str]]:
    """The clauses of ``sentence``, each with its quote-masked copy."""
    bounds = [0]
    for split in _CLAUSE_SPLIT.finditer(masked_sentence):
        bounds.extend((split.start(), split.end()))
    bounds.append(len(sentence))
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        yield sentence[a:b], masked_sentence[a:b]


def _titles_in(clause: str, masked: str) -> Iterator[tuple[str, int]]:
    """The titles in a clause and where each starts."""
    position = 0
    while True:
        trigger = next(triggers(masked, position), None)
        if trigger is None:
            return
        found = title_at(clause, masked, trigger)
        if found is None:
            position = trigger.end
            continue
        title, end = found
        yield title, trigger.start
        position = max(end, trigger.end)


def _sentence_events(
    sentence: str, section: SourceSection, report_year: int
) -> Iterator[ParsedEvent]:
    masked_sentence = mask_quotes(sentence)
    summary = summary_of(sentence)
    for clause, masked in _clauses(sentence, masked_sentence):
        for title, position in _titles_in(clause, masked):
            context = _Context(masked, masked_sentence, position, section, report_year)
            when = timing(context)
            yield ParsedEvent(
                title=title,
                year=when.year,
                format=format_of(clause) or format_of(sentence) or "offline",
                level=level_of(title, clause),
                summary=summary,
                source_section=section,
                stage=when.stage,
                month=when.month,
                starts_on=when.starts_on,
                ends_on=when.ends_on,
            )


def events_in(
    answer: list[str], year: int, section: SourceSection, *, report_year: int | None = None
) -> list[ParsedEvent]:
    """The events the paragraphs of one ``answer`` name, in order (with repeats).

    ``year`` is the answer's year (the reporting year for achievements, the
    next for plans).
    """
    report = report_year if report_year is not None else year - (section == "plans")
    events: list[ParsedEvent] = []
    for paragraph in answer:
        for sentence in sentences(strip_list_marker(plain(paragraph).strip())):
            events.extend(_sentence_events(sentence, section, report))
    return events


def dedupe(events: Iterable[ParsedEvent]) -> tuple[ParsedEvent, ...]:
    """``events`` without repeats of the same title (any case, ё as е) and year."""
    seen: set[tuple[str, int]] = set()
    out: list[ParsedEvent] = []
    for event in events:
        key = (event.title.lower().replace("ё", "е"), event.year)
        if key not in seen:
            seen.add(key)
            out.append(event)
    return tuple(out)
