"""Subscriptions to other instances' (or anyone's) feeds: the service functions.

The API, the admin pages and the CLI call these (add, list, remove, poll one,
poll what is due, run on schedule); the mirroring machinery is in the other
modules of :mod:`service.mirror`.

Removing a subscription stops polling it. The entries it brought stay by
default: the origin did not delete them, so this instance must not announce
tombstones for them; they remain a read-only copy with their provenance
(``source_*``, ``link``), and a later subscription to the same site (or a
relay) can update or delete them. ``purge=True`` deletes them instead, each
with a tombstone in this instance's change log, so its own subscribers drop
them too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from feeds import bounds
from feeds.discover import feed_links, looks_like_html, read_opml
from feeds.errors import FeedsError
from feeds.fetch import Fetched, Fetcher
from feeds.parse import parse_feed
from feeds.types import DroppedLink, ParsedFeed
from feeds.urls import is_http_url, origin_of
from service.entries.changelog import record_deletion
from service.errors import ConflictError, NotFoundError, ValidationError
from service.mirror.checks import Links
from service.mirror.claims import (
    Claim,
    claim,
    claim_due,
    count_all,
    count_due,
    seconds_until_due,
    worker_name,
)
from service.mirror.poller import Poller
from service.mirror.results import PollResult, Summary, error_text
from service.mirror.scheduler import poll_many
from service.mirror.settings import settings
from service.store.models import Entry, Subscription, db, utcnow
from service.trust import pins

MAX_URL = 2000


def _check_url(url: str) -> str:
    url = (url or "").strip()
    if not url or len(url) > MAX_URL or not is_http_url(url):
        raise ValidationError("Укажите адрес ленты или страницы: http:// или https://", field="url")
    return url


def _conflict_if_subscribed(url: str) -> None:
    if db.session.scalar(select(Subscription.id).where(Subscription.url == url)):
        raise ConflictError(f"Подписка на {url} уже есть", field="url")


def fetcher() -> Fetcher:
    return Fetcher(settings().fetch)


def find_feed(url: str) -> tuple[str, str | None, ParsedFeed]:
    """The feed at ``url`` or announced by the page at ``url``: (url, title, the feed read).

    The URL kept is the one asked for (or the page's feed link), unless the
    server moved it permanently.
    """
    with fetcher() as client:
        try:
            feed_url = url
            answer = client.fetch(url)
            if isinstance(answer, Fetched) and looks_like_html(answer.body, answer.content_type):
                links = feed_links(answer.body, answer.url)
                if not links:
                    raise ValidationError(
                        "На странице нет ссылки на ленту (link rel=alternate)", field="url"
                    )
                feed_url = links[0]
                answer = client.fetch(feed_url)
            if not isinstance(answer, Fetched):
                raise ValidationError("Сервер не отдал ленту", field="url")
            feed = parse_feed(answer.body, url=answer.url, content_type=answer.content_type)
        except FeedsError as error:
            raise ValidationError(f"Лента недоступна: {error_text(error)}", field="url") from error
    title = bounds.BAD_TEXT.sub("", feed.title) or None
    return answer.permanent_url or feed_url, title, feed


def add_subscription(url: str) -> Subscription:
    """Subscribe to a feed, given its URL or the URL of a page that links it.

    The feed is fetched once to check that it is one (and to find it on a
    page); it is polled (and its history read) by the next ``mirror poll``.
    """
    url = _check_url(url)
    _conflict_if_subscribed(url)
    feed_url, title, feed = find_feed(url)
    _conflict_if_subscribed(feed_url)
    sub = Subscription(url=feed_url, title=title, site_url=feed.site_url, next_poll=utcnow())
    _count_dropped(sub, feed_url, feed.dropped_links)
    db.session.add(sub)
    try:
        db.session.commit()
    except IntegrityError as error:  # subscribed by someone else meanwhile
        db.session.rollback()
        raise ConflictError(f"Подписка на {feed_url} уже есть", field="url") from error
    return sub


def _count_dropped(sub: Subscription, where: str, dropped: tuple[DroppedLink, ...]) -> None:
    """A new subscription's links dropped when subscribing, shown until its first poll."""
    links = Links()
    links.note(where, dropped)
    sub.links_dropped = links.dropped
    sub.refusal_reasons = "\n".join(links.reasons) or None


def import_opml(data: bytes) -> list[Subscription]:
    """Subscribe to every feed an OPML file lists (those not subscribed yet).

    OPML names feed URLs directly, so nothing is fetched here: the feeds are
    checked when they are polled, and a bad one shows its error in the list.
    """
    try:
        outlines = read_opml(data)
    except FeedsError as error:
        raise ValidationError(str(error), field="opml") from error
    existing = set(db.session.scalars(select(Subscription.url)))
    created: list[Subscription] = []
    for outline in outlines:
        if outline.xml_url in existing or len(outline.xml_url) > MAX_URL:
            continue
        sub = Subscription(
            url=outline.xml_url,
            title=outline.text or None,
            site_url=outline.html_url,
            next_poll=utcnow(),
        )
        _count_dropped(sub, outline.xml_url, outline.dropped_links)
        db.session.add(sub)
        existing.add(outline.xml_url)
        created.append(sub)
    db.session.commit()
    return created


def get_subscription(sub_id: int) -> Subscription:
    sub = db.session.get(Subscription, sub_id)
    if sub is None:
        raise NotFoundError("Подписка не найдена", field="id")
    return sub


def list_subscriptions() -> list[Subscription]:
    return list(db.session.scalars(select(Subscription).order_by(Subscription.id)))


def remove_subscription(sub_id: int, *, purge: bool = False) -> None:
    """Stop mirroring a feed; see the module notes for what happens to its entries."""
    sub = get_subscription(sub_id)
    entries = db.session.scalars(select(Entry).where(Entry.subscription_id == sub.id))
    for entry in entries:
        if purge:
            record_deletion(entry)
            db.session.delete(entry)
        else:
            entry.subscription_id = None
    # What only this subscription brought is released: its pinned keys, its sites' cities.
    pins.release(sub.id)
    pins.release_cities(origin_of(sub.url), sub.id)
    db.session.delete(sub)
    db.session.flush()
    pins.retry_refused()
    db.session.commit()


def request_poll(sub_id: int) -> Subscription:
    """ "Poll now": mark the subscription due at once; the worker (``mirror run``) polls it.

    Returns at once (the HTTP front ends answer 202): the poll, with its
    archive walk, runs in the worker, never in a web request. A stopped
    subscription (410) is polled too. Its progress and result show on the
    subscription (``poll_requested``, ``poll_progress``).
    """
    sub = get_subscription(sub_id)
    now = utcnow()
    sub.poll_requested = now
    sub.next_poll = min(sub.next_poll, now)
    db.session.commit()
    return sub


def poll_subscription(sub_id: int) -> PollResult:
    """Poll one subscription now, whatever its schedule (not while another poll runs)."""
    get_subscription(sub_id)
    config = settings()
    worker = worker_name()
    claimed = claim(sub_id, worker, config.lease)
    if claimed is None:
        raise ConflictError("Эту ленту сейчас опрашивает другой процесс", field="id")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with Fetcher(config.fetch) as client:
        return Poller(app, client, worker).poll(claimed)


def poll_due(
    *,
    everything: bool = False,
    limit: int | None = None,
    worker: str | None = None,
    fetcher: Fetcher | None = None,
    on_start: Callable[[int], None] | None = None,
    on_result: Callable[[PollResult], None] | None = None,
) -> Summary:
    """Poll every subscription due now, once, concurrently (up to ``limit`` feeds).

    ``everything``: every subscription, due or not (``mirror poll --all``).
    Work is claimed a few feeds at a time, so other workers sharing the
    database take their share. ``on_start`` gets the number to poll (for a
    progress bar), ``on_result`` each result as it comes. The summary counts
    the subscriptions that were not due too.
    """
    started = time.monotonic()
    config = settings()
    worker = worker or worker_name()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    now = utcnow()
    due, not_due = (count_all(), 0) if everything else count_due(now)
    if on_start is not None:
        on_start(min(due, limit) if limit else due)

    def claim_more(n: int) -> list[Claim]:
        return claim_due(worker, n, config.lease, due_by=now, everything=everything)

    client = fetcher or Fetcher(config.fetch)
    try:
        summary = poll_many(Poller(app, client, worker), claim_more, on_result, limit=limit)
    finally:
        if fetcher is None:
            client.close()
    summary.not_due = not_due
    summary.seconds = time.monotonic() - started
    return summary


def run_forever(
    *,
    stop: threading.Event | None = None,
    idle: float = 2.0,
    batch: int = 100,
    on_result: Callable[[PollResult], None] | None = None,
) -> None:
    """Poll on schedule until ``stop`` is set: claim what is due, poll, sleep."""
    stop = stop or threading.Event()
    worker = worker_name()
    with Fetcher(settings().fetch) as client:
        while not stop.is_set():
            summary = poll_due(limit=batch, worker=worker, fetcher=client, on_result=on_result)
            if summary.feeds:
                continue
            stop.wait(max(0.2, seconds_until_due(idle)))
