"""The hub's records: subscription requests, work claims and their results.

This instance is the WebSub hub of its own feeds. A request (5.1) is stored
at once (the HTTP answer is 202) and verified later by a worker
(:mod:`service.push.delivery`): the row keeps the verified subscription in
force while a renewal or an unsubscription waits in ``pending_*``.

Work is claimed like polls are (:mod:`service.mirror`): a worker sets
``lease_owner``/``lease_until`` on a few rows in one statement (PostgreSQL
``FOR UPDATE SKIP LOCKED``, SQLite one atomic ``UPDATE``), so any number of
workers on one database never verify or deliver the same thing twice, and
every result is written only while the writer still holds the claim.
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from feeds.schedule import Policy, after_failure
from feeds.websub import SUBSCRIBE, UNSUBSCRIBE, SubscriptionRequest, grant_lease
from service.entries.feedlog import FeedQuery
from service.errors import ServiceError
from service.push.settings import PushSettings
from service.store.leases import claim_statement, lease_free
from service.store.models import EntryChange, HubSubscription, db, utcnow
from service.vocab import HubState


class HubFullError(ServiceError):
    """The hub keeps as many subscriptions as it is configured to."""

    status_code = 429


def subscription_key(topic: str, callback: str) -> str:
    """A subscription is identified by its topic and callback (WebSub 5.1)."""
    return hashlib.sha256(f"{topic}\n{callback}".encode()).hexdigest()


def receive(
    request: SubscriptionRequest, feed: str, query: FeedQuery, config: PushSettings
) -> None:
    """Store a checked subscription request for the worker to verify."""
    key = subscription_key(request.topic, request.callback)
    for _attempt in range(2):  # a concurrent insert of the same key: update it instead
        try:
            _receive(request, key, feed, query, config)
            db.session.commit()
            return
        except IntegrityError:
            db.session.rollback()
    raise ServiceError("Запрос не сохранён: повторите его", field="hub.callback")


def _receive(
    request: SubscriptionRequest, key: str, feed: str, query: FeedQuery, config: PushSettings
) -> None:
    row = db.session.scalar(select(HubSubscription).where(HubSubscription.key == key))
    if row is None:
        if request.mode == UNSUBSCRIBE:
            return  # nothing to unsubscribe from
        count = db.session.scalar(select(func.count(HubSubscription.id))) or 0
        if count >= config.max_subscriptions:
            raise HubFullError(
                "Хаб принимает не больше "
                f"{config.max_subscriptions} подписок (HUB_MAX_SUBSCRIPTIONS)",
                field="hub.callback",
            )
        row = HubSubscription(
            key=key,
            topic=request.topic,
            callback=request.callback,
            feed=feed,
            query=dataclasses.asdict(query),
            state=HubState.PENDING,
            lease_seconds=0,
            delivered_seq=0,
            failures=0,
            deliveries=0,
        )
        db.session.add(row)
    row.pending_mode = request.mode
    if request.mode == SUBSCRIBE:
        row.pending_secret = request.secret
        row.pending_lease = grant(request.lease_seconds, config)
    row.next_attempt = utcnow()
    row.failures = 0


def grant(requested: int | None, config: PushSettings) -> int:
    return grant_lease(
        requested,
        minimum=config.min_lease,
        default=config.default_lease,
        maximum=config.max_lease,
    )


# -- claims ------------------------------------------------------------------------


@dataclass(frozen=True)
class HubClaim:
    """A row a worker holds the claim of, with what the work needs."""

    id: int
    topic: str
    callback: str
    feed: str
    query: dict[str, Any]
    secret: str | None
    state: str
    delivered_seq: int
    pending_mode: str | None
    pending_secret: str | None
    pending_lease: int | None
    failures: int

    @property
    def feed_query(self) -> FeedQuery:
        return FeedQuery(**self.query)


_COLUMNS = [field.name for field in dataclasses.fields(HubClaim)]
_STATEMENTS: dict[tuple[str, str], Any] = {}


def _claim_statement(dialect: str, work: str) -> Any:
    table = HubSubscription.__table__
    now: Any = bindparam("h_now")
    wanted: list[Any]
    if work == "verify":
        wanted = [table.c.pending_mode.is_not(None)]
    else:
        wanted = [
            table.c.state == HubState.ACTIVE,
            table.c.expires > now,
            table.c.delivered_seq < bindparam("h_version"),
        ]
    return claim_statement(
        table,
        dialect,
        wanted=[*wanted, table.c.next_attempt <= now],
        order_by=[table.c.next_attempt, table.c.id],
        returning=_COLUMNS,
        prefix="h_",
    )


def _claim(
    work: str, worker: str, limit: int, lease: timedelta, version: int = 0
) -> list[HubClaim]:
    dialect = db.engine.dialect.name
    statement = _STATEMENTS.get((dialect, work))
    if statement is None:
        statement = _STATEMENTS[(dialect, work)] = _claim_statement(dialect, work)
    now = utcnow()
    params = {"h_now": now, "h_n": limit, "h_worker": worker, "h_until": now + lease}
    if work == "deliver":
        params["h_version"] = version
    rows = db.session.connection().execute(statement, params).all()
    db.session.commit()
    return sorted((HubClaim(*row) for row in rows), key=lambda c: c.id)


def claim_verifications(worker: str, limit: int, lease: timedelta) -> list[HubClaim]:
    """Requests waiting for verification of intent (new, renewals, unsubscriptions)."""
    return _claim("verify", worker, limit, lease)


def claim_deliveries(worker: str, limit: int, lease: timedelta, version: int) -> list[HubClaim]:
    """Verified subscriptions, in force, that have not seen the log up to ``version``."""
    return _claim("deliver", worker, limit, lease, version)


def log_version() -> int:
    """The change log's newest ``seq`` (0 when empty)."""
    return int(db.session.scalar(select(func.coalesce(func.max(EntryChange.seq), 0))) or 0)


