"""Pages of the change log that feeds are built from (RFC 5005 archived feeds).

A feed is the change log (``EntryChange``) filtered by scope, kind and topic,
ordered by ``seq``. With page size S and n filtered rows, f = n // S pages
are full. Archive page k (1 <= k <= f) holds positions (k-1)*S .. k*S-1 and
never changes: the log is append-only and a row's membership in a filter never
changes. The subscription document (the head) holds everything from position
(f-1)*S on (between S and 2S-1 rows), or every row while f = 0, and links to
page f-1 as its ``prev-archive``; walking head and archives visits each row
exactly once. Only the head shows each entry once (its newest row). Archive
page k links page k+1 as its ``next-archive`` once that page exists: the
newest page f has no ``next-archive`` until page f+1 is full (its rows never
change, only that link is added, once).

A document is dated by the stamp (:class:`~service.store.models.LogStamp`) of
the append that made it what it is: for the head and the newest archive page
the append of their newest row, for an older archive page the append of the
last row of the page after it (when it got its ``next-archive``).

Everything is read as of one ``version`` (the newest ``seq`` when the request
started), so a document is a function of (filters, version) alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select

from feeds.types import Record, TombstoneData
from service.errors import NotFoundError
from service.store.models import EntryChange, LogStamp, db
from service.vocab import Origin

SCOPES = ("all", "network", "city")


@dataclass(frozen=True)
class FeedQuery:
    """Which rows a feed holds; ``city`` only for the "city" scope."""

    scope: str
    city: str | None = None
    kind: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class LogState:
    """The log's newest ``seq`` (0 when empty) and the feed's city, if any."""

    version: int
    city_id: int | None = None
    city_name: str | None = None


@dataclass(frozen=True)
class ChangeRow:
    seq: int
    entry_uid: str
    deleted: bool
    at: datetime
    #: A :class:`feeds.types.Record`, or for a tombstone a :class:`feeds.types.TombstoneData`.
    data: Record | TombstoneData


@dataclass(frozen=True)
class LogPage:
    """Rows of one feed document, oldest first.

    ``number`` is None for the head. ``prev_page`` is the next older archive
    page; ``next_page`` the next newer one (archives only, and only once that
    page is full: None on the newest archive page). ``dated_by`` is the
    ``seq`` whose stamp dates the document (None for an empty feed).
    """

    rows: tuple[ChangeRow, ...]
    number: int | None
    prev_page: int | None
    next_page: int | None
    total: int
    dated_by: int | None = None

    @property
    def settled(self) -> bool:
        """An archive page that has its ``next-archive``: it never changes again."""
        return self.next_page is not None


#: The hot path of every feed request: one indexed query.
_VERSION = "SELECT coalesce(max(seq), 0) FROM entry_changes"
_VERSION_AND_CITY = (
    "SELECT (SELECT coalesce(max(seq), 0) FROM entry_changes), id, name "
    "FROM cities WHERE slug = {} AND local"
)
_PLACEHOLDERS = {
    "qmark": "?",
    "numeric": ":1",
    "named": ":slug",
    "format": "%s",
    "pyformat": "%(slug)s",
}


def _fetch_row(engine: Engine, sql: str, params: Any = ()) -> Any:
    """The first row of ``sql`` on a pooled DBAPI connection, skipping the ORM.

    This runs on every feed request; a raw pool checkout costs about 15 us,
    a Core ``connect()`` about five times that. The pool resets the connection
    on return (rollback), so every call sees the newest committed data.
    """
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()
        finally:
            cursor.close()
    finally:
        connection.close()


def log_state(query: FeedQuery) -> LogState:
    """One cheap query: the log version and, for a city feed, the city.

    Raises :class:`NotFoundError` for a city that is not hosted here.
    """
    engine = db.engine
    if query.scope != "city":
        return LogState(version=_fetch_row(engine, _VERSION)[0])
    style = engine.dialect.paramstyle
    params: Any = {"slug": query.city} if style in ("named", "pyformat") else (query.city,)
    row = _fetch_row(engine, _VERSION_AND_CITY.format(_PLACEHOLDERS[style]), params)
    if row is None:
        raise NotFoundError(f"Город «{query.city}» не найден на этом сервере", field="slug")
    return LogState(version=row[0], city_id=row[1], city_name=row[2])


def _conditions(query: FeedQuery, state: LogState) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [EntryChange.seq <= state.version]
    if query.scope != "network":
        conditions.append(EntryChange.origin == Origin.LOCAL)
    if query.scope == "city":
        conditions.append(EntryChange.city_id == state.city_id)
    if query.kind:
        conditions.append(EntryChange.kind == query.kind)
    if query.topic:
        conditions.append(EntryChange.topic_codes.contains(f",{query.topic},", autoescape=True))
    return conditions


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stamp_of(seq: int | None) -> datetime:
    """When the append that wrote row ``seq`` happened (the epoch for None)."""
    if seq is None:
        return EPOCH
    covering = select(LogStamp.logged).where(LogStamp.seq >= seq).order_by(LogStamp.seq).limit(1)
    found = db.session.scalar(covering)
    # Rows written without a stamp (there should be none) get the newest one.
    return found or db.session.scalar(select(func.max(LogStamp.logged))) or EPOCH


def count_rows(query: FeedQuery, state: LogState) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(EntryChange).where(*_conditions(query, state))
        )
        or 0
    )


def _rows(
    query: FeedQuery, state: LogState, offset: int, limit: int | None
) -> tuple[ChangeRow, ...]:
    statement = (
        select(
            EntryChange.seq,
            EntryChange.entry_uid,
            EntryChange.deleted,
            EntryChange.at,
            EntryChange.data,
        )
        .where(*_conditions(query, state))
        .order_by(EntryChange.seq)
        .offset(offset)
        .limit(limit)
    )
    return tuple(ChangeRow(*row) for row in db.session.execute(statement))


def full_pages(total: int, size: int) -> int:
    return total // size


def read_head(query: FeedQuery, state: LogState, size: int) -> LogPage:
    """The subscription document: the newest rows (S..2S-1 of them, or all)."""
    total = count_rows(query, state)
    full = full_pages(total, size)
    start = (full - 1) * size if full >= 1 else 0
    rows = _rows(query, state, start, None)
    return LogPage(
        rows=rows,
        number=None,
        prev_page=full - 1 if full >= 2 else None,
        next_page=None,
        total=total,
        dated_by=rows[-1].seq if rows else None,
    )


def read_archive(query: FeedQuery, state: LogState, size: int, number: int) -> LogPage:
    """Archive page ``number`` (1 = oldest); only complete pages exist."""
    total = count_rows(query, state)
    if not 1 <= number <= full_pages(total, size):
        raise NotFoundError(
            f"Страницы архива {number} нет: архив этой ленты содержит "
            f"{full_pages(total, size)} полных страниц",
            field="page",
        )
    rows = _rows(query, state, (number - 1) * size, size)
    newest = number == full_pages(total, size)
    return LogPage(
        rows=rows,
        number=number,
        prev_page=number - 1 if number > 1 else None,
        next_page=None if newest else number + 1,
        total=total,
        dated_by=rows[-1].seq if newest else _seq_at(query, state, (number + 1) * size - 1),
    )


def _seq_at(query: FeedQuery, state: LogState, position: int) -> int | None:
    statement = (
        select(EntryChange.seq)
        .where(*_conditions(query, state))
        .order_by(EntryChange.seq)
        .offset(position)
        .limit(1)
    )
    return db.session.scalar(statement)


def newest_rows(rows: tuple[ChangeRow, ...]) -> tuple[ChangeRow, ...]:
    """Each entry once, as its newest row (a tombstone wins over older versions)."""
    newest: dict[str, ChangeRow] = {}
    for row in rows:
        newest[row.entry_uid] = row
    return tuple(sorted(newest.values(), key=lambda r: r.seq))


def has_rows_after(query: FeedQuery, state: LogState, after: int) -> bool:
    """Whether the feed has rows newer than ``after`` (up to the state's version).

    The WebSub hub asks this to know whether a subscriber that has the feed
    as of version ``after`` needs a delivery.
    """
    statement = (
        select(EntryChange.seq)
        .where(EntryChange.seq > after, *_conditions(query, state))
        .order_by(EntryChange.seq)
        .limit(1)
    )
    return db.session.scalar(statement) is not None
