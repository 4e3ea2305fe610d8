"""One poll of a subscription: prepare (the network part), walk the archives, finish.

Split like the ``reader`` library: :mod:`feeds.fetch` gets the bytes,
:mod:`feeds.parse` reads them, :func:`feeds.decide.decide` says what changes
(pure) and :mod:`service.mirror.store` writes it. :meth:`Poller.prepare`
fetches and reads the feed (and the archive pages it needs) without writing;
:meth:`Poller.finish` stores the result in one transaction or records the
failure. :mod:`service.mirror.scheduler` runs many polls at once.
"""

from __future__ import annotations

import logging
import queue
import time
from dataclasses import dataclass, field

from flask import Flask

import service.metrics as metrics
from feeds.errors import FeedsError, FetchError
from feeds.fetch import Fetched, Fetcher
from feeds.types import ParsedFeed
from feeds.urls import origin_of
from feeds.workers import shared_pool
from service.errors import FeedError
from service.mirror.claims import Claim, renew
from service.mirror.records import Head, Page, unknown_keys
from service.mirror.results import INTERRUPTED, PollResult, internal_error
from service.mirror.settings import settings
from service.mirror.state import page_is_known
from service.mirror.store import Writer
from service.store.models import db
from service.trust import pins
from service.trust.pins import KeyRing
from service.vocab import PollStatus

log = logging.getLogger(__name__)


@dataclass
class Work:
    """A poll between its network part (:meth:`Poller.prepare`) and its store."""

    claim: Claim
    result: PollResult
    started: float
    head: Head | None = None
    pages: list[Page] = field(default_factory=list)
    error: Exception | None = None
    #: When the lease was last renewed (long archive walks renew it).
    renewed: float = 0.0
    #: The pinned keys this poll verifies signatures with (loaded once).
    keys: KeyRing = field(default_factory=KeyRing)

    @classmethod
    def start(cls, claim: Claim) -> Work:
        return cls(claim, PollResult(claim.id, claim.url, PollStatus.OK), time.monotonic())

    @classmethod
    def failed(cls, claim: Claim, error: Exception) -> Work:
        """A poll that failed before it could be prepared."""
        work = cls.start(claim)
        work.result.status, work.error = PollStatus.ERROR, error
        return work

    @property
    def unchanged(self) -> bool:
        """A 304 that only needs its schedule written (done in batches)."""
        return (
            self.error is None
            and self.head is not None
            and not self.pages
            and self.head.permanent_url is None
        )

    def stop_clock(self) -> None:
        """The poll is over: its duration, and the metrics of polls."""
        result = self.result
        result.seconds = time.monotonic() - self.started
        counts = {
            "new": result.new,
            "updated": result.updated,
            "deleted": result.deleted,
            "refused": result.refused,
        }
        metrics.observe_poll(result.status, result.seconds, counts, via="poll")


