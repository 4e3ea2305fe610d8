"""Service functions for practice notes and event summaries.

The API, the web pages and the CLI all go through these functions; they take
already validated data (the schemas at the boundary did that) and apply the
rules that need the database: permissions, ids, timestamps and the change log
that feeds are built from.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm.exc import StaleDataError

from service.entries.access import Principal, check_read, check_write, may_read
from service.entries.changelog import record_change, record_deletion
from service.entries.filters import EntryFilter, Page, conditions, sql
from service.entries.ids import mint_uid
from service.entries.search import index_text, matching_ids
from service.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    PreconditionFailedError,
    ValidationError,
)
from service.fields import (
    CONTACT,
    EVENT,
    ID_MAX,
    event_problems,
    fields_of,
    searchable,
    unknown_topics,
)
from service.store.models import City, Entry, Topic, db, utcnow
from service.vocab import EventStage, Kind, Origin, Status

F = TypeVar("F", bound=Callable[..., Any])
#: What the database says when concurrent writers collide (SQLite: another writer held
#: the lock past the busy timeout; PostgreSQL: deadlock, serialization failure, lock timeout).
CONFLICT_STATES = {"40001", "40P01", "55P03"}
CONFLICT_MESSAGE = "Запись в это время изменил другой запрос. Повторите запрос"


def _collision(error: DBAPIError) -> bool:
    if getattr(error.orig, "sqlstate", None) in CONFLICT_STATES:
        return True
    text = str(error.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def conflicts_as_409(func_: F) -> F:
    """Concurrent writers that collide get :class:`ConflictError` (409), never a 500."""

    @functools.wraps(func_)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return func_(*args, **kwargs)
        except StaleDataError as error:
            db.session.rollback()
            raise ConflictError(CONFLICT_MESSAGE, field="id") from error
        except DBAPIError as error:
            if not _collision(error):
                raise
            db.session.rollback()
            raise ConflictError(CONFLICT_MESSAGE, field="id") from error

    return wrapped  # type: ignore[return-value]


# -- lookups ----------------------------------------------------------------


def get_city(slug: str) -> City:
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise NotFoundError(f"Город «{slug}» не найден", field="city")
    return city


def _identity(ident: str) -> Any:
    """The condition that finds an entry by local number or tag: id; None: it names none."""
    if ident.isascii() and ident.isdigit():
        number = int(ident) if len(ident) <= 19 else 0
        return Entry.id == number if 0 < number <= ID_MAX else None
    if not ident or len(ident) > 500:
        return None
    return Entry.uid == ident


def find_entry(ident: str) -> Entry | None:
    condition = _identity(ident)
    if condition is None:
        return None
    return db.session.scalar(select(Entry).where(condition))


def _locked_entry(ident: str) -> Entry | None:
    """The entry, read fresh under a write lock held to the end of the transaction.

    PostgreSQL: ``SELECT ... FOR UPDATE`` of its row. SQLite: a no-op ``UPDATE`` of the
    row first, which takes the database's write lock (waiting for another writer,
    up to the busy timeout) before anything is read, as ``BEGIN IMMEDIATE`` would.
    Either way concurrent writers of one entry go one after the other, and each
    sees the state the one before committed: the change-log row written from it
    is the state being committed.
    """
    condition = _identity(ident)
    if condition is None:
        return None
    query = select(Entry).where(condition).execution_options(populate_existing=True)
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Entry)
    else:
        lock = update(Entry).where(condition).values(uid=Entry.uid)
        db.session.execute(lock.execution_options(synchronize_session=False))
    return db.session.scalar(query)


def etag(entry: Entry) -> str:
    """The entry's version as an entity tag: its number and ``updated``, which every edit
    moves on (strictly), so two versions never share one."""
    stamp = int(entry.updated.timestamp() * 1_000_000)
    return f'"{entry.id}-{stamp:x}"'


def etag_matches(header: str, entry: Entry) -> bool:
    """``If-Match``: ``*`` or a list of tags, one of them the entry's (``W/`` accepted)."""
    if header.strip() == "*":
        return True
    current = etag(entry)
    return any(tag.strip().removeprefix("W/") == current for tag in header.split(","))


