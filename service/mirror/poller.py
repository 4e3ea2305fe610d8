"""Mirroring: poll a subscription, walk its archives, store the batch, claim work.

Split like the ``reader`` library: :mod:`feeds.fetch` gets the bytes,
:mod:`feeds.parse` reads them, :func:`feeds.decide.decide` says what changes
(pure), and this module stores it: one transaction per feed batch (the head
and every archive page read in the same poll), so a crash in the middle
leaves the previous state and the next poll does the whole batch again.

Work is claimed in the database with a lease (``Subscription.lease_owner`` /
``lease_until``), so any number of workers on any number of machines sharing
one database never poll one feed twice at once; a dead worker's lease expires.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import random
import socket
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from feeds.decide import KnownCity, Plan, Refusal, Refused, Removal, Stored, Version, decide
from feeds.errors import FeedGoneError, FeedsError, FetchError
from feeds.fetch import Fetched, Fetcher, FetchOptions
from feeds.parse import parse_feed
from feeds.schedule import Policy, after_failure, after_success, parse_max_age, parse_retry_after
from feeds.types import ParsedEntry, ParsedFeed, SourceInfo
from feeds.urls import host_of, origin_of, slug_from_host
from service.cities import SLUG
from service.entries import changelog
from service.entries.changelog import ChangeValues
from service.entries.markup import sanitize_html
from service.entries.service import refresh_search_text
from service.errors import FeedError
from service.fields import CONTACT, FIELDS, fields_of
from service.store.models import City, Entry, EntryChange, Subscription, Topic, db, utcnow
from service.vocab import EventFormat, EventLevel, EventStage, Kind, Origin, Status

log = logging.getLogger(__name__)

ACTIVE, GONE, ERROR = "active", "gone", "error"
GENERIC_TITLE = "Без названия"
#: Ids per IN (...) query.
CHUNK = 500
#: Attempts at storing a batch that clashed with a concurrent one (same new id).
STORE_ATTEMPTS = 3
MAX_TAGS, MAX_TAG = 30, 60
#: Feeds that answered 304 whose new schedule is written in one transaction.
UNCHANGED_BATCH = 64
#: A worker claims this many times its concurrency at once (fewer claim transactions;
#: the rest stays for other workers).
CLAIM_BATCH = 4

#: Every column a record's fields fill, of both kinds: a stored version sets them all.
ALL_COLUMNS = sorted(
    {spec.attr for specs in FIELDS.values() for spec in specs} | {spec.attr for spec in CONTACT}
)

REFUSALS = {
    Refusal.LOCAL_ENTRY: "лента выдаёт себя за записи этого сервера",
    Refusal.LOCAL_CITY: "лента выдаёт себя за записи города «{city}», размещённого на этом сервере",
    Refusal.FOREIGN_CITY: (
        "город «{city}» размещён на другом сервере, не на том, что публикует ленту"
    ),
    Refusal.CITY_MOVED: "запись другого города не может стать записью города «{city}»",
}


# -- settings and results ------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    fetch: FetchOptions
    policy: Policy
    max_pages: int
    lease: timedelta
    concurrency: int
    per_host: int


def settings(app: Flask | None = None) -> Settings:
    config = (app or current_app).config
    concurrency = max(1, int(config.get("MIRROR_CONCURRENCY", 8)))
    return Settings(
        fetch=FetchOptions(
            timeout=float(config["MIRROR_TIMEOUT"]),
            max_bytes=int(config["MIRROR_MAX_FEED_BYTES"]),
            max_redirects=int(config.get("MIRROR_MAX_REDIRECTS", 5)),
            allow_private=bool(config["MIRROR_ALLOW_PRIVATE_ADDRESSES"]),
            user_agent=f"asdg-exchange/0.1 (ASDG practice exchange mirror; +{config['BASE_URL']})",
            max_connections=max(8, 2 * concurrency),
        ),
        policy=Policy(
            interval=float(config.get("MIRROR_INTERVAL", 3600)),
            min_interval=float(config.get("MIRROR_MIN_INTERVAL", 300)),
            max_interval=float(config.get("MIRROR_MAX_INTERVAL", 24 * 3600)),
        ),
        max_pages=int(config.get("MIRROR_MAX_ARCHIVE_PAGES", 1000)),
        lease=timedelta(seconds=float(config.get("MIRROR_LEASE", 900))),
        concurrency=concurrency,
        per_host=max(1, int(config.get("MIRROR_PER_HOST", 2))),
    )


@dataclass
class PollResult:
    subscription_id: int
    url: str
    #: "ok", "not-modified", "error", "gone" or "busy" (another worker holds it)
    status: str
    new: int = 0
    updated: int = 0
    deleted: int = 0
    skipped: int = 0
    refused: int = 0
    pages: int = 0
    error: str | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in ("error", "gone")

    def line(self) -> str:
        """One log line: what was polled and what it changed."""
        head = f"#{self.subscription_id} {self.url} {self.status}"
        counts = (
            f"новых {self.new}, изменено {self.updated}, удалено {self.deleted}, "
            f"отклонено {self.refused}, страниц {self.pages}"
        )
        tail = f" — {self.error}" if self.error else ""
        return f"{head}: {counts}, {self.seconds:.2f} с{tail}"


@dataclass
class Summary:
    """Totals of several polls."""

    feeds: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    refused: int = 0
    errors: int = 0
    not_modified: int = 0
    results: list[PollResult] = field(default_factory=list)

    def add(self, result: PollResult) -> None:
        self.feeds += 1
        self.new += result.new
        self.updated += result.updated
        self.deleted += result.deleted
        self.refused += result.refused
        self.errors += result.failed
        self.not_modified += result.status == "not-modified"
        self.results.append(result)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# -- claims --------------------------------------------------------------------


def _lease_free(now: datetime) -> Any:
    return or_(Subscription.lease_until.is_(None), Subscription.lease_until < now)


@dataclass(frozen=True)
class Claim:
    """A subscription a worker holds the lease of, with what a poll needs to start."""

    id: int
    url: str
    etag: str | None
    last_modified: str | None
    backfilled: bool
    failures: int


CLAIM_COLUMNS = (
    Subscription.id,
    Subscription.url,
    Subscription.etag,
    Subscription.last_modified,
    Subscription.backfilled,
    Subscription.failures,
)


def _claim_statement(dialect: str) -> Any:
    """The claim UPDATE, built once per dialect (parameters: now, due_by, n, worker, until)."""
    table = Subscription.__table__
    now = bindparam("c_now")

    def lease_free() -> Any:
        return or_(table.c.lease_until.is_(None), table.c.lease_until < now)

    due = (
        select(table.c.id)
        .where(table.c.state != GONE, table.c.next_poll <= bindparam("c_due_by"), lease_free())
        .order_by(table.c.next_poll, table.c.id)
        .limit(bindparam("c_n"))
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()), lease_free())
        .values(lease_owner=bindparam("c_worker"), lease_until=bindparam("c_until"))
        .returning(*(table.c[column.key] for column in CLAIM_COLUMNS))
    )


_CLAIM_STATEMENTS: dict[str, Any] = {}


def claim_due(
    worker: str, limit: int, lease: timedelta, *, due_by: datetime | None = None
) -> list[Claim]:
    """Claim up to ``limit`` subscriptions due by ``due_by`` (default now).

    PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` inside the UPDATE, so
    workers never wait for each other. SQLite: the UPDATE alone is atomic (the
    database has one writer at a time). The statement is built once and run
    on the session's connection (no ORM layer: it is run many times a poll).
    """
    dialect = db.engine.dialect.name
    statement = _CLAIM_STATEMENTS.get(dialect)
    if statement is None:
        statement = _CLAIM_STATEMENTS[dialect] = _claim_statement(dialect)
    now = utcnow()
    rows = (
        db.session.connection()
        .execute(
            statement,
            {
                "c_now": now,
                "c_due_by": due_by or now,
                "c_n": limit,
                "c_worker": worker,
                "c_until": now + lease,
            },
        )
        .all()
    )
    db.session.commit()
    return sorted((Claim(*row) for row in rows), key=lambda c: c.id)


def count_due(due_by: datetime) -> int:
    count = db.session.scalar(
        select(func.count(Subscription.id)).where(
            Subscription.state != GONE, Subscription.next_poll <= due_by
        )
    )
    db.session.rollback()
    return count or 0


def claim(sub_id: int, worker: str, lease: timedelta) -> Claim | None:
    """Claim one subscription whatever its schedule; None if another worker has it."""
    now = utcnow()
    row = db.session.execute(
        update(Subscription)
        .where(Subscription.id == sub_id, _lease_free(now))
        .values(lease_owner=worker, lease_until=now + lease)
        .returning(*CLAIM_COLUMNS)
    ).first()
    db.session.commit()
    return Claim(*row) if row is not None else None


def renew(sub_id: int, worker: str, lease: timedelta) -> bool:
    """Extend this worker's lease; False if another worker took the subscription over."""
    renewed = db.session.execute(
        update(Subscription)
        .where(Subscription.id == sub_id, Subscription.lease_owner == worker)
        .values(lease_until=utcnow() + lease)
    ).rowcount
    db.session.commit()
    return renewed == 1


# -- mirrored records: the boundary where remote data comes in ---------------------


class RecordError(ValueError):
    """A mirrored record with a field this instance cannot store; ``field`` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _when(
    data: dict[str, Any], name: str, parse: Callable[[str], Any], *, required: bool = False
) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        parsed = parse(value)
    except (TypeError, ValueError):
        raise RecordError(name) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _check(ok: bool, name: str) -> None:
    if not ok:
        raise RecordError(name)


def load_record(raw: dict[str, Any]) -> dict[str, Any]:
    """A record of our extension, as another instance published it, ready to store.

    :mod:`feeds.extension` has checked the shape, the types and the lengths
    already; this checks what storing needs on top (dates, the city slug, the
    choices of ``format`` and ``level``, number ranges) and parses the dates.
    It runs for every mirrored entry (a backfill is thousands), so it is a few
    plain checks rather than a marshmallow schema, which cost ~110 us per
    record, a tenth of mirroring one (``bench/mirror_bench.py``).
    """
    data = dict(raw)
    city = data.get("city") or {}
    _check(data.get("kind") in (Kind.PRACTICE, Kind.EVENT), "kind")
    _check(bool(data.get("id")) and bool(data.get("title")), "title")
    _check(bool(SLUG.match(city.get("slug") or "")), "city.slug")
    _check(bool(city.get("name")), "city.name")
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = city.get(name)
        _check(value is None or -limit <= value <= limit, f"city.{name}")
    data["city"] = {
        key: city.get(key) for key in ("slug", "name", "region", "latitude", "longitude")
    }
    _check(data.get("year") is None or 1000 <= data["year"] <= 9999, "year")
    _check(data.get("participants") is None or data["participants"] >= 0, "participants")
    _check(data.get("format") in (None, *EventFormat.values()), "format")
    _check(data.get("level") in (None, *EventLevel.values()), "level")
    _check(data.get("stage") in (None, *EventStage.values()), "stage")
    _check(data.get("month") is None or 1 <= data["month"] <= 12, "month")
    data["updated"] = _when(data, "updated", datetime.fromisoformat, required=True)
    data["published"] = _when(data, "published", datetime.fromisoformat)
    data["starts_on"] = _when(data, "starts_on", date.fromisoformat)
    data["ends_on"] = _when(data, "ends_on", date.fromisoformat)
    data["topics"] = data.get("topics") or []
    data["tags"] = data.get("tags") or []
    return data


@dataclass(frozen=True)
class Incoming:
    """What the store writes for one version: the record's fields and provenance."""

    data: dict[str, Any]
    source: SourceInfo
    link: str | None


@dataclass(frozen=True)
class Page:
    """One document of a batch: where it was actually fetched from, and its content."""

    url: str
    feed: ParsedFeed


@dataclass
class Batch:
    versions: list[Version] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _generic_data(entry: ParsedEntry, city: dict[str, Any]) -> dict[str, Any]:
    """An entry of an ordinary feed as a generic note of the feed's city."""
    when = entry.published or entry.updated
    tags = [t.strip()[:MAX_TAG] for t in entry.categories if t.strip()][:MAX_TAGS]
    return {
        "id": entry.id,
        "kind": Kind.PRACTICE.value,
        "title": entry.title or GENERIC_TITLE,
        "city": city,
        "topics": [],
        "tags": tags,
        "year": when.year,
        "summary": entry.summary,
        "published": entry.published,
        "updated": entry.updated,
        "url": entry.link,
        "generic": True,
        "content_html": entry.content_html,
    }


def feed_city(head: ParsedFeed, url: str) -> dict[str, Any]:
    """The city that stands for an ordinary (non-ASDG) feed: named after the feed, per site."""
    host = host_of(head.site_url or url) or host_of(url)
    name = (head.title or host or "Лента")[:200]
    return {
        "slug": slug_from_host(head.site_url or url),
        "name": name,
        "region": None,
        "latitude": None,
        "longitude": None,
    }


def _claimed_origin(source: SourceInfo | None, data: dict[str, Any], page_origin: str) -> str:
    """The site a version comes from: the page's, or for a relayed copy, its source's."""
    if source is None:
        return page_origin
    return (
        origin_of(source.url) or origin_of(source.id) or origin_of(data.get("url")) or page_origin
    )


def collect(pages: list[Page], sub_url: str) -> Batch:
    """Every version and tombstone of a batch, as :func:`feeds.decide.decide` wants them."""
    head = pages[0].feed
    own_source = SourceInfo(id=head.feed_id, title=head.title or None, url=head.self_url or sub_url)
    ours = any(e.record is not None for p in pages for e in p.feed.entries)
    generic_city = feed_city(head, sub_url)
    batch = Batch()
    for page in pages:
        page_origin = origin_of(page.url) or origin_of(sub_url) or ""
        batch.problems.extend(page.feed.problems)
        for entry in page.feed.entries:
            if entry.record is None and ours:
                batch.problems.append(f"{entry.id}: запись без расширения asdg пропущена")
                continue
            raw = entry.record
            try:
                data = load_record(raw) if raw is not None else _generic_data(entry, generic_city)
            except RecordError as e:
                batch.problems.append(f"{entry.id}: неверное поле {e.field}")
                continue
            relayed = entry.source
            if relayed is None and raw is not None and isinstance(raw.get("source"), dict):
                s = raw["source"]
                relayed = SourceInfo(id=s.get("id"), title=s.get("title"), url=s.get("url"))
            origin = page_origin if raw is None else _claimed_origin(relayed, data, page_origin)
            incoming = Incoming(
                data=data, source=relayed or own_source, link=data.get("url") or entry.link
            )
            batch.versions.append(
                Version(entry.id, data["updated"], data["city"]["slug"], origin, incoming)
            )
        batch.removals.extend(Removal(t.id, t.when) for t in page.feed.tombstones)
    return batch


# -- reading the mirror's state ---------------------------------------------------


def _chunks(items: Iterable[str]) -> Iterable[list[str]]:
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def stored_state(uids: Iterable[str], *, lock: bool = False) -> dict[str, Stored]:
    """What the mirror holds for these ids (locking the rows on PostgreSQL)."""
    out: dict[str, Stored] = {}
    postgres = db.engine.dialect.name == "postgresql"
    for chunk in _chunks(sorted(set(uids))):
        query = (
            select(Entry.uid, Entry.updated, Entry.origin, City.slug, Entry.subscription_id)
            .join(City, Entry.city_id == City.id)
            .where(Entry.uid.in_(chunk))
            .order_by(Entry.uid)
        )
        if lock and postgres:
            query = query.with_for_update(of=Entry)
        for uid, updated, origin, slug, sub_id in db.session.execute(query):
            out[uid] = Stored(uid, updated, origin == Origin.LOCAL, slug, sub_id)
    return out


def deletions(uids: Iterable[str]) -> dict[str, datetime]:
    """The time of the last tombstone in our change log, for ids no longer stored."""
    out: dict[str, datetime] = {}
    for chunk in _chunks(uids):
        query = (
            select(EntryChange.entry_uid, func.max(EntryChange.at))
            .where(EntryChange.entry_uid.in_(chunk), EntryChange.deleted.is_(True))
            .group_by(EntryChange.entry_uid)
        )
        out.update({uid: when for uid, when in db.session.execute(query)})
    return out


def known_cities(slugs: Iterable[str]) -> dict[str, City]:
    out: dict[str, City] = {}
    for chunk in _chunks(set(slugs)):
        out.update(
            {c.slug: c for c in db.session.scalars(select(City).where(City.slug.in_(chunk)))}
        )
    return out


def plan_batch(
    batch: Batch, sub_id: int, feed_origin: str, *, lock: bool = False
) -> tuple[Plan, dict[str, City]]:
    uids = {v.uid for v in batch.versions} | {r.uid for r in batch.removals}
    stored = stored_state(uids, lock=lock)
    cities = known_cities({v.city for v in batch.versions} | {s.city for s in stored.values()})
    plan = decide(
        batch.versions,
        batch.removals,
        stored=stored,
        deleted=deletions(uids - stored.keys()),
        cities={slug: KnownCity(slug, c.local, c.instance_url) for slug, c in cities.items()},
        feed_origin=feed_origin,
        subscription_id=sub_id,
    )
    return plan, cities


def _updated(entry: ParsedEntry) -> datetime:
    """The exact ``updated`` of an entry: our record's, else the feed's."""
    exact = entry.record.get("updated") if entry.record else None
    if isinstance(exact, str):
        try:
            return datetime.fromisoformat(exact)
        except ValueError:
            pass
    return entry.updated


def page_is_known(page: Page, sub_id: int) -> bool:
    """True when a page shows that nothing older can be missing.

    Either an entry on it was delivered by this subscription at this version or
    later (so the log was read past it before), or the page brings nothing new.
    """
    versions = {e.id: _updated(e) for e in page.feed.entries}
    stored = stored_state(versions.keys() | {t.id for t in page.feed.tombstones})
    for uid, updated in versions.items():
        have = stored.get(uid)
        if have is not None and have.subscription_id == sub_id and have.updated >= updated:
            db.session.rollback()
            return True
    gone = deletions(versions.keys() - stored.keys())
    fresh = any(
        (uid in stored and stored[uid].updated < updated)
        or (uid not in stored and gone.get(uid, updated) < updated)
        or (uid not in stored and uid not in gone)
        for uid, updated in versions.items()
    )
    fresh = fresh or any(
        t.id in stored and stored[t.id].updated <= t.when for t in page.feed.tombstones
    )
    db.session.rollback()  # end the read: no transaction stays open during fetches
    return not fresh


# -- applying a plan ----------------------------------------------------------------


def _city_for(slug: str, data: dict[str, Any], cities: dict[str, City], origin: str) -> City:
    city = cities.get(slug)
    if city is None:
        city = City(slug=slug, name=data["name"], local=False, instance_url=origin)
        db.session.add(city)
        cities[slug] = city
    elif not city.local:
        city.instance_url = city.instance_url or origin
    if not city.local:
        city.name = data["name"]
        city.region = data.get("region")
        city.latitude = data.get("latitude")
        city.longitude = data.get("longitude")
    return city


def _fill(
    entry: Entry, incoming: Incoming, city: City, topics: dict[str, Topic], sub_id: int
) -> None:
    data = incoming.data
    entry.kind = data["kind"]
    entry.city = city
    codes = list(dict.fromkeys(data["topics"]))
    entry.topics = [topics[c] for c in codes if c in topics]
    unknown = [c for c in codes if c not in topics]  # kept as free tags: nothing is lost
    entry.tags = list(dict.fromkeys([*data["tags"], *unknown]))
    for attr in ALL_COLUMNS:
        setattr(entry, attr, None)
    for spec in fields_of(entry.kind):
        setattr(entry, spec.attr, data.get(spec.name))
    entry.summary = data.get("summary") or ""
    practice = entry.kind == Kind.PRACTICE
    generic = practice and bool(data.get("generic"))
    if practice:
        contact = data.get("contact") or {}
        for spec in CONTACT:
            setattr(entry, spec.attr, contact.get(spec.name))
    else:  # records of instances older than contract v2 have no stage and month
        entry.stage = entry.stage or EventStage.HELD.value
        if entry.month is None and entry.starts_on is not None:
            entry.month = entry.starts_on.month
    entry.content_html = sanitize_html(data.get("content_html") or "") if generic else None
    entry.published = data.get("published")
    entry.updated = data["updated"]
    entry.status = Status.PUBLISHED
    entry.origin = Origin.MIRROR
    entry.link = incoming.link
    entry.source_id = incoming.source.id
    entry.source_title = incoming.source.title
    entry.source_url = incoming.source.url
    entry.subscription_id = sub_id


def apply_plan(plan: Plan, cities: dict[str, City], sub_id: int) -> None:
    """Write a plan in the current transaction, change log included."""
    topics = {t.code: t for t in db.session.scalars(select(Topic))}
    entries: dict[str, Entry] = {}
    for chunk in _chunks([v.uid for v in plan.update] + [r.uid for r in plan.delete]):
        found = db.session.scalars(select(Entry).where(Entry.uid.in_(chunk)))
        entries.update({e.uid: e for e in found})
    for slug, origin in plan.bind.items():
        city = cities.get(slug)
        if city is not None and not city.local:
            city.instance_url = origin
    events: list[tuple[datetime, int, int, Entry, str | None]] = []
    for version in (*plan.insert, *plan.update):
        entry = entries.get(version.uid)
        if entry is None:
            entry = Entry(uid=version.uid, created=utcnow())
            db.session.add(entry)
        data = version.payload.data
        city = _city_for(version.city, data["city"], cities, version.origin)
        _fill(entry, version.payload, city, topics, sub_id)
        events.append((version.updated, 0, len(events), entry, _published_html(entry, data)))
    db.session.flush()
    events += [
        (r.when, 1, len(events) + i, entries[r.uid], None) for i, r in enumerate(plan.delete)
    ]
    changes: list[ChangeValues] = []
    for when, deleting, _, entry, html in sorted(events, key=lambda e: e[:3]):
        if deleting:
            changes.append(changelog.tombstone_row(entry, when))
            db.session.delete(entry)
        else:
            refresh_search_text(entry)
            changes.append(changelog.version_row(entry, content_html=html))
    changelog.append(changes)  # one multi-row insert, in log order


def _published_html(entry: Entry, data: dict[str, Any]) -> str | None:
    """The HTML the change log publishes for a mirrored entry, when known without rendering.

    A generic entry's is its stored (sanitized) content; a record of our
    extension carries its publisher's rendering of the same fields, which is
    sanitized again with this service's rules rather than rendered from the
    Markdown anew (rendering is the larger part of storing an entry). None:
    render it.
    """
    if entry.content_html is not None:
        return entry.content_html
    relayed = data.get("content_html")
    return sanitize_html(relayed) if relayed else None


def _lock_subscription(sub_id: int) -> Subscription:
    """Start the batch's write transaction: lock the subscription's row.

    On SQLite the UPDATE takes the database's write lock at once, so nothing
    read after it can change before the commit.
    """
    query = update(Subscription).where(Subscription.id == sub_id).values(id=Subscription.id)
    db.session.execute(query)
    sub = db.session.scalar(select(Subscription).where(Subscription.id == sub_id).with_for_update())
    if sub is None:
        raise FeedError("Подписка удалена во время опроса", field="id")
    return sub


# -- one poll --------------------------------------------------------------------------


@dataclass(frozen=True)
class Head:
    """What the answer for the subscription document said, besides its body."""

    url: str
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    retry_after: str | None
    permanent_url: str | None


@dataclass
class Work:
    """A poll between its network part (:meth:`Poller.prepare`) and its store."""

    claim: Claim
    result: PollResult
    started: float
    head: Head | None = None
    pages: list[Page] = field(default_factory=list)
    error: Exception | None = None

    @property
    def unchanged(self) -> bool:
        """A 304 that only needs its schedule written (done in batches)."""
        return (
            self.error is None
            and self.head is not None
            and not self.pages
            and self.head.permanent_url is None
        )


def _unchanged_statement() -> Any:
    table = Subscription.__table__
    now = bindparam("b_now")
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lease_owner == bindparam("b_worker"))
        .values(
            next_poll=bindparam("b_next"),
            last_poll=now,
            last_success=now,
            state=ACTIVE,
            failures=0,
            last_error=case((table.c.failures > 0, None), else_=table.c.last_error),
            etag=func.coalesce(bindparam("b_etag"), table.c.etag),
            last_modified=func.coalesce(bindparam("b_modified"), table.c.last_modified),
            lease_owner=None,
            lease_until=None,
        )
    )


#: The schedule write of unchanged feeds (304), built once; run as one executemany.
_UNCHANGED = _unchanged_statement()


class Poller:
    """Polls claimed subscriptions for one worker.

    The network part of a poll (fetch, parse, archive walk) runs in threads;
    the store runs in the thread that called :meth:`poll_many`, one feed
    batch per transaction, so a worker process is one writer to the database
    and never waits on itself. Unchanged feeds (304) get their new schedule
    written in batches.
    """

    def __init__(self, app: Flask, fetcher: Fetcher, worker: str) -> None:
        self.app = app
        self.fetcher = fetcher
        self.worker = worker
        self.settings = settings(app)

    def poll(self, claim: Claim) -> PollResult:
        """Poll one claimed subscription, start to end; never raises for feed trouble."""
        work = self.prepare(claim)
        if work.unchanged:
            self.finish_unchanged([work])
            return work.result
        return self.finish(work)

    # -- the network part ------------------------------------------------------------

    def prepare(self, claim: Claim) -> Work:
        """Fetch and read the feed (and its archives when needed); no writes."""
        work = Work(claim, PollResult(claim.id, claim.url, "ok"), time.monotonic())
        try:
            answer = self.fetcher.fetch(
                claim.url, etag=claim.etag, last_modified=claim.last_modified
            )
            work.head = Head(
                answer.url,
                answer.etag,
                answer.last_modified,
                answer.cache_control,
                answer.retry_after,
                answer.permanent_url,
            )
            if not isinstance(answer, Fetched):
                work.result.status = "not-modified"
                return work
            first = Page(answer.url, self._parse(answer))
            work.pages.append(first)
            work.result.pages = 1
            if first.feed.prev_archive and not (
                claim.backfilled and page_is_known(first, claim.id)
            ):
                self._walk(work)
        except (FeedsError, FeedError) as error:
            work.error = error
        return work

    def prepare_in_context(self, claim: Claim) -> Work:
        """:meth:`prepare` in its own app context (own database session): for threads."""
        with self.app.app_context():
            try:
                return self.prepare(claim)
            except Exception as error:  # a bug or an outage: logged, the others go on
                log.exception("poll of subscription %s failed", claim.id)
                work = Work(claim, PollResult(claim.id, claim.url, "error"), time.monotonic())
                work.error = FeedError(f"Внутренняя ошибка: {error}")
                return work

    def _prepare_into(self, claim: Claim, done: queue.SimpleQueue[Work]) -> None:
        """:meth:`prepare_in_context`, its result put on ``done`` (run in the pool's threads)."""
        work = None
        try:
            work = self.prepare_in_context(claim)
        finally:
            if work is None:  # interrupted: still reported, so poll_many never waits for it
                work = Work(claim, PollResult(claim.id, claim.url, "error"), time.monotonic())
                work.error = FeedError("Опрос прерван")
            done.put(work)

    def _parse(self, fetched: Fetched) -> ParsedFeed:
        return parse_feed(fetched.body, url=fetched.url, content_type=fetched.content_type)

    def _walk(self, work: Work) -> None:
        """Follow prev-archive back to the start (first poll) or to a known page.

        Archive documents never change, so a mirror that has read the history
        only reads further back when the head moved past pages it has not
        seen (more than a page of changes between two polls).
        """
        pages, result = work.pages, work.result
        seen = {pages[0].url}
        renewed = time.monotonic()
        lease = self.settings.lease.total_seconds()
        while (link := pages[-1].feed.prev_archive) is not None:
            if link in seen:
                return
            if len(pages) > self.settings.max_pages:
                log.warning("archive walk of %s stopped at %d pages", result.url, len(pages) - 1)
                return
            seen.add(link)
            if time.monotonic() - renewed > lease / 3:
                renew(result.subscription_id, self.worker, self.settings.lease)
                renewed = time.monotonic()
            try:
                answer = self.fetcher.fetch(link)
                if not isinstance(answer, Fetched):
                    raise FetchError("Архивная страница ответила 304 без запроса")
                page = Page(answer.url, self._parse(answer))
            except FeedsError as error:
                raise FeedError(f"Архивная страница {link}: {error}") from error
            pages.append(page)
            result.pages += 1
            if work.claim.backfilled and page_is_known(page, result.subscription_id):
                return

    # -- the store -------------------------------------------------------------------

    def finish(self, work: Work) -> PollResult:
        """Store a prepared poll (one transaction) or record its failure.

        Whatever goes wrong in the store, the transaction is rolled back (the
        mirror keeps its previous state) and the error is recorded on the
        subscription, with the traceback in the log; the worker goes on.
        """
        result = work.result
        if work.error is None:
            try:
                self._store(work)
            except FeedError as error:
                work.error = error
            except Exception as error:  # a bug or an outage: logged and recorded
                log.exception("storing subscription %s failed", work.claim.id)
                work.error = FeedError(f"Внутренняя ошибка: {error}")
        if work.error is not None:
            db.session.rollback()
            self._failed(result, work.error, work.claim.failures)
        result.seconds = time.monotonic() - work.started
        return result

    def _store(self, work: Work) -> None:
        batch = collect(work.pages, work.claim.url)
        for attempt in range(STORE_ATTEMPTS):
            try:
                self._store_once(work, batch)
                return
            except (IntegrityError, OperationalError) as error:
                db.session.rollback()
                if attempt == STORE_ATTEMPTS - 1:
                    raise FeedError(f"Не удалось сохранить записи: {error.orig}") from error
                time.sleep(0.05 * (attempt + 1))

    def _store_once(self, work: Work, batch: Batch) -> None:
        result, head = work.result, work.head
        assert head is not None
        sub = _lock_subscription(result.subscription_id)
        if work.pages:
            plan, cities = plan_batch(batch, sub.id, origin_of(head.url) or "", lock=True)
            apply_plan(plan, cities, sub.id)
            result.new, result.updated = len(plan.insert), len(plan.update)
            result.deleted, result.skipped = len(plan.delete), plan.skipped
            result.refused = len(plan.refused)
            feed = work.pages[0].feed
            sub.title = feed.title or sub.title
            sub.site_url = feed.site_url or sub.site_url
            sub.entries_mirrored = (
                db.session.scalar(
                    select(func.count(Entry.id)).where(Entry.subscription_id == sub.id)
                )
                or 0
            )
            sub.last_error = describe_trouble(plan.refused, batch.problems)
            sub.etag, sub.last_modified = head.etag, head.last_modified
            sub.backfilled = True
        elif sub.failures:
            sub.last_error = None
        if (
            head.permanent_url
            and head.permanent_url != sub.url
            and not db.session.scalar(
                select(Subscription.id).where(Subscription.url == head.permanent_url)
            )
        ):
            sub.url = head.permanent_url
        now = utcnow()
        sub.state, sub.failures = ACTIVE, 0
        sub.last_poll = sub.last_success = now
        sub.next_poll = self._next_poll(head, now)
        if sub.lease_owner == self.worker:
            sub.lease_owner = sub.lease_until = None
        db.session.commit()
        result.error = sub.last_error

    def _next_poll(self, head: Head, now: datetime) -> datetime:
        return after_success(
            now,
            self.settings.policy,
            max_age=parse_max_age(head.cache_control),
            retry_after=parse_retry_after(head.retry_after, now),
            rand=random.random(),
        )

    def finish_unchanged(self, works: list[Work]) -> None:
        """Write the new schedule of feeds that answered 304, in one transaction."""
        if not works:
            return
        now = utcnow()
        rows = [
            {
                "b_id": w.claim.id,
                "b_worker": self.worker,
                "b_now": now,
                "b_next": self._next_poll(w.head, now),
                "b_etag": w.head.etag,
                "b_modified": w.head.last_modified,
            }
            for w in works
            if w.head is not None
        ]
        db.session.connection().execute(_UNCHANGED, rows)
        db.session.commit()
        for work in works:
            work.result.seconds = time.monotonic() - work.started

    def _failed(self, result: PollResult, error: Exception, failures: int) -> None:
        message = getattr(error, "message", None) or str(error)
        if isinstance(error, FeedsError) and not isinstance(error, FetchError):
            message = f"Лента не прочитана: {message}"
        now = utcnow()
        sub = db.session.get(Subscription, result.subscription_id)
        result.status = "gone" if isinstance(error, FeedGoneError) else "error"
        result.error = message
        if sub is None:
            return
        sub.state = GONE if isinstance(error, FeedGoneError) else ERROR
        sub.last_poll = now
        sub.last_error = message[:2000]
        sub.failures = failures + 1
        retry = getattr(error, "retry_after", None)
        sub.next_poll = after_failure(
            now,
            self.settings.policy,
            failures=sub.failures,
            retry_after=retry,
            rand=random.random(),
        )
        if sub.lease_owner == self.worker:
            sub.lease_owner = sub.lease_until = None
        db.session.commit()

    # -- many at once ------------------------------------------------------------------

    def _still_ours(self, sub_id: int, held: dict[int, float]) -> bool:
        """Renew the lease of a claim that waited long in the queue; False if lost."""
        lease = self.settings.lease
        if time.monotonic() - held[sub_id] < lease.total_seconds() / 2:
            return True
        if renew(sub_id, self.worker, lease):
            held[sub_id] = time.monotonic()
            return True
        del held[sub_id]
        return False

    def poll_many(
        self,
        claim_more: Callable[[int], list[Claim]],
        on_result: Callable[[PollResult], None] | None = None,
        *,
        limit: int | None = None,
    ) -> Summary:
        """Poll concurrently, bounded overall and per host, claiming as slots free.

        ``claim_more(n)`` claims up to n subscriptions; a worker holds at most
        about ``CLAIM_BATCH + 1`` times its concurrency, so other workers take the rest. Stops
        when a claim comes back short (nothing more is due) or after ``limit``.
        """
        summary = Summary()
        queues: dict[str, deque[Claim]] = {}
        running: Counter[str] = Counter()
        done: queue.SimpleQueue[Work] = queue.SimpleQueue()  # finished network parts
        busy = 0  # network parts running
        hosts: dict[int, str] = {}  # claimed and not finished: the host of each
        unchanged: list[Work] = []
        held: dict[int, float] = {}  # claimed and not finished: when claimed or renewed
        size, per_host = self.settings.concurrency, self.settings.per_host
        claimed, exhausted = 0, False

        def report(result: PollResult) -> None:
            summary.add(result)
            if on_result is not None:
                on_result(result)

        def flush_unchanged() -> None:
            self.finish_unchanged(unchanged)
            for work in unchanged:
                report(work.result)
            unchanged.clear()

        with ThreadPoolExecutor(max_workers=size, thread_name_prefix="mirror") as pool:
            while True:
                waiting = sum(len(q) for q in queues.values())
                want = CLAIM_BATCH * size if waiting < size else 0
                if limit is not None:
                    want = min(want, limit - claimed)
                if not exhausted and want > 0:
                    batch = claim_more(want)
                    claimed += len(batch)
                    exhausted = len(batch) < want or (limit is not None and claimed >= limit)
                    for claim in batch:
                        if claim.id not in held:  # our own lease ran out while queued
                            held[claim.id] = time.monotonic()
                            hosts[claim.id] = host = host_of(claim.url)
                            queues.setdefault(host, deque()).append(claim)
                for host in list(queues):
                    while queues[host] and running[host] < per_host and busy < size:
                        claim = queues[host].popleft()
                        if not self._still_ours(claim.id, held):
                            del hosts[claim.id]
                            continue
                        pool.submit(self._prepare_into, claim, done)
                        running[host] += 1
                        busy += 1
                    if not queues[host]:
                        del queues[host]
                if not busy:
                    break
                finished = [done.get()]
                with contextlib.suppress(queue.Empty):
                    while True:
                        finished.append(done.get_nowait())
                for work in finished:
                    busy -= 1
                    running[hosts.pop(work.claim.id)] -= 1
                    held.pop(work.claim.id, None)
                    if work.unchanged:
                        unchanged.append(work)
                    else:
                        report(self.finish(work))
                if len(unchanged) >= UNCHANGED_BATCH or not busy:
                    flush_unchanged()
            flush_unchanged()
        return summary


def describe_trouble(refused: Iterable[Refused], problems: list[str]) -> str | None:
    """The subscription's error text for refused and unreadable entries; None if none."""
    refused = list(refused)
    parts: list[str] = []
    if refused:
        reasons = dict.fromkeys(REFUSALS[r.reason].format(city=r.city) for r in refused)
        parts.append(f"Отклонено записей: {len(refused)} — " + "; ".join(list(reasons)[:3]))
    if problems:
        parts.append(f"Пропущено записей с ошибками: {len(problems)} — {problems[0]}")
    return ". ".join(parts) if parts else None
