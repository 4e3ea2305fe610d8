"""Writing a poll's outcome: the plan of a batch, the schedule, a failure.

:func:`apply_plan` writes what :func:`feeds.decide.decide` planned (entries,
the cities they name, this instance's change log through
:func:`service.entries.changelog.append`). :class:`Writer` stores one whole
poll in one transaction (the head and every archive page read in the same
poll), so a crash in the middle leaves the previous state and the next poll
does the whole batch again; it also writes the schedule of unchanged feeds
(304) in batches and records failures.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, func, insert, inspect, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.sql.elements import BindParameter

from feeds import bounds
from feeds.decide import Plan
from feeds.errors import FeedGoneError
from feeds.schedule import Policy, after_failure, after_success, parse_max_age, parse_retry_after
from feeds.types import ParsedFeed
from feeds.urls import origin_of
from service.entries import changelog
from service.entries.changelog import ChangeValues
from service.entries.service import refresh_search_text
from service.errors import FeedError
from service.fields import CONTACT, FIELDS, fields_of
from service.mirror import push
from service.mirror.records import Batch, Head, Incoming, Page, collect
from service.mirror.results import (
    NOT_MODIFIED_TEXT,
    PollResult,
    add_reasons,
    describe_trouble,
    failure_text,
    poll_message,
    progress_message,
    storage_error,
)
from service.mirror.state import chunks, plan_batch
from service.store.models import City, Entry, Subscription, Topic, db, entry_topics, utcnow
from service.trust.pins import KeyRing
from service.vocab import EventStage, Kind, Origin, PollStatus, Status, SubscriptionState

#: Attempts at storing a batch that clashed with a concurrent one (same new id).
STORE_ATTEMPTS = 3
#: Every column a record's fields fill, of both kinds: a stored version sets them all.
log = logging.getLogger(__name__)
ALL_COLUMNS = sorted(
    {spec.attr for specs in FIELDS.values() for spec in specs} | {spec.attr for spec in CONTACT}
)

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


def _values(
    incoming: Incoming, city: City, topics: dict[str, Topic], sub_id: int
) -> dict[str, Any]:
    """Every attribute a stored version sets on its entry (the columns of both kinds)."""
    data, source = incoming.data, incoming.source
    kind = data["kind"]
    codes = list(dict.fromkeys(data["topics"]))
    unknown = [c for c in codes if c not in topics]  # kept as free tags: nothing is lost
    values: dict[str, Any] = dict.fromkeys(ALL_COLUMNS)
    values.update(
        kind=kind,
        city=city,
        topics=[topics[c] for c in codes if c in topics],
        tags=list(dict.fromkeys([*data["tags"], *unknown])),
    )
    for spec in fields_of(kind):
        values[spec.attr] = data.get(spec.name)
    values["summary"] = data.get("summary") or ""
    practice = kind == Kind.PRACTICE
    generic = practice and bool(data.get("generic"))
    if practice:
        contact = data.get("contact") or {}
        for spec in CONTACT:
            values[spec.attr] = contact.get(spec.name)
    else:  # records of instances older than contract v2 have no stage and month
        values["stage"] = values["stage"] or EventStage.HELD.value
        if values["month"] is None and values["starts_on"] is not None:
            values["month"] = values["starts_on"].month
    values.update(
        # Sanitized while parsing, under the one policy (feeds.html): no second pass here.
        content_html=(data.get("content_html") or "") if generic else None,
        published=data.get("published"),
        updated=data["updated"],
        status=Status.PUBLISHED,
        origin=Origin.MIRROR,
        link=incoming.link,
        source_id=source.id if source else None,
        source_title=source.title if source else None,
        source_url=source.url if source else None,
        subscription_id=sub_id,
        signature=None if generic else data.get("signature"),
        key_id=None if generic else data.get("key_id"),
    )
    return values


def _fill(entry: Entry, values: dict[str, Any], *, new: bool) -> None:
    """Set the values on the entry: tracked for a stored one, directly on a new one.

    A new entry never joins the session (:func:`_insert_new` writes its row),
    so its values go straight into the instance's dictionary, skipping the
    attribute instrumentation (change history, collection adapters) that was
    a quarter of a cold poll's store time.
    """
    if new:
        vars(entry).update(values)
        return
    for name, value in values.items():
        setattr(entry, name, value)


def _published_html(entry: Entry) -> str | None:
    """The HTML the change log publishes for a mirrored entry, when known without rendering.

    A generic entry's is its stored (sanitized) content. A record of our
    extension is rendered here from its fields: the HTML beside a record in
    a feed is not covered by its signature (``feeds.signing.UNSIGNED``), so a
    relay could show feed readers other words than the signed ones under the
    origin's name. None: render it.
    """
    return entry.content_html


def _insert_new(new: list[Entry]) -> None:
    """Insert new entries with one multi-row statement, then their topics.

    The entries are filled like any other but never join the session: the
    ORM's unit of work (change tracking, one flush step per object) was the
    larger part of storing a cold feed. Their ids come back with RETURNING and
    are set on the objects, which the change-log rows are then built from.
    """
    if not new:
        return
    keys = sorted(_COLUMNS.intersection(set().union(*(vars(entry) for entry in new))))
    rows = [{key: getattr(entry, key) for key in keys} for entry in new]
    table = cast(Table, Entry.__table__)  # Core: no ORM bulk machinery per row
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = db.session.execute(statement, rows).scalars().all()
    for entry, new_id in zip(new, ids, strict=True):
        entry.id = new_id
    links = [{"entry_id": e.id, "topic_code": t.code} for e in new for t in e.topics]
    if links:
        db.session.execute(insert(entry_topics), links)


#: The columns of an entry that a stored version writes (the id comes from the database).
_COLUMNS = {attr.key for attr in inspect(Entry).column_attrs} - {"id"}


def apply_plan(plan: Plan, cities: dict[str, City], sub_id: int) -> None:
    """Write a plan in the current transaction, change log included."""
    topics = {t.code: t for t in db.session.scalars(select(Topic))}
    entries: dict[str, Entry] = {}
    for chunk in chunks([v.uid for v in plan.update] + [r.uid for r in plan.delete]):
        found = db.session.scalars(select(Entry).where(Entry.uid.in_(chunk)))
        entries.update({e.uid: e for e in found})
    for slug, origin in plan.bind.items():
        city = cities.get(slug)
        if city is not None and not city.local:
            city.instance_url = origin
    events: list[tuple[datetime, int, int, Entry, str | None]] = []
    new: list[Entry] = []
    now = utcnow()
    for version in (*plan.insert, *plan.update):
        entry = entries.get(version.uid)
        fresh = entry is None
        if entry is None:
            entry = Entry(uid=version.uid, created=now)
            new.append(entry)
        data = version.payload.data
        city = _city_for(version.city, data["city"], cities, version.origin)
        _fill(entry, _values(version.payload, city, topics, sub_id), new=fresh)
        refresh_search_text(entry)
        events.append((version.updated, 0, len(events), entry, _published_html(entry)))
    db.session.flush()  # updated entries and new cities (the new entries need their ids)
    for entry in new:
        entry.city_id = entry.city.id
    _insert_new(new)
    events += [
        (r.when, 1, len(events) + i, entries[r.uid], None) for i, r in enumerate(plan.delete)
    ]
    signatures = {r.uid: r.payload for r in plan.delete if r.payload is not None}
    changes: list[ChangeValues] = []
    for when, deleting, _, entry, html in sorted(events, key=lambda e: e[:3]):
        if deleting:
            changes.append(changelog.tombstone_row(entry, when, signatures.get(entry.uid)))
            db.session.delete(entry)
        else:
            changes.append(changelog.version_row(entry, content_html=html))
    changelog.append(changes)  # one multi-row insert, in log order


# -- the subscription's row ------------------------------------------------------------


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


def _unchanged_statement() -> Any:
    table = cast(Table, Subscription.__table__)
    now: BindParameter[datetime] = bindparam("b_now")
    return (
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.lease_owner == bindparam("b_worker"))
        .values(
            next_poll=bindparam("b_next"),
            last_poll=now,
            last_success=now,
            state=SubscriptionState.ACTIVE,
            failures=0,
            last_error=case((table.c.failures > 0, None), else_=table.c.last_error),
            etag=func.coalesce(bindparam("b_etag"), table.c.etag),
            last_modified=func.coalesce(bindparam("b_modified"), table.c.last_modified),
            lease_owner=None,
            lease_until=None,
            poll_requested=None,
            poll_progress=NOT_MODIFIED_TEXT,
        )
    )


#: The schedule write of unchanged feeds (304), built once; run as one executemany.
_UNCHANGED = _unchanged_statement()


def _follow_move(sub: Subscription, head: Head) -> None:
    """Keep the feed's new URL after a permanent redirect (unless subscribed already)."""
    if (
        head.permanent_url
        and head.permanent_url != sub.url
        and not db.session.scalar(
            select(Subscription.id).where(Subscription.url == head.permanent_url)
        )
    ):
        sub.url = head.permanent_url


