"""Read-only questions the reading pages ask, beyond the entry lists of service.entries.service.

Only published entries count here: these are the public pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from service.store.models import City, Entry, Topic, db, entry_topics
from service.vocab import Kind, Status

PUBLISHED = Entry.status == Status.PUBLISHED


def published_years() -> list[int]:
    """Years that have published entries, newest first (for the year filter)."""
    query = select(Entry.year).where(PUBLISHED, Entry.year.is_not(None)).distinct()
    return sorted(db.session.scalars(query), reverse=True)


def get_topic(code: str) -> Topic | None:
    return db.session.get(Topic, code)


def all_topics() -> list[Topic]:
    return list(db.session.scalars(select(Topic).order_by(Topic.position)))


def same_topic_elsewhere(entry: Entry, per_topic: int = 4) -> list[tuple[Topic, list[Entry]]]:
    """For each topic of the entry: practice notes on it from other cities, newest first."""
    found = []
    for topic in entry.topics:
        query = (
            select(Entry)
            .where(
                PUBLISHED,
                Entry.kind == Kind.PRACTICE,
                Entry.city_id != entry.city_id,
                Entry.topics.any(Topic.code == topic.code),
            )
            .order_by(Entry.year.desc().nulls_last(), Entry.updated.desc(), Entry.id.desc())
            .limit(per_topic)
        )
        found.append((topic, list(db.session.scalars(query).unique())))
    return found


#: How many candidate events :func:`similar_events` scores (the newest ones).
SIMILAR_CANDIDATES = 300


def similar_events(event: Entry, limit: int = 4) -> list[Entry]:
    """Published events of other cities most like ``event``: shared topics, format, tags.

    A shared topic counts 2, the same format 1, each shared tag 1; events
    sharing nothing are left out; ties go to the newest. Only the newest
    :data:`SIMILAR_CANDIDATES` events that share a topic or the format are scored.
    """
    codes = [t.code for t in event.topics]
    alike = [Entry.topics.any(Topic.code.in_(codes))] if codes else []
    if event.format:
        alike.append(Entry.format == event.format)
    if not alike:
        return []
    query = (
        select(Entry)
        .where(PUBLISHED, Entry.kind == Kind.EVENT, Entry.city_id != event.city_id, or_(*alike))
        .order_by(Entry.starts_on.desc().nulls_last(), Entry.id.desc())
        .limit(SIMILAR_CANDIDATES)
    )
    tags = {t.casefold() for t in event.tags or ()}

    def score(other: Entry) -> int:
        topics = len(set(codes) & {t.code for t in other.topics})
        same_format = int(bool(event.format) and other.format == event.format)
        return 2 * topics + same_format + len(tags & {t.casefold() for t in other.tags or ()})

    scored = [(score(other), other) for other in db.session.scalars(query).unique()]
    ranked = sorted((pair for pair in scored if pair[0] > 0), key=lambda p: -p[0])
    return [other for _, other in ranked[:limit]]


def events_of(practice: Entry) -> list[Entry]:
    """Published events that name the practice note as related."""
    query = (
        select(Entry)
        .where(PUBLISHED, Entry.kind == Kind.EVENT, Entry.related_uid == practice.uid)
        .order_by(Entry.starts_on.desc(), Entry.id.desc())
    )
    return list(db.session.scalars(query).unique())


def published_entry(uid: str | None) -> Entry | None:
    if not uid:
        return None
    return db.session.scalar(select(Entry).where(PUBLISHED, Entry.uid == uid))


@dataclass(frozen=True)
class Tally:
    """How many published notes and events something has."""

    practices: int = 0
    events: int = 0

    @property
    def total(self) -> int:
        return self.practices + self.events


def _tallies(rows: list[tuple[object, str, int]]) -> dict[object, Tally]:
    out: dict[object, Tally] = {}
    for key, kind, count in rows:
        old = out.get(key, Tally())
        if kind == Kind.PRACTICE:
            out[key] = Tally(old.practices + count, old.events)
        else:
            out[key] = Tally(old.practices, old.events + count)
    return out


def city_tallies(topic_code: str | None = None) -> list[tuple[City, Tally]]:
    """Cities with published entries (on a topic), most entries first."""
    query = (
        select(Entry.city_id, Entry.kind, func.count(Entry.id))
        .where(PUBLISHED)
        .group_by(Entry.city_id, Entry.kind)
    )
    if topic_code is not None:
        query = query.where(Entry.topics.any(Topic.code == topic_code))
    tallies = _tallies([(row[0], row[1], row[2]) for row in db.session.execute(query)])
    cities = db.session.scalars(select(City).where(City.id.in_(list(tallies))))
    pairs = [(city, tallies[city.id]) for city in cities]
    return sorted(pairs, key=lambda p: (-p[1].total, p[0].name))


def topic_tallies(city_id: int | None = None) -> list[tuple[Topic, Tally]]:
    """Topics in the list's order with their published entries (of a city)."""
    query = (
        select(entry_topics.c.topic_code, Entry.kind, func.count(Entry.id))
        .join(Entry, Entry.id == entry_topics.c.entry_id)
        .where(PUBLISHED)
        .group_by(entry_topics.c.topic_code, Entry.kind)
    )
    if city_id is not None:
        query = query.where(Entry.city_id == city_id)
    tallies = _tallies([tuple(row) for row in db.session.execute(query)])
    return [(topic, tallies.get(topic.code, Tally())) for topic in all_topics()]
