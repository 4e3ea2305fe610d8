"""Service functions for practice notes and event summaries.

The API, the web pages and the CLI all go through these functions; they take
already validated data (the schemas at the boundary did that) and apply the
rules that need the database: permissions, ids, timestamps and the change log
that feeds are built from.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, func, or_, select

from service.entries.rendering import entry_html
from service.entries.search import matching_ids, stem_text
from service.errors import NotFoundError, PermissionDeniedError, ValidationError
from service.store.models import (
    City,
    Entry,
    EntryChange,
    Kind,
    Origin,
    Status,
    Topic,
    db,
    utcnow,
)

PRACTICE_FIELDS = ("area", "year", "summary", "achievements", "plans", "assistance", "body")
EVENT_FIELDS = (
    "starts_on",
    "ends_on",
    "format",
    "level",
    "location",
    "participants",
    "summary",
    "results",
)
CONTACT_FIELDS = ("name", "position", "email", "phone")
TEXT_FIELDS = ("title", "area", "summary", "achievements", "plans", "assistance", "body",
               "location", "results")  # fmt: skip


@dataclass(frozen=True)
class Principal:
    """Who is acting: a city's token or admin, or the instance operator."""

    city_id: int | None
    operator: bool = False
    label: str = ""

    def may_write(self, city_id: int) -> bool:
        return self.operator or self.city_id == city_id


@dataclass(frozen=True)
class EntryFilter:
    kind: str | None = None
    city: str | None = None
    topic: str | None = None
    year: int | None = None
    q: str | None = None
    origin: str | None = None
    status: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Entry]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


# -- ids --------------------------------------------------------------------


def mint_uid(kind: str, when: datetime | None = None) -> str:
    """A new global id: ``tag:AUTHORITY,YYYY-MM-DD:KIND/RANDOM`` (RFC 4151)."""
    authority = current_app.config["FEED_AUTHORITY"]
    day = (when or utcnow()).date().isoformat()
    return f"tag:{authority},{day}:{kind}/{secrets.token_hex(8)}"


def entry_url(entry: Entry) -> str:
    """The entry's page: its own page here, or the original for mirrored ones."""
    if entry.origin == Origin.MIRROR and entry.link:
        return entry.link
    return f"{current_app.config['BASE_URL']}/{entry.kind}s/{entry.id}"


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
    """An entry by local number or tag: id; drafts only for their own city."""
    entry = find_entry(ident)
    if entry is None or entry.kind != kind:
        raise NotFoundError("Запись не найдена", field="id")
    if entry.status != Status.PUBLISHED and not (viewer and viewer.may_write(entry.city_id)):
        raise NotFoundError("Запись не найдена", field="id")
    return entry


def get_entry_for_write(kind: str, ident: str, principal: Principal) -> Entry:
    entry = find_entry(ident)
    if entry is None or entry.kind != kind:
        raise NotFoundError("Запись не найдена", field="id")
    if entry.origin == Origin.MIRROR:
        raise PermissionDeniedError(
            "Запись получена из ленты другого города: изменить её может только этот город",
            field="id",
        )
    if not principal.may_write(entry.city_id):
        raise PermissionDeniedError("Запись принадлежит другому городу", field="city")
    return entry


def _filtered(query: Select[Any], flt: EntryFilter, viewer: Principal | None) -> Select[Any]:
    if flt.kind:
        query = query.where(Entry.kind == flt.kind)
    if flt.city:
        query = query.join(City, Entry.city_id == City.id).where(City.slug == flt.city)
    if flt.topic:
        query = query.where(Entry.topics.any(Topic.code == flt.topic))
    if flt.year is not None:
        query = query.where(Entry.year == flt.year)
    if flt.origin:
        query = query.where(Entry.origin == flt.origin)
    if flt.q:
        query = query.where(Entry.id.in_(matching_ids(flt.q)))
    visible = Entry.status == Status.PUBLISHED
    if viewer is not None and viewer.operator:
        visible = or_(visible, Entry.origin == Origin.LOCAL)
    elif viewer is not None and viewer.city_id is not None:
        visible = or_(visible, Entry.city_id == viewer.city_id)
    query = query.where(visible)
    if flt.status:
        query = query.where(Entry.status == flt.status)
    return query


