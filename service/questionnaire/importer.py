"""Questionnaire texts become practice notes and event summaries."""

from __future__ import annotations

from typing import Any

from service.entries.service import create_entry
from service.questionnaire.documents import read_document
from service.questionnaire.events import ParsedEvent
from service.questionnaire.parse import ParsedQuestionnaire, parse_questionnaire
from service.questionnaire.topics import event_topics, note_topics
from service.store.models import City, Entry, db
from service.vocab import EventStage, Kind, Status


def practice_title(parsed: ParsedQuestionnaire, city: City) -> str:
    return f"{parsed.area}: {city.name}, {parsed.year}"


def _practice_data(
    parsed: ParsedQuestionnaire, city: City, status: str, topics: list[str]
) -> dict[str, Any]:
    return {
        "title": practice_title(parsed, city),
        "area": parsed.area,
        "year": parsed.year,
        "summary": parsed.summary,
        "achievements": parsed.achievements,
        "plans": parsed.plans,
        "assistance": parsed.assistance,
        "body": parsed.body,
        "topics": topics,
        "status": status,
    }


def _event_data(
    event: ParsedEvent, city: City, related: str, status: str, topics: list[str]
) -> dict[str, Any]:
    # A questionnaire names the year, maybe the month or the days; never
    # placeholder dates (contract v2).
    return {
        "title": event.title,
        "stage": EventStage(event.stage).value,
        "year": event.year,
        "month": event.month,
        "starts_on": event.starts_on,
        "ends_on": event.ends_on,
        "format": event.format,
        "level": event.level,
        "location": city.name,
        "summary": event.summary,
        "results": "",
        "topics": event_topics(event, topics),
        "related": related,
        "status": status,
    }


def import_questionnaire(text: str, city: City, *, publish: bool = False) -> list[Entry]:
    """Parse and store a practice note and its events in one transaction.

    Raises :class:`~service.errors.QuestionnaireError` (nothing written) when
    the text cannot be read.
    """
    parsed = parse_questionnaire(text)
    status = Status.PUBLISHED.value if publish else Status.DRAFT.value
    topics = note_topics(parsed)
    try:
        note = create_entry(
            Kind.PRACTICE, _practice_data(parsed, city, status, topics), city=city, commit=False
        )
        created = [note]
        for event in parsed.events:
            data = _event_data(event, city, note.uid, status, topics)
            created.append(create_entry(Kind.EVENT, data, city=city, commit=False))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return created


def import_document(
    name: str, data: bytes, city: City, *, publish: bool = False, max_bytes: int | None = None
) -> list[Entry]:
    """Read a questionnaire file (``.txt``, ``.docx``, ``.odt``, ``.rtf``) and
    store it as :func:`import_questionnaire` does, in one transaction.

    Raises :class:`~service.errors.QuestionnaireError` (nothing written) when
    the file or its text cannot be read.
    """
    limits = {} if max_bytes is None else {"max_bytes": max_bytes}
    document = read_document(name, data, **limits)
    return import_questionnaire(document.text, city, publish=publish)
