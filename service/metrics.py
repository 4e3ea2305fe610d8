"""Prometheus metrics: what this instance's processes did, and what its database holds.

Two kinds, joined in one scrape (``GET /metrics``, :func:`exposition`):

* **Counters and histograms of work done** (polls, pushes received, hub
  deliveries and verifications, errors, durations), counted by the process
  that did the work with ``prometheus_client``. The web server and the
  worker are separate processes (gunicorn has several), so when
  ``PROMETHEUS_MULTIPROC_DIR`` is set (``make run`` and the systemd units set
  it) every process writes its values to files there and a scrape of any web
  process sums them all (the library's multiprocess mode). Without it, a
  scrape shows the answering process only (tests, a lone ``flask run``).
* **Gauges of state**, read from the database at scrape time: subscriptions
  by state, feeds due, the age of the oldest successful poll, hub
  subscribers, the delivery backlog, the change log's length. They are right
  however many processes and machines share the database.

Metric names follow Prometheus conventions (``_total`` for counters, base
units: seconds). Every name starts with ``asdg_``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from service.store.models import (
    EntryChange,
    HubSubscription,
    PushSubscription,
    Subscription,
    db,
    utcnow,
)
from service.vocab import HubState

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

disable_created_metrics()  # no `_created` series: they only double what a scrape shows

#: This process's own metrics (collected directly when not in multiprocess mode).
REGISTRY = CollectorRegistry(auto_describe=True)

#: Seconds: a poll of a 304 takes milliseconds, a backfill minutes.
POLL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
#: Seconds: pushes and deliveries are single requests.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

POLLS = Counter(
    "asdg_mirror_polls",
    "Polls of subscribed feeds, by result (ok, not-modified, error, gone).",
    ["status"],
    registry=REGISTRY,
)
POLL_SECONDS = Histogram(
    "asdg_mirror_poll_seconds",
    "Duration of one poll of a subscribed feed (archive walk included).",
    buckets=POLL_BUCKETS,
    registry=REGISTRY,
)
MIRRORED = Counter(
    "asdg_mirror_entries",
    "Mirrored entries changed, by change (new, updated, deleted, refused) and path (poll, push).",
    ["change", "via"],
    registry=REGISTRY,
)
PUSHES = Counter(
    "asdg_push_received",
    "Content deliveries received from hubs (WebSub), by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
PUSH_SECONDS = Histogram(
    "asdg_push_apply_seconds",
    "Duration of applying one pushed feed document.",
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
PUSH_REQUESTS = Counter(
    "asdg_push_subscription_requests",
    "Subscription requests this instance sent to hubs, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
HUB_REQUESTS = Counter(
    "asdg_hub_requests",
    "Subscription requests received by this instance's hub, by mode and outcome.",
    ["mode", "outcome"],
    registry=REGISTRY,
)
VERIFICATIONS = Counter(
    "asdg_hub_verifications",
    "Verifications of subscriber intent made by the hub, by mode and outcome.",
    ["mode", "outcome"],
    registry=REGISTRY,
)
DELIVERIES = Counter(
    "asdg_hub_deliveries",
    "Content deliveries made by the hub to subscribers, by outcome (ok, error, gone).",
    ["outcome"],
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "asdg_hub_delivery_seconds",
    "Duration of one content delivery to a subscriber's callback.",
    buckets=REQUEST_BUCKETS,
    registry=REGISTRY,
)
ERRORS = Counter(
    "asdg_errors",
    "Unexpected errors (bugs, outages) caught and logged, by where they happened.",
    ["where"],
    registry=REGISTRY,
)


def observe_poll(status: str, seconds: float, counts: dict[str, int], *, via: str) -> None:
    """Count one poll (``via="poll"``) or one applied push (``via="push"``)."""
    if via == "poll":
        POLLS.labels(status=status).inc()
        POLL_SECONDS.observe(seconds)
    for change, count in counts.items():
        if count:
            MIRRORED.labels(change=change, via=via).inc(count)


# -- gauges read from the database at scrape time -----------------------------------


class DatabaseCollector:
    """Gauges of the instance's state, from the database of the current app.

    When the database does not answer, ``asdg_database_up`` is 0 and the other
    gauges are left out (a scrape never fails because of them).
    """

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("asdg_database_up", "1 when the database answered the scrape.")
        try:
            families = list(self._families(utcnow()))
        except SQLAlchemyError:
            db.session.rollback()
            up.add_metric([], 0)
            yield up
            return
        finally:
            db.session.rollback()  # end the read transaction
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self, now: datetime) -> Iterator[Metric]:
        yield by_state(Subscription, "asdg_subscriptions", "Subscribed feeds, by state.")

        due = db.session.scalar(
            select(func.count()).where(Subscription.state != "gone", Subscription.next_poll <= now)
        )
        yield GaugeMetricFamily(
            "asdg_subscriptions_due", "Subscribed feeds due for a poll now.", value=due or 0
        )
        oldest = db.session.scalar(
            select(func.min(Subscription.last_success)).where(Subscription.state != "gone")
        )
        yield GaugeMetricFamily(
            "asdg_mirror_oldest_success_age_seconds",
            "Seconds since the least recently successful poll of a feed still subscribed "
            "(0 when none has succeeded yet).",
            value=(now - oldest).total_seconds() if oldest is not None else 0,
        )
        version = db.session.scalar(select(func.coalesce(func.max(EntryChange.seq), 0)))
        yield GaugeMetricFamily(
            "asdg_change_log_seq", "Newest sequence number of the change log.", value=version
        )
        yield from self._push_families(now, int(version or 0))

    def _push_families(self, now: datetime, version: int) -> Iterator[Metric]:
        yield by_state(
            HubSubscription,
            "asdg_hub_subscribers",
            "Subscribers of this instance's hub, by state (pending: intent not verified yet).",
        )
        behind = db.session.scalar(
            select(func.count()).where(
                HubSubscription.state == HubState.ACTIVE,
                HubSubscription.expires > now,
                HubSubscription.delivered_seq < version,
            )
        )
        yield GaugeMetricFamily(
            "asdg_hub_backlog",
            "Verified subscribers that have not received the newest change yet.",
            value=behind or 0,
        )
        yield by_state(
            PushSubscription,
            "asdg_push_subscriptions",
            "This instance's subscriptions at other hubs, by state.",
        )


def by_state(model: Any, name: str, documentation: str) -> GaugeMetricFamily:
    """A gauge of ``model``'s rows counted by their ``state`` column."""
    family = GaugeMetricFamily(name, documentation, labels=["state"])
    rows = db.session.execute(select(model.state, func.count()).group_by(model.state)).all()
    for state, count in sorted(rows):
        family.add_metric([str(state)], count)
    return family


class _ProcessCollector:
    """This process's counters and histograms (single-process mode)."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def exposition() -> bytes:
    """One scrape in the Prometheus text format: work counted by every process, and state."""
    registry = CollectorRegistry()
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ProcessCollector())  # type: ignore[arg-type]
    registry.register(DatabaseCollector())  # type: ignore[arg-type]
    return generate_latest(registry)


def process_exited(pid: int) -> None:
    """Bookkeeping of multiprocess mode when a process ends (gunicorn's ``child_exit``)."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