def list_entries(
    flt: EntryFilter, *, page: int = 1, per_page: int = 20, viewer: Principal | None = None
) -> Page:
    """Entries matching the filter, newest first; drafts only for their own city."""
    base = _filtered(select(Entry), flt, viewer)
    total = db.session.scalar(_filtered(select(func.count(Entry.id)), flt, viewer))
    items = db.session.scalars(
        base.order_by(Entry.updated.desc(), Entry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).unique()
    return Page(items=list(items), page=page, per_page=per_page, total=total or 0)


# -- snapshots and the change log -------------------------------------------


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot(entry: Entry, *, content_html: str | None = None) -> dict[str, Any]:
    """The entry as feeds publish it: every structured field, plain JSON values.

    ``content_html`` is the entry's rendered, sanitized HTML when the caller
    has it already (a mirrored record carries its publisher's rendering);
    otherwise it is rendered here from the Markdown fields.
    """
    city = entry.city
    data: dict[str, Any] = {
        "id": entry.uid,
        "kind": entry.kind,
        "title": entry.title,
        "city": {
            "slug": city.slug,
            "name": city.name,
            "region": city.region,
            "latitude": city.latitude,
            "longitude": city.longitude,
        },
        "topics": entry.topic_codes,
        "tags": list(entry.tags or []),
        "year": entry.year,
        "summary": entry.summary,
        "status": entry.status,
        "published": _iso(entry.published),
        "updated": _iso(entry.updated),
        "url": entry_url(entry),
        "origin": entry.origin,
    }
    if entry.kind == Kind.PRACTICE:
        for name in ("area", "achievements", "plans", "assistance", "body"):
            data[name] = getattr(entry, name)
        contact = {n: getattr(entry, f"contact_{n}") for n in CONTACT_FIELDS}
        data["contact"] = contact if any(contact.values()) else None
    else:
        data.update(
            starts_on=_iso(entry.starts_on),
            ends_on=_iso(entry.ends_on),
            format=entry.format,
            level=entry.level,
            location=entry.location,
            participants=entry.participants,
            results=entry.results,
            related=entry.related_uid,
        )
    if entry.origin == Origin.MIRROR:
        data["source"] = {
            "id": entry.source_id,
            "title": entry.source_title,
            "url": entry.source_url,
        }
        if entry.is_generic:
            data["generic"] = True
            data["content_html"] = entry.content_html
    data["content_html"] = content_html if content_html is not None else entry_html(data)
    return data


def change_row(
    entry: Entry, *, deleted: bool, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    """The column values of one change-log row (for a bulk insert of many)."""
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


def _log(entry: Entry, *, deleted: bool, at: datetime, data: dict[str, Any]) -> EntryChange:
    change = EntryChange(**change_row(entry, deleted=deleted, at=at, data=data))
    db.session.add(change)
    return change


def record_change(entry: Entry) -> EntryChange:
    """Append the entry's current published state to the change log."""
    return _log(entry, deleted=False, at=entry.updated, data=snapshot(entry))


def tombstone_data(entry: Entry) -> dict[str, Any]:
    """What a tombstone in the change log says about the deleted entry."""
    source = None
    if entry.origin == Origin.MIRROR:
        source = {"id": entry.source_id, "title": entry.source_title, "url": entry.source_url}
    return {
        "id": entry.uid,
        "kind": entry.kind,
        "city": {"slug": entry.city.slug, "name": entry.city.name},
        "url": entry_url(entry),
        "origin": entry.origin,
        "source": source,
    }


def record_deletion(entry: Entry, when: datetime | None = None) -> EntryChange:
    """Append a tombstone (RFC 6721) for a published entry that is gone."""
    return _log(entry, deleted=True, at=when or utcnow(), data=tombstone_data(entry))


def refresh_search_text(entry: Entry) -> None:
    contact = [getattr(entry, f"contact_{n}") for n in CONTACT_FIELDS]
    topics = [t.name for t in entry.topics]
    entry.search_text = stem_text(
        [getattr(entry, f) for f in TEXT_FIELDS]
        + list(entry.tags or [])
        + topics
        + contact
        + [entry.city.name if entry.city else None]
    )


# -- writes -----------------------------------------------------------------


def _topics(codes: list[str]) -> list[Topic]:
    if not codes:
        return []
    found = {t.code: t for t in db.session.scalars(select(Topic).where(Topic.code.in_(codes)))}
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise ValidationError(f"Неизвестные темы: {', '.join(unknown)}", field="topics")
    return [found[c] for c in dict.fromkeys(codes)]


def _check_related(kind: str, related: str | None) -> None:
    if kind != Kind.EVENT or not related:
        return
    target = find_entry(related)
    if target is None or target.kind != Kind.PRACTICE:
        raise ValidationError("Связанная практика не найдена", field="related")


def _apply(entry: Entry, data: dict[str, Any]) -> None:
    """Copy validated fields onto the entry (only the keys present)."""
    if "title" in data:
        entry.title = data["title"]
    if "topics" in data:
        entry.topics = _topics(data["topics"])
    if "tags" in data:
        entry.tags = list(dict.fromkeys(data["tags"]))
    fields = PRACTICE_FIELDS if entry.kind == Kind.PRACTICE else EVENT_FIELDS
    for name in fields:
        if name in data:
            setattr(entry, name, data[name])
    if "contact" in data:
        contact = data["contact"] or {}
        for name in CONTACT_FIELDS:
            setattr(entry, f"contact_{name}", contact.get(name) or None)
    if "related" in data:
        _check_related(entry.kind, data["related"])
        entry.related_uid = data["related"] or None
    if entry.kind == Kind.EVENT:
        if entry.starts_on and entry.ends_on and entry.ends_on < entry.starts_on:
            raise ValidationError("Дата окончания раньше даты начала", field="ends_on")
        entry.year = entry.starts_on.year if entry.starts_on else None


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
