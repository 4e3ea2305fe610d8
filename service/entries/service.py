"""Service functions for practice notes and event summaries.

The API, the web pages and the CLI all go through these functions; they take
already validated data (the schemas at the boundary did that) and apply the
rules that need the database: permissions, ids, timestamps and the change log
that feeds are built from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from service.entries.access import Principal, check_read, check_write
from service.entries.changelog import record_change, record_deletion
from service.entries.filters import EntryFilter, Page, conditions, sql
from service.entries.ids import mint_uid
from service.entries.search import index_text, matching_ids
from service.errors import NotFoundError, PermissionDeniedError, ValidationError
from service.fields import CONTACT, EVENT, event_problems, fields_of, searchable, unknown_topics
from service.store.models import City, Entry, Topic, db, utcnow
from service.vocab import EventStage, Kind, Origin, Status

# -- lookups ----------------------------------------------------------------


def get_city(slug: str) -> City:
    city = db.session.scalar(select(City).where(City.slug == slug))
    if city is None:
        raise NotFoundError(f"Город «{slug}» не найден", field="city")
    return city


def find_entry(ident: str) -> Entry | None:
    if ident.isdigit():
        return db.session.get(Entry, int(ident))
    return db.session.scalar(select(Entry).where(Entry.uid == ident))


def get_entry(kind: str, ident: str, *, viewer: Principal | None = None) -> Entry:
    """An entry by local number or tag: id, if the viewer may see it (drafts: own city)."""
    entry = find_entry(ident)
    return check_read(entry if entry is not None and entry.kind == kind else None, viewer)


def get_entry_for_write(kind: str, ident: str, principal: Principal) -> Entry:
    """An entry the principal may change (404 if it may not see it, 403 if not change it)."""
    entry = find_entry(ident)
    return check_write(entry if entry is not None and entry.kind == kind else None, principal)


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


def _check_related(related: str | None) -> None:
    if not related:
        return
    target = find_entry(related)
    if target is None or target.kind != Kind.PRACTICE:
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
        _check_related(data["related"])


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
        db.session.commit()
    return entry


def update_entry(entry: Entry, data: dict[str, Any]) -> Entry:
    """Apply changes; ``updated`` moves on every edit, ``published`` stays."""
    was_published = entry.status == Status.PUBLISHED
    _apply(entry, data)
    if "status" in data:
        entry.status = data["status"]
    # Strictly increasing, so a mirror always sees an edit as newer.
    now = max(utcnow(), entry.updated + timedelta(microseconds=1))
    entry.updated = now
    refresh_search_text(entry)
    _publish_state(entry, was_published, now)
    db.session.commit()
    return entry


def delete_entry(entry: Entry) -> None:
    """Delete; a published entry leaves a tombstone in the change log."""
    if entry.status == Status.PUBLISHED:
        record_deletion(entry)
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