class Poller:
    """Polls claimed subscriptions for one worker.

    The network part of a poll (fetch, parse, archive walk) may run in threads
    (:meth:`prepare_into`); the store runs in the caller's thread, one feed
    batch per transaction, so a worker process is one writer to the database
    and never waits on itself. Unchanged feeds (304) get their new schedule
    written in batches (:meth:`finish_unchanged`).
    """

    def __init__(self, app: Flask, fetcher: Fetcher, worker: str) -> None:
        self.app = app
        self.fetcher = fetcher
        self.worker = worker
        self.settings = settings(app)
        self.writer = Writer(
            worker, self.settings.policy, self.settings.push_policy, lease=self.settings.lease
        )
        self.parser = shared_pool(self.settings.parse_processes)

    def poll(self, claim: Claim) -> PollResult:
        """Poll one claimed subscription, start to end; never raises for feed trouble."""
        try:
            work = self.prepare(claim)
        except Exception as error:  # a bug or an outage: recorded, the lease released
            log.exception("poll of subscription %s failed", claim.id)
            db.session.rollback()
            work = Work.failed(claim, internal_error(error))
        if work.unchanged:
            self.finish_unchanged([work])
            return work.result
        return self.finish(work)

    # -- the network part ------------------------------------------------------------

    def prepare(self, claim: Claim) -> Work:
        """Fetch and read the feed (and its archives when needed); no writes."""
        work = Work.start(claim)
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
                answer.link,
            )
            if not isinstance(answer, Fetched):
                work.result.status = PollStatus.NOT_MODIFIED
                return work
            first = Page(answer.url, self._parse(answer))
            work.pages.append(first)
            work.result.pages = 1
            self._learn_keys(work, first)
            self._look_up_keys(work, [first])
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
                return Work.failed(claim, internal_error(error))

    def prepare_into(self, claim: Claim, done: queue.SimpleQueue[Work]) -> None:
        """:meth:`prepare_in_context`, its result put on ``done`` (run in a pool's threads)."""
        work = None
        try:
            work = self.prepare_in_context(claim)
        finally:
            if work is None:  # interrupted: still reported, so the caller never waits for it
                work = Work.failed(claim, FeedError(INTERRUPTED))
            done.put(work)

    def _parse(self, fetched: Fetched) -> ParsedFeed:
        return self.parser.parse(fetched.body, url=fetched.url, content_type=fetched.content_type)

    def _walk(self, work: Work) -> None:
        """Read the archive pages the mirror lacks and store them, oldest first, in batches.

        First the walk back along ``prev-archive`` (JSON: ``next_url``): to the
        start of the history on a first poll, to the page a backfill under way
        stored last (its cursor), or to a page already known (archives never
        change). Only the pages' addresses are kept, and the contents of the
        newest few (one batch's worth). Then the pages are stored oldest first,
        about ``MIRROR_BATCH_ENTRIES`` entries per transaction with the cursor,
        so memory stays bounded, no write lock is held long, and a backfill
        killed at any point resumes where it stopped (:meth:`Writer.store_archives`).
        The head is stored last, by :meth:`finish`.
        """
        found = self._archive_links(work)
        batch: list[Page] = []
        size = 0
        for link, page in reversed(found):
            batch.append(page or self._archive_page(link))
            size += len(batch[-1].feed.entries) + len(batch[-1].feed.tombstones)
            if size >= self.settings.batch_entries:
                self._store_archives(work, batch)
                batch, size = [], 0
        if batch:
            self._store_archives(work, batch)

    def _learn_keys(self, work: Work, head: Page) -> None:
        """Pin the keys the subscribed site states in its feed: first use, or a rotation."""
        site = origin_of(head.url)
        if site and head.feed.keys:
            pins.commit_learned(
                pins.learn(site, head.feed.keys, via="subscription", subscription_id=work.claim.id)
            )
            work.keys.forget_unknown()

    def _look_up_keys(self, work: Work, pages: list[Page]) -> None:
        """Fetch the well-known keys of sites that relayed records name, when not pinned yet."""
        wanted = unknown_keys(pages, work.keys)
        work.keys.load(wanted)
        missing = {k: site for k, site in wanted.items() if work.keys.get(k) is None}
        if missing:
            work.keys.look_up(self.fetcher, missing, work.claim.id)
        db.session.rollback()

    def _store_archives(self, work: Work, pages: list[Page]) -> None:
        self._look_up_keys(work, pages)
        self.writer.store_archives(work.result, work.pages[0].feed, pages, pages[-1].url, work.keys)
        work.renewed = time.monotonic()

    def _archive_links(self, work: Work) -> list[tuple[str, Page | None]]:
        """The archive pages to read, newest first: (URL, the page when kept in memory)."""
        result, claim = work.result, work.claim
        page = work.pages[0]
        seen = {page.url}
        found: list[tuple[str, Page | None]] = []
        kept = 0
        work.renewed = time.monotonic()
        while (link := page.feed.prev_archive) is not None:
            if link in seen or link == claim.backfill_cursor:
                break
            if len(found) >= self.settings.max_pages:
                log.warning("archive walk of %s stopped at %d pages", result.url, len(found))
                break
            seen.add(link)
            self._renew(work)
            page = self._archive_page(link)
            result.pages += 1
            size = len(page.feed.entries) + len(page.feed.tombstones)
            keep = kept + size <= self.settings.batch_entries
            kept += size if keep else 0
            found.append((link, page if keep else None))
            if claim.backfilled and page_is_known(page, result.subscription_id):
                break
        return found

    def _renew(self, work: Work) -> None:
        lease = self.settings.lease
        if time.monotonic() - work.renewed > lease.total_seconds() / 3:
            if not renew(work.result.subscription_id, self.worker, lease):
                raise FeedError("Опрос передан другому процессу", field="id")
            work.renewed = time.monotonic()

    def _archive_page(self, link: str) -> Page:
        try:
            answer = self.fetcher.fetch(link)
            if not isinstance(answer, Fetched):
                raise FetchError("Архивная страница ответила 304 без запроса")
            return Page(answer.url, self._parse(answer))
        except FeedsError as error:
            raise FeedError(f"Архивная страница {link}: {error}") from error

    # -- the store -------------------------------------------------------------------

    def finish(self, work: Work) -> PollResult:
        """Store a prepared poll (one transaction) or record its failure.

        Whatever goes wrong in the store, the transaction is rolled back (the
        mirror keeps its previous state) and the error is recorded on the
        subscription, with the traceback in the log; the worker goes on.
        """
        if work.error is None:
            self._store(work)
        if work.error is not None:
            db.session.rollback()
            self.writer.record_failure(work.result, work.error, work.claim.failures)
        work.stop_clock()
        return work.result

    def _store(self, work: Work) -> None:
        try:
            assert work.head is not None
            self.writer.store(work.result, work.head, work.pages, work.keys)
        except FeedError as error:
            work.error = error
        except Exception as error:  # a bug or an outage: logged and recorded
            log.exception("storing subscription %s failed", work.claim.id)
            work.error = internal_error(error)

    def finish_unchanged(self, works: list[Work]) -> None:
        """Write the new schedule of feeds that answered 304, in one transaction."""
        if not works:
            return
        self.writer.store_unchanged((w.claim.id, w.head) for w in works if w.head is not None)
        for work in works:
            work.stop_clock()