def get_entry(kind: str, ident: str, *, viewer: Principal | None = None) -> Entry:
    """An entry by local number or tag: id, if the viewer may see it (drafts: own city)."""
    entry = find_entry(ident)
    return check_read(entry if entry is not None and entry.kind == kind else None, viewer)


@conflicts_as_409
def get_entry_for_write(
    kind: str,
    ident: str,
    principal: Principal,
    *,
    if_match: str | None = None,
    lock: bool = True,
) -> Entry:
    """An entry the principal may change, locked for the write (404 if it may not see
    it, 403 if not change it, 412 if ``if_match`` names another version). ``lock=False``
    only checks (a page that shows the form, writing nothing)."""
    entry = _locked_entry(ident) if lock else find_entry(ident)
    entry = check_write(entry if entry is not None and entry.kind == kind else None, principal)
    if if_match is not None and not etag_matches(if_match, entry):
        raise PreconditionFailedError(
            "Запись изменилась после того, как вы её прочитали (If-Match не совпадает с ETag). "
            "Прочитайте её заново",
            field="If-Match",
        )
    return entry


def _where(flt: EntryFilter, viewer: Principal | None) -> list[Any]:
    clauses: list[Any] = sql(conditions(flt, viewer))
    if flt.q:
        clauses.append(Entry.id.in_(matching_ids(flt.q)))
    return clauses


