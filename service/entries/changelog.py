"""The append-only change log that feeds are built from: snapshots, tombstones, one append.

Every publication, edit of a published entry and deletion appends one row
with a snapshot of the entry as it was (or a tombstone). Feed documents are
pages of this log (:mod:`service.entries.feedlog`), so full archive pages never
change (RFC 5005) and deletions are announced (RFC 6721).

:func:`append` is the only writer of the ``entry_changes`` table. On
PostgreSQL it takes one transaction-scoped advisory lock first, so rows become
visible in ``seq`` order: a sequence hands out numbers at insert time, but
transactions commit in any order, and a reader could otherwise see row 11
before row 10 commits, cache a head as of version 11 without row 10 and page
archives over a gap that later fills. SQLite serialises writers by itself.
Each append also writes a :class:`~service.store.models.LogStamp` (its newest
``seq`` and the time after its rows were written), which feeds turn into
``Last-Modified``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, TypedDict, cast

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from feeds.types import Record, SourceData, TombstoneData
from service.entries.ids import entry_url
from service.entries.rendering import entry_html
from service.fields import CONTACT, fields_of
from service.store.models import Entry, EntryChange, LogStamp, db, utcnow
from service.vocab import Kind, Origin

CHANGES = cast(Table, EntryChange.__table__)
#: Key of the PostgreSQL advisory lock that orders appends to the change log.
LOG_APPEND_LOCK = 0x41534447


class ChangeValues(TypedDict):
    """The column values of one change-log row."""

    entry_uid: str
    kind: str
    city_id: int
    origin: str
    topic_codes: str
    deleted: bool
    at: datetime
    data: Record | TombstoneData


def append(rows: Sequence[ChangeValues], *, session: Session | None = None) -> None:
    """Append rows to the change log in the session's transaction, in order."""
    if not rows:
        return
    target: Any = session or db.session
    if target.get_bind().dialect.name == "postgresql":
        target.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOG_APPEND_LOCK})
    target.execute(insert(CHANGES), list(rows))
    _stamp(target)


def _stamp(session: Any) -> None:
    """Record when the log grew; under the append lock, so stamps follow ``seq``."""
    newest = session.scalar(select(func.max(EntryChange.seq)))
    previous = session.scalar(select(LogStamp.logged).order_by(LogStamp.seq.desc()).limit(1))
    now = utcnow()
    # Never earlier than the previous stamp, whatever the clocks of several machines say.
    session.execute(
        insert(LogStamp), {"seq": newest, "logged": max(now, previous) if previous else now}
    )


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _plain(value: object) -> object:
    """A column value as JSON carries it (dates as ISO strings)."""
    return value.isoformat() if isinstance(value, date) else value


def snapshot(entry: Entry, *, content_html: str | None = None) -> Record:
    """The entry as feeds publish it: every structured field, plain JSON values.

    ``content_html`` is the entry's rendered, sanitized HTML when the caller
    has it already (a generic mirrored entry: its sanitized content);
    otherwise it is rendered here from the Markdown fields.
    """
    city = entry.city
    data: dict[str, Any] = {
        "id": entry.uid,
        "kind": entry.kind,
        "city": {
            "slug": city.slug,
            "name": city.name,
            "region": city.region,
            "latitude": city.latitude,
            "longitude": city.longitude,
        },
        "topics": entry.topic_codes,
        "tags": list(entry.tags or []),
        "status": entry.status,
        "published": _iso(entry.published),
        "updated": _iso(entry.updated),
        "url": entry_url(entry),
        "origin": entry.origin,
    }
    for spec in fields_of(entry.kind):
        data[spec.name] = _plain(getattr(entry, spec.attr))
    if entry.kind == Kind.PRACTICE:
        contact = {spec.name: getattr(entry, spec.attr) for spec in CONTACT}
        data["contact"] = contact if any(contact.values()) else None
    if entry.origin == Origin.MIRROR:
        data["source"] = {
            "id": entry.source_id,
            "title": entry.source_title,
            "url": entry.source_url,
        }
        if entry.is_generic:
            data["generic"] = True
            data["content_html"] = entry.content_html
        if entry.signature:  # the origin's, republished unchanged
            data["signature"], data["key_id"] = entry.signature, entry.key_id
    data["content_html"] = content_html if content_html is not None else entry_html(data)
    return cast(Record, data)


def tombstone_data(entry: Entry, signature: tuple[str, str] | None = None) -> TombstoneData:
    """What a tombstone in the change log says about the deleted entry.

    ``signature``: (signature, key id) of a mirrored deletion, as its origin
    signed it; republished unchanged.
    """
    source: SourceData | None = None
    if entry.origin == Origin.MIRROR:
        source = {"id": entry.source_id, "title": entry.source_title, "url": entry.source_url}
    data: TombstoneData = {
        "id": entry.uid,
        "kind": entry.kind,
        "city": {"slug": entry.city.slug, "name": entry.city.name},
        "url": entry_url(entry),
        "origin": entry.origin,
        "source": source,
    }
    if signature is not None:
        data["signature"], data["key_id"] = signature
    return data


def change_row(
    entry: Entry, *, deleted: bool, at: datetime, data: Record | TombstoneData
) -> ChangeValues:
    """The column values of one change-log row."""
    return {
        "entry_uid": entry.uid,
        "kind": entry.kind,
        "city_id": entry.city_id,
        "origin": entry.origin,
        "topic_codes": "," + ",".join(entry.topic_codes) + ",",
        "deleted": deleted,
        "at": at,
        "data": data,
    }


def version_row(entry: Entry, *, content_html: str | None = None) -> ChangeValues:
    """The row that publishes the entry's current state."""
    data = snapshot(entry, content_html=content_html)
    return change_row(entry, deleted=False, at=entry.updated, data=data)


def tombstone_row(
    entry: Entry, when: datetime | None = None, signature: tuple[str, str] | None = None
) -> ChangeValues:
    """The row that announces the entry's deletion (RFC 6721)."""
    data = tombstone_data(entry, signature)
    return change_row(entry, deleted=True, at=when or utcnow(), data=data)


def record_change(entry: Entry) -> None:
    """Append the entry's current published state to the change log."""
    append([version_row(entry)])


def record_deletion(entry: Entry, when: datetime | None = None) -> None:
    """Append a tombstone for a published entry that is gone."""
    append([tombstone_row(entry, when)])
