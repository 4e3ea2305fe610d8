"""The hub at work: verification of intent and content distribution, in the worker.

Never inside the request that made a change: the change log is the queue.
Each round a worker

1. claims requests waiting for verification and GETs each callback with a
   challenge (WebSub 5.3); the subscription is in force once the callback
   echoes it;
2. reads the log's version, claims the verified subscriptions that have not
   seen it, and for each feed with new rows after what a subscriber has,
   renders the feed's current document once and POSTs it to every such
   callback (7), signed with the subscriber's secret (``X-Hub-Signature:
   sha256=...``, 7.1). The subscriber then has the feed as of that version.

Network work runs in a thread pool (``HUB_CONCURRENCY`` at once, at most
``HUB_PER_HOST`` to one host); results are written by the calling thread,
each only while the worker still holds the claim. A failed delivery is
retried with capped exponential backoff (``HUB_RETRY_MIN`` .. ``HUB_RETRY_MAX``)
while the lease lasts; 410 Gone ends the subscription. Several changes in
a row make one delivery (the newest document), and a delivery that failed is
retried with the newest document then.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from flask import Flask, current_app

import service.metrics as metrics
from feeds.errors import FetchError
from feeds.notify import Notifier, Reply
from feeds.urls import host_of
from feeds.websub import (
    SIGNATURE_HEADER,
    SUBSCRIBE,
    link_header,
    new_challenge,
    sign,
    verification_url,
)
from service.entries import feedlog
from service.entries.feedlog import LogState
from service.errors import NotFoundError
from service.mirror.claims import worker_name
from service.push import hub
from service.push.hub import HubClaim
from service.push.settings import WORK_LEASE, PushSettings, settings

log = logging.getLogger(__name__)

#: Renders one of this instance's feeds: canonical path -> (body, content type).
RENDERER = "asdg.render_feed"
#: Claims per round: this many times the concurrency.
CLAIM_BATCH = 4
#: Seconds between clean-ups of expired subscriptions.
EXPIRE_EVERY = 60.0


@dataclass(frozen=True)
class Content:
    body: bytes
    content_type: str


Renderer = Callable[[str], Content]


def renderer(app: Flask) -> Renderer:
    render: Renderer = app.extensions[RENDERER]
    return render


class HubWorker:
    """The hub's share of a worker process: one :meth:`round` at a time."""

    def __init__(
        self,
        app: Flask,
        notifier: Notifier,
        worker: str,
        *,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.notifier = notifier
        self.worker = worker
        self.config: PushSettings = settings(app)
        self.on_event = on_event
        self._hosts: dict[str, threading.BoundedSemaphore] = {}
        self._hosts_lock = threading.Lock()
        self._expired_at = 0.0

    def _event(self, line: str) -> None:
        log.info(line)
        if self.on_event is not None:
            self.on_event(line)

    def round(self, pool: ThreadPoolExecutor) -> int:
        """Verify and deliver what is due now; returns how many claims were worked on.

        When nothing is due this is two small reads (the log's version, one
        indexed look for work), so a worker can run it every tick.
        """
        if time.monotonic() - self._expired_at > EXPIRE_EVERY:
            self._expired_at = time.monotonic()
            removed = hub.expire()
            if removed:
                self._event(f"хаб: подписок с истёкшим сроком удалено: {removed}")
        if not hub.pending_work(hub.log_version()):
            return 0
        return self.verify(pool) + self.deliver(pool)

    def _limit(self) -> int:
        return CLAIM_BATCH * self.config.concurrency

    def _host_slot(self, url: str) -> threading.BoundedSemaphore:
        host = host_of(url)
        with self._hosts_lock:
            slot = self._hosts.get(host)
            if slot is None:
                slot = self._hosts[host] = threading.BoundedSemaphore(self.config.per_host)
            return slot

    # -- verification of intent (5.3) --------------------------------------------------

    def verify(self, pool: ThreadPoolExecutor) -> int:
        claims = hub.claim_verifications(self.worker, self._limit(), WORK_LEASE)
        if not claims:
            return 0
        version = hub.log_version()
        futures = {pool.submit(self._ask, claim): claim for claim in claims}
        for future in as_completed(futures):
            self._verified(futures[future], future, version)
        return len(claims)

    def _ask(self, claim: HubClaim) -> tuple[bool | None, str]:
        """GET the callback with a challenge: (confirmed, reason); None: try again later."""
        assert claim.pending_mode is not None
        challenge = new_challenge()
        lease = claim.pending_lease if claim.pending_mode == SUBSCRIBE else None
        url = verification_url(claim.callback, claim.pending_mode, claim.topic, challenge, lease)
        with self._host_slot(claim.callback):
            try:
                reply = self.notifier.get(url)
            except FetchError as error:
                return None, f"Адрес подписчика недоступен: {error.message}"
        if reply.ok and reply.body.strip() == challenge.encode():
            return True, ""
        if reply.ok:
            return False, "Подписчик не вернул hub.challenge"
        return False, f"Подписчик ответил {reply.status}"

    def _verified(
        self, claim: HubClaim, future: Future[tuple[bool | None, str]], version: int
    ) -> None:
        mode = claim.pending_mode or "?"
        confirmed, reason = future.result()
        if confirmed:
            hub.verified(claim, self.worker, version)
            outcome = "ok"
            self._event(f"хаб: {mode} подтверждена: {claim.topic} -> {claim.callback}")
        elif confirmed is None and claim.failures + 1 < self.config.verify_attempts:
            hub.retry_later(claim, self.worker, reason, self.config.retry)
            outcome = "retry"
        else:
            hub.not_verified(claim, self.worker, reason)
            outcome = "refused"
            self._event(f"хаб: {mode} не подтверждена ({reason}): {claim.callback}")
        metrics.VERIFICATIONS.labels(mode=mode, outcome=outcome).inc()

    # -- content distribution (7) --------------------------------------------------------

    def deliver(self, pool: ThreadPoolExecutor) -> int:
        version = hub.log_version()
        claims = hub.claim_deliveries(self.worker, self._limit(), WORK_LEASE, version)
        if not claims:
            return 0
        by_feed: dict[str, list[HubClaim]] = defaultdict(list)
        for claim in claims:
            by_feed[claim.feed].append(claim)
        futures: dict[Future[tuple[Reply | None, str, float]], tuple[HubClaim, int]] = {}
        for feed, group in by_feed.items():
            for claim, content in self._contents(feed, group, version):
                future = pool.submit(self._post, claim, content)
                futures[future] = (claim, version)
        for future in as_completed(futures):
            claim, seq = futures[future]
            self._delivered(claim, seq, future.result())
        return len(claims)

    def _contents(
        self, feed: str, group: list[HubClaim], version: int
    ) -> list[tuple[HubClaim, Content]]:
        """The claims of one feed that need a delivery, with the document to deliver.

        Those whose feed has nothing new are marked as having ``version``.
        """
        query = group[0].feed_query
        try:
            state = feedlog.log_state(query)
        except NotFoundError:  # the city is no longer hosted here: the topic is gone
            for claim in group:
                hub.gone(claim, self.worker)
            return []
        as_of = LogState(version=version, city_id=state.city_id, city_name=state.city_name)
        changed: dict[int, bool] = {}
        need: list[HubClaim] = []
        for claim in group:
            seen = claim.delivered_seq
            if seen not in changed:
                changed[seen] = feedlog.has_rows_after(query, as_of, seen)
            if changed[seen]:
                need.append(claim)
            else:
                hub.delivered(claim, self.worker, version, sent=False)
        if not need:
            return []
        content = renderer(self.app)(feed)
        return [(claim, content) for claim in need]

    def _post(self, claim: HubClaim, content: Content) -> tuple[Reply | None, str, float]:
        topic = self.config.base_url + claim.feed
        headers = [("Link", link_header(self.config.hub_url, topic))]
        if claim.secret:
            headers.append((SIGNATURE_HEADER, sign(claim.secret, content.body)))
        started = time.perf_counter()
        with self._host_slot(claim.callback):
            try:
                reply = self.notifier.post(
                    claim.callback, content.body, content.content_type, headers
                )
            except FetchError as error:
                return None, error.message, time.perf_counter() - started
        return reply, "", time.perf_counter() - started

    def _delivered(
        self, claim: HubClaim, version: int, outcome: tuple[Reply | None, str, float]
    ) -> None:
        reply, reason, seconds = outcome
        metrics.DELIVERY_SECONDS.observe(seconds)
        if reply is not None and reply.ok:
            hub.delivered(claim, self.worker, version, sent=True)
            metrics.DELIVERIES.labels(outcome="ok").inc()
            self._event(f"хаб: доставлено {claim.feed} -> {claim.callback} ({seconds:.2f} с)")
            return
        if reply is not None and reply.status == 410:
            hub.gone(claim, self.worker)
            metrics.DELIVERIES.labels(outcome="gone").inc()
            self._event(f"хаб: подписчик ушёл (410), подписка снята: {claim.callback}")
            return
        reason = reason or f"Подписчик ответил {reply.status if reply else '?'}"
        failures = hub.retry_later(claim, self.worker, reason, self.config.retry)
        metrics.DELIVERIES.labels(outcome="error").inc()
        self._event(f"хаб: доставка не удалась ({reason}), попытка {failures}: {claim.callback}")


def run_round(app: Flask | None = None) -> int:
    """One round with a pool and a notifier of its own (tests, ``mirror poll``)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    config = settings(app)
    with Notifier(config.fetch) as notifier, ThreadPoolExecutor(config.concurrency) as pool:
        return HubWorker(app, notifier, worker_name()).round(pool)
