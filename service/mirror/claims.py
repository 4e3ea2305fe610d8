"""Claims: which worker polls which subscription, as leases in the database.

A worker claims subscriptions by writing its name and a lease expiry on them
(``Subscription.lease_owner`` / ``lease_until``), so any number of workers on
any number of machines sharing one database never poll one feed twice at
once; a dead worker's lease expires. Also the queries of what is due.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, or_, select, update
from sqlalchemy.sql.elements import BindParameter

from service.store.models import Subscription, db, utcnow
from service.vocab import SubscriptionState


def worker_name() -> str:
    """A name for this worker, unique across machines and processes (the lease owner)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


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


def _lease_free(now: datetime) -> Any:
    return or_(Subscription.lease_until.is_(None), Subscription.lease_until < now)


def _claim_statement(dialect: str) -> Any:
    """The claim UPDATE, built once per dialect (parameters: now, due_by, n, worker, until)."""
    table = cast(Table, Subscription.__table__)
    now: BindParameter[datetime] = bindparam("c_now")

    def lease_free() -> Any:
        return or_(table.c.lease_until.is_(None), table.c.lease_until < now)

    due = (
        select(table.c.id)
        .where(
            table.c.state != SubscriptionState.GONE,
            table.c.next_poll <= bindparam("c_due_by"),
            lease_free(),
        )
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
    answer: CursorResult[Any] = db.session.execute(  # type: ignore[assignment]
        update(Subscription)
        .where(Subscription.id == sub_id, Subscription.lease_owner == worker)
        .values(lease_until=utcnow() + lease)
    )
    renewed = answer.rowcount
    db.session.commit()
    return renewed == 1


# -- what is due --------------------------------------------------------------------------


def count_due(due_by: datetime) -> int:
    """How many subscriptions are due by ``due_by`` (claimed or not)."""
    count = db.session.scalar(
        select(func.count(Subscription.id)).where(
            Subscription.state != SubscriptionState.GONE, Subscription.next_poll <= due_by
        )
    )
    db.session.rollback()
    return count or 0


def seconds_until_due(cap: float) -> float:
    """How long until the next subscription comes due (at most ``cap``)."""
    due = db.session.scalar(
        select(Subscription.next_poll)
        .where(Subscription.state != SubscriptionState.GONE)
        .order_by(Subscription.next_poll)
        .limit(1)
    )
    db.session.rollback()
    if due is None:
        return cap
    return max(0.0, min(cap, (due - utcnow()).total_seconds()))
