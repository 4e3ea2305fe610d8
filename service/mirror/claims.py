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
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, func, or_, select, update

from service.store.leases import claim_statement, lease_free
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
    #: The last archive page a backfill under way has stored (it resumes after it).
    backfill_cursor: str | None = None


CLAIM_COLUMNS = (
    Subscription.id,
    Subscription.url,
    Subscription.etag,
    Subscription.last_modified,
    Subscription.backfilled,
    Subscription.failures,
    Subscription.backfill_cursor,
)


#: ``due_by`` of ``mirror poll --all``: every schedule is before it.
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)


def _claim_statement(dialect: str) -> Any:
    """The claim UPDATE, built once per dialect (parameters: now, due_by, all, n, worker, until)."""
    table = cast(Table, Subscription.__table__)
    return claim_statement(
        table,
        dialect,
        wanted=[
            or_(
                table.c.state != SubscriptionState.GONE,
                table.c.poll_requested.is_not(None),
                bindparam("c_all"),
            ),
            table.c.next_poll <= bindparam("c_due_by"),
        ],
        order_by=[table.c.next_poll, table.c.id],
        returning=[column.key for column in CLAIM_COLUMNS],
        prefix="c_",
    )


_CLAIM_STATEMENTS: dict[str, Any] = {}


def claim_due(
    worker: str,
    limit: int,
    lease: timedelta,
    *,
    due_by: datetime | None = None,
    everything: bool = False,
) -> list[Claim]:
    """Claim up to ``limit`` subscriptions due by ``due_by`` (default now).

    ``everything``: every subscription whatever its schedule and state (a
    stopped one, 410, too): ``mirror poll --all``.

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
                "c_due_by": FAR_FUTURE if everything else due_by or now,
                "c_all": everything,
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
        .where(Subscription.id == sub_id, lease_free(Subscription.__table__, now))
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


def count_due(due_by: datetime) -> tuple[int, int]:
    """(due, not due) by ``due_by``, of the subscriptions still polled (not 410)."""
    due = Subscription.next_poll <= due_by
    polled = or_(
        Subscription.state != SubscriptionState.GONE, Subscription.poll_requested.is_not(None)
    )
    row = db.session.execute(
        select(
            func.count(Subscription.id).filter(due), func.count(Subscription.id).filter(~due)
        ).where(polled)
    ).one()
    db.session.rollback()
    return int(row[0] or 0), int(row[1] or 0)


def count_all() -> int:
    count = db.session.scalar(select(func.count(Subscription.id)))
    db.session.rollback()
    return int(count or 0)


def seconds_until_due(cap: float) -> float:
    """How long until the next subscription comes due (at most ``cap``)."""
    due = db.session.scalar(
        select(Subscription.next_poll)
        .where(
            or_(
                Subscription.state != SubscriptionState.GONE,
                Subscription.poll_requested.is_not(None),
            )
        )
        .order_by(Subscription.next_poll)
        .limit(1)
    )
    db.session.rollback()
    if due is None:
        return cap
    return max(0.0, min(cap, (due - utcnow()).total_seconds()))