def pending_work(version: int) -> bool:
    """Whether anything waits for a worker now (one cheap query, run every tick)."""
    now = utcnow()
    free = lease_free(HubSubscription.__table__, now)
    wanted = or_(
        HubSubscription.pending_mode.is_not(None),
        (HubSubscription.state == HubState.ACTIVE)
        & (HubSubscription.expires > now)
        & (HubSubscription.delivered_seq < version),
    )
    found = db.session.scalar(
        select(HubSubscription.id).where(wanted, HubSubscription.next_attempt <= now, free).limit(1)
    )
    db.session.rollback()
    return found is not None


# -- results (each written only while the claim is still held) -----------------------


def _mine(claim: HubClaim, worker: str) -> Any:
    return (HubSubscription.id == claim.id) & (HubSubscription.lease_owner == worker)


def _write(claim: HubClaim, worker: str, **values: Any) -> None:
    values.setdefault("lease_owner", None)
    values.setdefault("lease_until", None)
    db.session.execute(update(HubSubscription).where(_mine(claim, worker)).values(**values))
    db.session.commit()


def _remove(claim: HubClaim, worker: str) -> None:
    db.session.execute(delete(HubSubscription).where(_mine(claim, worker)))
    db.session.commit()


def verified(claim: HubClaim, worker: str, version: int) -> None:
    """The subscriber confirmed its request."""
    if claim.pending_mode == UNSUBSCRIBE:
        _remove(claim, worker)
        return
    now = utcnow()
    lease = claim.pending_lease or 0
    values: dict[str, Any] = {
        "state": HubState.ACTIVE,
        "secret": claim.pending_secret,
        "lease_seconds": lease,
        "expires": now + timedelta(seconds=lease),
        "pending_mode": None,
        "pending_secret": None,
        "pending_lease": None,
        "failures": 0,
        "last_error": None,
        "next_attempt": now,
    }
    if claim.state != HubState.ACTIVE:
        values["delivered_seq"] = version  # a new subscriber gets changes from now on
    _write(claim, worker, **values)


def not_verified(claim: HubClaim, worker: str, reason: str) -> None:
    """The subscriber did not confirm: a new request is dropped, a verified one stays."""
    if claim.state != HubState.ACTIVE:
        _remove(claim, worker)
        return
    _write(
        claim,
        worker,
        pending_mode=None,
        pending_secret=None,
        pending_lease=None,
        failures=0,
        last_error=reason[:2000],
        next_attempt=utcnow(),
    )


def retry_later(claim: HubClaim, worker: str, reason: str, policy: Policy) -> int:
    """A failed exchange: back off (capped, with jitter). Returns the failures in a row."""
    failures = claim.failures + 1
    now = utcnow()
    when = after_failure(now, policy, failures=failures, rand=random.random())
    _write(claim, worker, failures=failures, last_error=reason[:2000], next_attempt=when)
    return failures


def delivered(claim: HubClaim, worker: str, version: int, *, sent: bool) -> None:
    """The subscriber has the feed as of ``version`` (``sent``: a delivery was made)."""
    values: dict[str, Any] = {"delivered_seq": version}
    if sent:
        values.update(
            failures=0,
            last_error=None,
            last_delivery=utcnow(),
            deliveries=HubSubscription.deliveries + 1,
        )
    _write(claim, worker, **values)


def gone(claim: HubClaim, worker: str) -> None:
    """410 Gone from the callback, or a feed that no longer exists: the subscription ends."""
    _remove(claim, worker)


def expire(now: datetime | None = None) -> int:
    """Remove subscriptions whose lease ended (and no renewal waits); returns how many."""
    now = now or utcnow()
    free = lease_free(HubSubscription.__table__, now)
    removed: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        delete(HubSubscription).where(
            HubSubscription.state == HubState.ACTIVE,
            HubSubscription.expires < now,
            HubSubscription.pending_mode.is_(None),
            free,
        )
    )
    db.session.commit()
    return int(removed.rowcount or 0)