def list_entries(
    flt: EntryFilter, *, page: int = 1, per_page: int = 20, viewer: Principal | None = None
) -> Page:
    """Entries matching the filter, newest first; drafts only for their own city."""
    where = _where(flt, viewer)
    total = db.session.scalar(select(func.count(Entry.id)).where(*where))
    items = db.session.scalars(
        select(Entry)
        .where(*where)
        .order_by(Entry.updated.desc(), Entry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return Page(items=list(items), page=page, per_page=per_page, total=total or 0)


def refresh_search_text(entry: Entry) -> None:
    """Keep the entry's indexed words (its searchable fields, tags, topics, city).

    The lemmas of the texts, then the topic tokens the search filters on
    (:func:`service.entries.search.index_text`).
    """
    texts = [getattr(entry, spec.attr) for spec in searchable(entry.kind)]
    names = [t.name for t in entry.topics]
    city = [entry.city.name if entry.city else None]
    entry.search_text = index_text(
        [*texts, *(entry.tags or []), *names, *city], [t.code for t in entry.topics]
    )


# -- writes -----------------------------------------------------------------


def _topics(codes: list[str]) -> list[Topic]:
    unknown = unknown_topics(codes)
    if unknown:
        raise ValidationError(f"Неизвестные темы: {', '.join(unknown)}", field="topics")
    if not codes:
        return []
    found = {t.code: t for t in db.session.scalars(select(Topic).where(Topic.code.in_(codes)))}
    return [found[c] for c in dict.fromkeys(codes)]


def _check_related(entry: Entry, related: str | None) -> None:
    """A related note must exist and be readable by the event's city (drafts: its own):
    another city's draft answers exactly as a note that does not exist."""
    if not related:
        return
    target = find_entry(related)
    reader = Principal(city_id=entry.city_id)
    if target is None or target.kind != Kind.PRACTICE or not may_read(target, reader):
        raise ValidationError("Связанная практика не найдена", field="related")


def _settle_event(entry: Entry, data: dict[str, Any]) -> None:
    """Dates set the year and month; the rules of service.fields.event_problems hold."""
    if entry.starts_on is not None:
        # Not given, or given empty (a form's blank field): the date says.
        if data.get("year") is None:
            entry.year = entry.starts_on.year
        if data.get("month") is None:
            entry.month = entry.starts_on.month
    problems = event_problems({spec.name: getattr(entry, spec.attr) for spec in EVENT})
    for name, messages in problems.items():
        raise ValidationError(messages[0], field=name)
    entry.stage = entry.stage or EventStage.HELD.value


def _apply(entry: Entry, data: dict[str, Any]) -> None:
    """Copy validated fields onto the entry (only the keys present)."""
    with db.session.no_autoflush:  # the topic lookup must not flush a half-filled entry
        _copy(entry, data)
    if entry.kind == Kind.EVENT and "related" in data:
        _check_related(entry, data["related"])


def _copy(entry: Entry, data: dict[str, Any]) -> None:
    if "topics" in data:
        entry.topics = _topics(data["topics"])
    if "tags" in data:
        entry.tags = list(dict.fromkeys(data["tags"]))
    for spec in fields_of(entry.kind):
        if spec.name in data:
            setattr(entry, spec.attr, data[spec.name])
    if "contact" in data:
        contact = data["contact"] or {}
        for spec in CONTACT:
            setattr(entry, spec.attr, contact.get(spec.name) or None)
    if entry.kind == Kind.EVENT:
        entry.related_uid = entry.related_uid or None
        _settle_event(entry, data)


def _publish_state(entry: Entry, was_published: bool, now: datetime) -> None:
    """Stamp timestamps and write the change log after a create or edit."""
    if entry.status == Status.PUBLISHED:
        if entry.published is None:
            entry.published = now
        db.session.flush()
        record_change(entry)
    elif was_published:
        record_deletion(entry, now)


@conflicts_as_409
def create_entry(kind: str, data: dict[str, Any], *, city: City, commit: bool = True) -> Entry:
    """Create an own entry; with ``commit=False`` the caller commits (batches)."""
    now = utcnow()
    entry = Entry(
        uid=mint_uid(kind, now),
        kind=kind,
        city=city,
        city_id=city.id,
        status=data.get("status", Status.DRAFT),
        origin=Origin.LOCAL,
        created=now,
        updated=now,
        tags=[],
    )
    empty = ("achievements", "plans", "assistance") if kind == Kind.PRACTICE else ("results",)
    for name in ("summary", *empty):
        setattr(entry, name, "")
    db.session.add(entry)
    _apply(entry, data)
    refresh_search_text(entry)
    _publish_state(entry, False, now)
    if commit:
        _commit()
    return entry


def _commit() -> None:
    """Commit, keeping the loaded state: the answer shows the version just committed, even
    if a concurrent writer changes or deletes the entry before the answer is written."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


def _next_time(entry: Entry) -> datetime:
    """Now, or just after the entry's last change: strictly increasing, so a mirror always
    sees an edit as newer, whatever the clock does."""
    return max(utcnow(), entry.updated + timedelta(microseconds=1))


@conflicts_as_409
def update_entry(entry: Entry, data: dict[str, Any]) -> Entry:
    """Apply changes (PATCH: the fields given); ``updated`` moves on every edit,
    ``published`` stays; the status changes only when ``status`` is given."""
    was_published = entry.status == Status.PUBLISHED
    _apply(entry, data)
    if "status" in data:
        entry.status = data["status"]
    now = _next_time(entry)
    entry.updated = now
    refresh_search_text(entry)
    _publish_state(entry, was_published, now)
    _commit()
    return entry


def replace_entry(entry: Entry, data: dict[str, Any]) -> Entry:
    """PUT: every field as given; optional fields left out become empty. The status is
    kept unless given (a PUT never unpublishes by omission)."""
    full = dict(data)
    for spec in fields_of(entry.kind):
        full.setdefault(spec.name, None)
    if entry.kind == Kind.PRACTICE:
        full.setdefault("contact", None)
    full.setdefault("topics", [])
    full.setdefault("tags", [])
    return update_entry(entry, full)


@conflicts_as_409
def delete_entry(entry: Entry) -> None:
    """Delete; a published entry leaves a tombstone in the change log."""
    if entry.status == Status.PUBLISHED:
        record_deletion(entry, _next_time(entry))
    db.session.delete(entry)
    db.session.commit()


def resolve_city(principal: Principal, slug: str | None) -> City:
    """The city a new entry belongs to: the token's own, or the one named."""
    if slug is None:
        if principal.city_id is None:
            raise ValidationError("Укажите город (поле city)", field="city")
        city = db.session.get(City, principal.city_id)
        assert city is not None
        return city
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None or not city.local:
        raise ValidationError(f"Город «{slug}» не найден на этом сервере", field="city")
    if not principal.may_write(city.id):
        raise PermissionDeniedError("Ключ доступа выдан другому городу", field="city")
    return city


def ensure_same_city(entry: Entry, slug: str | None, principal: Principal) -> None:
    """An edit may repeat the entry's city but never move it to another one."""
    if slug is None or slug == entry.city.slug:
        return
    resolve_city(principal, slug)  # 403 or 422 exactly as for a create
    raise ValidationError("Город записи изменить нельзя", field="city")
