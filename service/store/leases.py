"""Work claims with a lease: how workers sharing one database split work.

A worker claims a few rows in one statement: it sets ``lease_owner`` and
``lease_until`` on rows that are wanted and not held (or whose lease ran out),
and gets them back (``RETURNING``). On PostgreSQL the rows are chosen with
``FOR UPDATE SKIP LOCKED``, so workers never wait for each other; on SQLite
the ``UPDATE`` alone is atomic (one writer at a time). A dead worker's claims
come back when their lease ends. Used for polls (:mod:`service.mirror.claims`),
the hub's verifications and deliveries (:mod:`service.push.hub`) and this
instance's requests to other hubs (:mod:`service.push.subscriber`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select, update


def lease_free(table: Any, now: Any) -> Any:
    """Rows no worker holds (never claimed, or the lease ran out)."""
    return or_(table.c.lease_until.is_(None), table.c.lease_until < now)


def claim_statement(
    table: Any,
    dialect: str,
    *,
    wanted: Sequence[Any],
    order_by: Sequence[Any],
    returning: Sequence[str],
    prefix: str,
) -> Any:
    """The claim ``UPDATE``, to build once per dialect and run many times.

    Its bind parameters: ``{prefix}now``, ``{prefix}n`` (how many at most),
    ``{prefix}worker`` and ``{prefix}until`` (the lease's end), and those
    ``wanted`` uses.
    """
    now: Any = bindparam(f"{prefix}now")
    due = select(table.c.id).where(*wanted, lease_free(table, now)).order_by(*order_by)
    due = due.limit(bindparam(f"{prefix}n"))
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(due.scalar_subquery()), lease_free(table, now))
        .values(lease_owner=bindparam(f"{prefix}worker"), lease_until=bindparam(f"{prefix}until"))
        .returning(*(table.c[name] for name in returning))
    )
