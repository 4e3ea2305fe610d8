"""Questionnaire texts become practice notes and event summaries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from service.entries.service import create_entry
from service.errors import NotFoundError
from service.questionnaire.documents import read_document
from service.questionnaire.events import ParsedEvent
from service.questionnaire.parse import ParsedQuestionnaire, parse_questionnaire
from service.questionnaire.text import plain
from service.questionnaire.topics import event_topics, note_topics
from service.store.models import City, Entry, QuestionnaireImport, db
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


def store_parsed(parsed: ParsedQuestionnaire, city: City, status: str) -> list[Entry]:
    """Add the note and its events to the session (the caller commits)."""
    topics = note_topics(parsed)
    note = create_entry(
        Kind.PRACTICE, _practice_data(parsed, city, status, topics), city=city, commit=False
    )
    created = [note]
    for event in parsed.events:
        data = _event_data(event, city, note.uid, status, topics)
        created.append(create_entry(Kind.EVENT, data, city=city, commit=False))
    return created


def import_questionnaire(text: str, city: City, *, publish: bool = False) -> list[Entry]:
    """Parse and store a practice note and its events in one transaction.

    Raises :class:`~service.errors.QuestionnaireError` (nothing written) when
    the text cannot be read.
    """
    parsed = parse_questionnaire(text)
    status = Status.PUBLISHED.value if publish else Status.DRAFT.value
    try:
        created = store_parsed(parsed, city, status)
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


# --------------------------------------------------------------------------
# Review: drafts kept beside their source until an admin publishes them

#: What the reader guessed, as the review page says it.
FLAGS: dict[str, str] = {
    "topics": "проверьте темы",
    "dates": "даты не указаны — уточните",
    "stage": "запланировано или проведено?",
}


def _guessed(entry: Entry) -> list[str]:
    if entry.kind == Kind.PRACTICE:
        return ["topics"]
    return ["topics", "stage", *(["dates"] if entry.starts_on is None else [])]


def stage_document(
    name: str, data: bytes, city: City, *, max_bytes: int | None = None
) -> QuestionnaireImport:
    """Read a questionnaire file into drafts kept for review with their source
    text and what was guessed, in one transaction.

    Raises :class:`~service.errors.QuestionnaireError` (nothing written).
    """
    limits = {} if max_bytes is None else {"max_bytes": max_bytes}
    document = read_document(name, data, **limits)
    parsed = parse_questionnaire(document.text)
    try:
        created = store_parsed(parsed, city, Status.DRAFT.value)
        db.session.flush()
        record = QuestionnaireImport(
            city_id=city.id,
            filename=name[:300],
            format=document.format,
            source_text=plain(document.text),
            entry_ids=[entry.id for entry in created],
            flags={str(entry.id): _guessed(entry) for entry in created},
        )
        db.session.add(record)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return record


def get_import(import_id: int, city_id: int) -> QuestionnaireImport:
    """A review of the city ``city_id``; another city's is not found."""
    record = db.session.get(QuestionnaireImport, import_id)
    if record is None or record.city_id != city_id:
        raise NotFoundError("Такой загрузки нет.")
    return record


def pending_imports(city_id: int) -> list[QuestionnaireImport]:
    query = (
        select(QuestionnaireImport)
        .where(QuestionnaireImport.city_id == city_id)
        .order_by(QuestionnaireImport.created.desc(), QuestionnaireImport.id.desc())
    )
    return list(db.session.scalars(query))


def drafts_of(record: QuestionnaireImport) -> list[Entry]:
    """The entries made from the upload that still exist, the note first."""
    found = {
        e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_(record.entry_ids)))
    }
    return [found[i] for i in record.entry_ids if i in found]


def flags_of(record: QuestionnaireImport, entry: Entry) -> list[str]:
    """What is still to check in ``entry``, in the review page's words."""
    if entry.status == Status.PUBLISHED:
        return []
    names = list(record.flags.get(str(entry.id), []))
    if entry.kind == Kind.EVENT and entry.starts_on is None and "dates" not in names:
        names.append("dates")
    if entry.kind == Kind.EVENT and entry.starts_on is not None and "dates" in names:
        names.remove("dates")
    return [FLAGS[name] for name in FLAGS if name in names]


def reviewed(record: QuestionnaireImport, entry_ids: list[int]) -> None:
    """The guessed values of these entries were seen by the admin (dates stay
    flagged while they are not known). The caller commits."""
    flags = dict(record.flags)
    for entry_id in entry_ids:
        flags[str(entry_id)] = [f for f in flags.get(str(entry_id), []) if f == "dates"]
    record.flags = flags


def finish_if_done(record: QuestionnaireImport) -> bool:
    """Forget the upload once none of its drafts is left unpublished."""
    if any(entry.status != Status.PUBLISHED for entry in drafts_of(record)):
        return False
    db.session.delete(record)
    db.session.commit()
    return True