def _count_mirrored(sub_id: int) -> int:
    return (
        db.session.scalar(select(func.count(Entry.id)).where(Entry.subscription_id == sub_id)) or 0
    )


def store_document(sub: Subscription, result: PollResult, batch: Batch, origin: str) -> None:
    """Decide and write a batch of a subscription (locked) in the current transaction.

    The one path every document takes, polled or pushed: the plan of
    :func:`feeds.decide.decide` over what is stored, written by
    :func:`apply_plan`; ``result`` gets the counts, the subscription its
    entry count and the description of what was refused.
    """
    plan, cities = plan_batch(batch, sub.id, origin, lock=True)
    apply_plan(plan, cities, sub.id)
    result.new += len(plan.insert)
    result.updated += len(plan.update)
    result.deleted += len(plan.delete)
    result.skipped += plan.skipped
    result.refused += len(plan.refused) + batch.refused
    result.links_dropped += batch.links_dropped
    result.waiting += batch.waiting
    sub.entries_mirrored = _count_mirrored(sub.id)
    sub.last_error = describe_trouble(plan.refused, batch.problems)
    sub.refused_count = result.refused
    sub.refusal_reasons = add_reasons(result, plan.refused, [*batch.problems, *batch.link_reasons])
    sub.links_dropped = result.links_dropped


