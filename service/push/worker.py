"""The push share of a worker process (``mirror run``): a loop beside the polls.

Every ``WEBSUB_TICK`` seconds (0.25 by default) it looks for push work: the
hub's verifications and deliveries (:mod:`service.push.delivery`) and this
instance's own subscription requests to other hubs
(:mod:`service.push.subscriber`). It runs in its own thread with its own
database session, so a long poll never delays a delivery; the work it claims
is leased in the database, so several worker processes share it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

import service.metrics as metrics
from feeds.notify import Notifier
from service.mirror.claims import worker_name
from service.push.delivery import HubWorker
from service.push.settings import settings
from service.push.subscriber import Requester
from service.store.models import db

log = logging.getLogger(__name__)

#: Seconds to wait after an unexpected error before the next round.
ERROR_PAUSE = 2.0
#: Subscription requests sent per round.
REQUEST_BATCH = 20


def run_push(
    app: Flask,
    stop: threading.Event,
    *,
    worker: str | None = None,
    on_event: Callable[[str], None] | None = None,
) -> None:
    """Do push work until ``stop`` is set (call it in a thread of its own)."""
    config = settings(app)
    worker = worker or worker_name()
    with (
        app.app_context(),
        Notifier(config.fetch) as notifier,
        ThreadPoolExecutor(config.concurrency, thread_name_prefix="push") as pool,
    ):
        hub_worker = HubWorker(app, notifier, worker, on_event=on_event)
        requester = Requester(notifier, worker, config)
        while not stop.is_set():
            try:
                busy = hub_worker.round(pool) if config.hub_enabled else 0
                busy += requester.round(REQUEST_BATCH)
            except SQLAlchemyError:  # an outage: logged, retried after a pause
                log.exception("push round failed")
                metrics.ERRORS.labels(where="push").inc()
                db.session.rollback()
                stop.wait(ERROR_PAUSE)
                continue
            if not busy:
                stop.wait(config.tick)
        db.session.remove()


def start_push(app: Flask, stop: threading.Event, **options: object) -> threading.Thread:
    """:func:`run_push` in a new daemon thread."""
    thread = threading.Thread(
        target=run_push, args=(app, stop), kwargs=options, name="push", daemon=True
    )
    thread.start()
    return thread
