"""How push stands for a subscription, in words for the CLI and the admin pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.store.models import PushSubscription, db, utcnow
from service.vocab import PushState


def push_row(sub_id: int) -> PushSubscription | None:
    return db.session.scalar(
        select(PushSubscription).where(PushSubscription.subscription_id == sub_id)
    )


def working(row: PushSubscription | None, now: datetime | None = None) -> bool:
    """Whether deliveries are expected now (verified, lease not over)."""
    return (
        row is not None
        and row.state == PushState.ACTIVE
        and row.expires is not None
        and row.expires > (now or utcnow())
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "—"


def push_line(sub_id: int) -> str:
    """One line: the state, the hub, the lease, the deliveries, the last trouble."""
    row = push_row(sub_id)
    if row is None:
        return "нет (лента не объявляет хаб WebSub: только опрос)"
    state = PushState(row.state)
    label = state.label
    if state == PushState.ACTIVE and not working(row):
        label = "срок подписки истёк, продлевается (пока только опрос)"
    parts = [label, f"хаб {row.hub}"]
    if working(row):
        parts.append(f"до {_when(row.expires)}")
    parts.append(f"доставок {row.pushes}, последняя {_when(row.last_push)}")
    if row.last_error:
        parts.append(f"ошибка: {row.last_error}")
    return "; ".join(parts)