def store_pushed(sub_id: int, page: Page) -> PollResult:
    """Store a document a hub pushed for a subscription: the same path as a poll's.

    One transaction (the subscription's row locked first, as a poll does, so
    a push and a poll of one feed never interleave); a clash with a
    concurrent batch (the same new id) is retried. Raises :class:`FeedError`
    when the subscription is gone or the batch cannot be stored.
    """
    result = PollResult(sub_id, page.url, PollStatus.OK, pages=1)
    for attempt in range(STORE_ATTEMPTS):
        try:
            sub = _lock_subscription(sub_id)
            store_document(sub, result, collect([page], sub.url), origin_of(page.url) or "")
            db.session.commit()
            return result
        except (IntegrityError, OperationalError) as error:
            db.session.rollback()
            if attempt == STORE_ATTEMPTS - 1:
                raise storage_error(error) from error
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def _retried(result: PollResult, store: Callable[[], None]) -> None:
    """Run a store transaction, again after a clash with a concurrent batch (the same new id).

    The poll's counts are put back before a retry; a :class:`FeedError`
    says the batch could not be stored (a short Russian message, no SQL).
    """
    saved = {**vars(result), "reasons": list(result.reasons)}
    for attempt in range(STORE_ATTEMPTS):
        try:
            store()
            return
        except (IntegrityError, OperationalError) as error:
            db.session.rollback()
            vars(result).update({**saved, "reasons": list(saved["reasons"])})
            if attempt == STORE_ATTEMPTS - 1:
                raise storage_error(error) from error
            time.sleep(0.05 * (attempt + 1))


