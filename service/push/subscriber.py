"""This instance as a WebSub subscriber of the hubs its subscriptions advertise.

A poll that finds a hub (``Link`` header, ``rel="hub"``, JSON Feed ``hubs``)
records it (:func:`service.mirror.push.note_hub`); then

* the worker sends the subscription request (:class:`Requester`): callback
  ``BASE_URL/websub/callback/<token>`` with a random token, a random secret,
  the lease asked for (``WEBSUB_LEASE``); the request is marked as sent
  *before* it goes out, since a hub may verify at once;
* the hub verifies intent at the callback (:func:`confirm`): only a request
  this instance sent, for the topic it named, is confirmed; the lease starts
  and a renewal is planned at three quarters of it;
* deliveries (:func:`receive`) are checked (the token names the
  subscription, ``X-Hub-Signature`` must match its secret, the ``rel=self``
  link its topic) and stored through the same path as a poll's documents
  (:func:`service.mirror.store.store_pushed`: decide, trust checks, one
  transaction). A pushed document that shows a gap (more than a page
  changed since) makes the subscription due for a poll now, which reads the
  archives.

Polling stays the fallback: while push works the feed is polled every
``MIRROR_PUSH_INTERVAL`` (6 h) instead of ``MIRROR_INTERVAL``; when the lease
runs out without a renewal, the hub refuses, a request fails, or a poll finds
changes no delivery brought, push counts as not working and the normal
interval applies again until a renewal is verified.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, select, update

import service.metrics as metrics
from feeds.errors import FeedParseError, FetchError
from feeds.notify import Notifier
from feeds.parse import parse_feed
from feeds.schedule import Policy, after_failure
from feeds.websub import (
    SUBSCRIBE,
    SubscriptionRequest,
    parse_links,
    request_form,
    signature_matches,
)
from service.errors import GoneError, NotFoundError, ValidationError
from service.mirror.records import Page
from service.mirror.state import page_is_known
from service.mirror.store import store_pushed
from service.push.settings import PushSettings
from service.store.leases import claim_statement, lease_free
from service.store.models import PushSubscription, Subscription, db, utcnow
from service.vocab import PushState

log = logging.getLogger(__name__)

#: A request the hub has not verified after this long is sent again (with backoff).
VERIFY_WAIT = timedelta(minutes=10)
#: After a refusal (hub.mode=denied), ask again this much later.
DENIED_WAIT = timedelta(days=1)
#: Renew when this share of the lease is left.
RENEW_LEFT = 0.25


def renewal_time(lease: int) -> timedelta:
    return timedelta(seconds=lease * (1 - RENEW_LEFT))


def _by_token(token: str) -> PushSubscription | None:
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(PushSubscription).where(PushSubscription.token == token))


# -- the callback: verification of intent (5.3) --------------------------------------


def confirm(token: str, mode: str, topic: str, challenge: str, lease: str | None) -> str:
    """The challenge to echo when this instance asked for ``mode`` on ``topic``; else 404."""
    row = _by_token(token)
    if row is None or not challenge:
        raise NotFoundError("Нет такой подписки", field="token")
    if mode != SUBSCRIBE or row.requested is None or topic != row.topic:
        # Unsubscriptions are never asked for here: removing a subscription ends
        # it with 410 at the next delivery; anything else is not our request.
        raise NotFoundError("Этот запрос отсюда не отправлялся", field="hub.mode")
    if not lease or not lease.isdigit() or not 0 < int(lease) <= 10**9:
        raise ValidationError("Нужен hub.lease_seconds", field="hub.lease_seconds")
    now = utcnow()
    seconds = int(lease)
    row.state = PushState.ACTIVE
    row.lease_seconds = seconds
    row.expires = now + timedelta(seconds=seconds)
    row.verified = now
    row.requested = None
    row.failures = 0
    row.last_error = None
    row.next_request = now + renewal_time(seconds)
    db.session.commit()
    metrics.PUSH_REQUESTS.labels(outcome="verified").inc()
    return challenge


def denied(token: str, topic: str, reason: str) -> None:
    """The hub refused the subscription (5.2): polling only, ask again a day later."""
    row = _by_token(token)
    if row is None or topic != row.topic:
        raise NotFoundError("Нет такой подписки", field="token")
    now = utcnow()
    row.state = PushState.DENIED
    row.requested = None
    row.expires = None
    row.last_error = f"Хаб отказал: {reason[:300]}" if reason else "Хаб отказал"
    row.next_request = now + DENIED_WAIT
    db.session.commit()
    metrics.PUSH_REQUESTS.labels(outcome="denied").inc()


# -- the callback: content distribution (7) -------------------------------------------


@dataclass(frozen=True)
class Received:
    """What became of one delivery: ``outcome`` for metrics, counts when stored."""

    outcome: str
    new: int = 0
    updated: int = 0
    deleted: int = 0
    refused: int = 0


def receive(
    token: str,
    body: bytes,
    *,
    content_type: str | None,
    signature: str | None,
    link: str | None,
) -> Received:
    """Check and store a delivery. Unknown tokens: :class:`GoneError` (410: the hub stops).

    A delivery that fails a check is acknowledged but not stored (WebSub 7.1:
    a subscriber "MUST locally ignore" it), and counted.
    """
    started = time.perf_counter()
    row = _by_token(token)
    if row is None:
        metrics.PUSHES.labels(outcome="unknown").inc()
        raise GoneError("Подписки с таким адресом нет", field="token")
    received = _check_and_store(row, body, content_type, signature, link)
    metrics.PUSHES.labels(outcome=received.outcome).inc()
    if received.outcome == "stored":
        metrics.PUSH_SECONDS.observe(time.perf_counter() - started)
        counts = {
            "new": received.new,
            "updated": received.updated,
            "deleted": received.deleted,
            "refused": received.refused,
        }
        metrics.observe_poll("ok", 0.0, counts, via="push")
    return received


def _ignored(row: PushSubscription, outcome: str, message: str) -> Received:
    log.warning("push for subscription %s ignored: %s", row.subscription_id, message)
    row.last_error = message
    db.session.commit()
    return Received(outcome)


def _check_and_store(
    row: PushSubscription,
    body: bytes,
    content_type: str | None,
    signature: str | None,
    link: str | None,
) -> Received:
    if not signature_matches(row.secret, body, signature):
        return _ignored(
            row, "bad_signature", "Отклонена доставка без верной подписи (X-Hub-Signature)"
        )
    self_url = parse_links(link).get("self")
    if self_url is not None and self_url != row.topic:
        return _ignored(row, "wrong_topic", f"Отклонена доставка другой ленты: {self_url[:200]}")
    try:
        feed = parse_feed(body, url=row.topic, content_type=content_type)
    except FeedParseError as error:
        return _ignored(row, "unreadable", f"Доставка не прочитана: {error}")
    sub_id = row.subscription_id
    now = utcnow()
    row.last_push = now
    row.pushes += 1
    db.session.commit()
    page = Page(row.topic, feed)
    gap = feed.prev_archive is not None and not page_is_known(page, sub_id)
    result = store_pushed(sub_id, page)
    if gap:  # more changed than one document shows: the worker reads the archives now
        db.session.execute(
            update(Subscription).where(Subscription.id == sub_id).values(next_poll=utcnow())
        )
        db.session.commit()
    return Received("stored", result.new, result.updated, result.deleted, result.refused)


# -- the worker: subscription requests (5.1) -------------------------------------------


@dataclass(frozen=True)
class RequestClaim:
    id: int
    subscription_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: str
    failures: int


_CLAIM_COLUMNS = ("id", "subscription_id", "hub", "topic", "token", "secret", "state", "failures")
_STATEMENTS: dict[str, Any] = {}


def _claim_statement(dialect: str) -> Any:
    table = PushSubscription.__table__
    return claim_statement(
        table,
        dialect,
        wanted=[table.c.next_request.is_not(None), table.c.next_request <= bindparam("p_now")],
        order_by=[table.c.next_request, table.c.id],
        returning=_CLAIM_COLUMNS,
        prefix="p_",
    )


def claim_requests(worker: str, limit: int, lease: timedelta) -> list[RequestClaim]:
    """Subscriptions due for a (re)subscription request at their hub."""
    dialect = db.engine.dialect.name
    statement = _STATEMENTS.get(dialect)
    if statement is None:
        statement = _STATEMENTS[dialect] = _claim_statement(dialect)
    now = utcnow()
    params = {"p_now": now, "p_n": limit, "p_worker": worker, "p_until": now + lease}
    rows = db.session.connection().execute(statement, params).all()
    db.session.commit()
    return [RequestClaim(*row) for row in rows]


def requests_due() -> bool:
    now = utcnow()
    found = db.session.scalar(
        select(PushSubscription.id)
        .where(PushSubscription.next_request.is_not(None), PushSubscription.next_request <= now)
        .where(lease_free(PushSubscription.__table__, now))
        .limit(1)
    )
    db.session.rollback()
    return found is not None


class Requester:
    """Sends this instance's subscription requests to hubs (in the worker)."""

    def __init__(self, notifier: Notifier, worker: str, config: PushSettings) -> None:
        self.notifier = notifier
        self.worker = worker
        self.config = config
        self.retry = Policy(
            interval=config.retry.max_interval,
            min_interval=max(config.retry.min_interval, 1.0),
            max_interval=max(config.retry.max_interval, 3600.0),
        )

    def round(self, limit: int) -> int:
        if not self.config.subscribe_enabled or not requests_due():
            return 0
        claims = claim_requests(self.worker, limit, timedelta(minutes=2))
        for claim in claims:
            self._request(claim)
        return len(claims)

    def _mine(self, claim: RequestClaim) -> Any:
        return (PushSubscription.id == claim.id) & (PushSubscription.lease_owner == self.worker)

    def _write(self, claim: RequestClaim, **values: object) -> None:
        values.setdefault("lease_owner", None)
        values.setdefault("lease_until", None)
        db.session.execute(update(PushSubscription).where(self._mine(claim)).values(**values))
        db.session.commit()

    def _request(self, claim: RequestClaim) -> None:
        now = utcnow()
        if claim.state == PushState.REQUESTED:  # asked before and never verified
            self._failed(claim, "Хаб не подтвердил подписку вовремя")
            return
        request = SubscriptionRequest(
            mode=SUBSCRIBE,
            topic=claim.topic,
            callback=self.config.callback_url(claim.token),
            lease_seconds=self.config.lease,
            secret=claim.secret,
        )
        # Marked as asked for before it goes out: a hub may verify before it answers.
        state = PushState.ACTIVE if claim.state == PushState.ACTIVE else PushState.REQUESTED
        self._write(
            claim,
            requested=now,
            state=state,
            next_request=now + VERIFY_WAIT,
            lease_owner=self.worker,
            lease_until=now + timedelta(minutes=2),
        )
        try:
            reply = self.notifier.post_form(claim.hub, request_form(request))
        except FetchError as error:
            self._failed(claim, f"Хаб недоступен: {error.message}")
            return
        if not reply.ok:
            text = reply.body[:200].decode("utf-8", "replace").strip()
            self._failed(claim, f"Хаб ответил {reply.status}" + (f": {text}" if text else ""))
            return
        metrics.PUSH_REQUESTS.labels(outcome="sent").inc()
        self._write(claim)  # release the claim; the callback sees the verification

    def _failed(self, claim: RequestClaim, message: str) -> None:
        failures = claim.failures + 1
        now = utcnow()
        when = after_failure(now, self.retry, failures=failures, rand=random.random())
        values: dict[str, object] = {
            "failures": failures,
            "last_error": message[:2000],
            "next_request": when,
            "requested": None,
        }
        if claim.state != PushState.ACTIVE:
            values["state"] = PushState.ERROR
        self._write(claim, **values)
        metrics.PUSH_REQUESTS.labels(outcome="failed").inc()
        log.info("push subscription %s: %s", claim.subscription_id, message)
