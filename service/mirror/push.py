"""Push (WebSub) as polls see it: the hub a feed advertises, and polling as its fallback.

A poll records the hub its feed advertises (:func:`note_hub`, in the poll's
transaction); :mod:`service.push.subscriber` then subscribes there and
receives the deliveries. While a subscription's push works (verified, lease
not over) it is polled on the longer ``MIRROR_PUSH_INTERVAL`` schedule, and
at the latest when the lease ends (:func:`push_until`); a poll that still
finds changes means deliveries were missed (:func:`missed_by_push`): the
subscription is asked for again and polled on the normal schedule meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from feeds.types import ParsedFeed
from feeds.websub import discover, new_secret, new_token
from service.store.models import PushSubscription, db, utcnow
from service.vocab import PushState


def note_hub(sub_id: int, link: str | None, feed: ParsedFeed, fetched_url: str) -> None:
    """Keep the subscription's push row in step with the hub its feed advertises."""
    found = discover(link, feed.hubs, feed.self_url, fetched_url)
    row = db.session.scalar(
        select(PushSubscription).where(PushSubscription.subscription_id == sub_id)
    )
    if found is None:
        if row is not None:  # the feed no longer advertises a hub: polling alone
            db.session.delete(row)
        return
    now = utcnow()
    if row is None:
        db.session.add(
            PushSubscription(
                subscription_id=sub_id,
                hub=found.hub,
                topic=found.topic,
                token=new_token(),
                secret=new_secret(),
                state=PushState.NONE,
                next_request=now,
                failures=0,
                pushes=0,
            )
        )
    elif (row.hub, row.topic) != (found.hub, found.topic):
        row.hub, row.topic = found.hub, found.topic
        row.state, row.expires, row.requested = PushState.NONE, None, None
        row.next_request, row.failures = now, 0


def push_until(sub_ids: Iterable[int]) -> dict[int, datetime]:
    """For subscriptions whose push works now: when its lease ends."""
    ids = list(sub_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(PushSubscription.subscription_id, PushSubscription.expires).where(
            PushSubscription.subscription_id.in_(ids),
            PushSubscription.state == PushState.ACTIVE,
            PushSubscription.expires > utcnow(),
        )
    )
    return {sub_id: expires for sub_id, expires in rows if expires is not None}


def missed_by_push(sub_id: int) -> None:
    """A poll found changes while push was working: ask the hub again, poll as usual."""
    row = db.session.scalar(
        select(PushSubscription).where(PushSubscription.subscription_id == sub_id)
    )
    if row is None or row.state != PushState.ACTIVE:
        return
    row.state = PushState.ERROR
    row.last_error = (
        "Опрос нашёл изменения, которых не было в доставках: подписка на хабе обновляется"
    )
    row.next_request = utcnow()