@dataclass(frozen=True)
class Writer:
    """Writes the polls of one worker (``worker``), scheduling with ``policy``.

    While push works for a feed, ``push_policy`` schedules it instead (a
    longer interval), and never later than the end of the push lease.
    """

    worker: str
    policy: Policy
    push_policy: Policy | None = None
    #: How long a lease lasts (renewed by every batch a backfill stores).
    lease: timedelta = timedelta(minutes=15)

    def next_poll(self, head: Head, now: datetime, push_until: datetime | None = None) -> datetime:
        pushed = push_until is not None and self.push_policy is not None
        when = after_success(
            now,
            self.push_policy if pushed and self.push_policy else self.policy,
            max_age=parse_max_age(head.cache_control),
            retry_after=parse_retry_after(head.retry_after, now),
            rand=random.random(),
        )
        return min(when, push_until) if pushed and push_until is not None else when

    def _push_until(self, sub_ids: Iterable[int]) -> dict[int, datetime]:
        return push.push_until(sub_ids) if self.push_policy is not None else {}

    def _release(self, sub: Subscription) -> None:
        if sub.lease_owner == self.worker:
            sub.lease_owner = sub.lease_until = None

    def store(
        self, result: PollResult, head: Head, pages: list[Page], keys: KeyRing | None = None
    ) -> None:
        """Store a poll that read ``pages`` (none: a 304 to a moved URL), in one transaction.

        A clash with a concurrent batch (the same new id) is retried; a
        :class:`FeedError` says the batch could not be stored.
        """
        batch = collect(pages, result.url, keys=keys) if pages else Batch()
        _retried(result, lambda: self._store_once(result, head, pages, batch))

    def store_archives(
        self,
        result: PollResult,
        head: ParsedFeed,
        pages: list[Page],
        cursor: str,
        keys: KeyRing | None = None,
    ) -> None:
        """Store a few archive pages of a backfill in one short transaction, with its cursor.

        ``cursor`` (the newest of ``pages``) is saved with them, so a backfill
        killed at any point resumes after the last batch stored: nothing is
        lost, and what is read twice is skipped (the same version).
        """
        batch = collect(pages, result.url, head, keys)

        def once() -> None:
            sub = _lock_subscription(result.subscription_id)
            if sub.lease_owner != self.worker:
                raise FeedError("Опрос передан другому процессу", field="id")
            store_document(sub, result, batch, origin_of(pages[0].url) or "")
            sub.backfill_cursor = cursor
            sub.backfill_pages += len(pages)
            sub.poll_progress = progress_message(result, sub.backfill_pages)
            sub.lease_until = utcnow() + self.lease
            db.session.commit()

        _retried(result, once)

    def _store_once(self, result: PollResult, head: Head, pages: list[Page], batch: Batch) -> None:
        sub = _lock_subscription(result.subscription_id)
        if pages:
            self._store_batch(sub, result, head, pages, batch)
        elif sub.failures:
            sub.last_error = None
        _follow_move(sub, head)
        now = utcnow()
        sub.state, sub.failures = SubscriptionState.ACTIVE, 0
        sub.last_poll = sub.last_success = now
        sub.poll_requested = None
        sub.next_poll = self.next_poll(head, now, self._push_until([sub.id]).get(sub.id))
        self._release(sub)
        result.error = sub.last_error
        sub.poll_progress = poll_message(result)[:500]
        db.session.commit()

    def _store_batch(
        self, sub: Subscription, result: PollResult, head: Head, pages: list[Page], batch: Batch
    ) -> None:
        store_document(sub, result, batch, origin_of(head.url) or "")
        feed = pages[0].feed
        sub.title = bounds.BAD_TEXT.sub("", feed.title) or sub.title
        sub.site_url = feed.site_url or sub.site_url
        sub.etag, sub.last_modified = head.etag, head.last_modified
        sub.backfilled = True
        sub.backfill_cursor, sub.backfill_pages = None, 0
        if result.waiting:  # records wait for their site's key: read everything again next time
            sub.etag = sub.last_modified = None
            sub.backfilled = False
        if self.push_policy is not None:
            if result.new or result.updated or result.deleted:
                push.missed_by_push(sub.id)
            push.note_hub(sub.id, head.link, feed, head.url)

    def store_unchanged(self, heads: Iterable[tuple[int, Head]]) -> None:
        """Write the new schedule of feeds that answered 304, in one transaction."""
        now = utcnow()
        heads = list(heads)
        pushed = self._push_until(sub_id for sub_id, _ in heads)
        rows = [
            {
                "b_id": sub_id,
                "b_worker": self.worker,
                "b_now": now,
                "b_next": self.next_poll(head, now, pushed.get(sub_id)),
                "b_etag": head.etag,
                "b_modified": head.last_modified,
            }
            for sub_id, head in heads
        ]
        if rows:
            db.session.connection().execute(_UNCHANGED, rows)
            db.session.commit()

    def record_failure(self, result: PollResult, error: Exception, failures: int) -> None:
        """A failed poll: its result, and on the subscription its error and the retry.

        The lease is released whatever happens: if the database refuses the
        error record, a plain release is tried after it.
        """
        gone = isinstance(error, FeedGoneError)
        result.status = PollStatus.GONE if gone else PollStatus.ERROR
        result.error = message = bounds.BAD_TEXT.sub("", failure_text(error))[:2000]
        try:
            self._record_failure(result, gone, message, failures, error)
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("recording the failure of subscription %s", result.subscription_id)
            db.session.execute(
                update(Subscription)
                .where(
                    Subscription.id == result.subscription_id,
                    Subscription.lease_owner == self.worker,
                )
                .values(lease_owner=None, lease_until=None)
            )
            db.session.commit()

    def _record_failure(
        self, result: PollResult, gone: bool, message: str, failures: int, error: Exception
    ) -> None:
        sub = db.session.get(Subscription, result.subscription_id)
        if sub is None:
            return
        now = utcnow()
        sub.state = SubscriptionState.GONE if gone else SubscriptionState.ERROR
        sub.last_poll = now
        sub.last_error = message
        sub.failures = failures + 1
        sub.poll_requested = None
        sub.poll_progress = poll_message(result)[:500]
        sub.next_poll = after_failure(
            now,
            self.policy,
            failures=sub.failures,
            retry_after=getattr(error, "retry_after", None),
            rand=random.random(),
        )
        self._release(sub)
        db.session.commit()
