"""Several workers share one database: each due feed is polled by one of them,
never by two at once (claims with a lease, ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from service import create_app
from service.mirror import subscriptions
from service.mirror.claims import claim_due
from service.mirror.results import Summary
from service.mirror.settings import settings
from service.store.models import Entry, Subscription, db
from tests.conftest import base_config
from tests.dbutil import pg_base_url, pg_database
from tests.feedserver import FeedServer

FEEDS = 16


def feed(i: int) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
      <title>Лента {i}</title><id>urn:feed:{i}</id><updated>2024-05-01T00:00:00Z</updated>
      <entry><id>urn:feed:{i}:entry</id><title>Запись {i}</title>
      <updated>2024-05-01T00:00:00Z</updated><content type="html">&lt;p&gt;{i}&lt;/p&gt;</content>
      </entry></feed>"""


@pytest.fixture(params=["sqlite"] + (["postgresql"] if pg_base_url() else []))
def database_path(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "shared.sqlite3"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    return pg_database(f"asdg_workers_{os.environ.get('TEST_DB_SUFFIX', '')}main")


@pytest.fixture
def workers(database_path: str, tmp_path: Path) -> Iterator[list[Flask]]:
    """Two apps (two engines, two connection pools) on one database."""
    apps = []
    for _ in range(2):
        config = base_config(database_path, tmp_path)
        config.update(
            MIRROR_ALLOW_PRIVATE_ADDRESSES=True,
            MIRROR_TIMEOUT=5.0,
            MIRROR_CONCURRENCY=2,
            MIRROR_PER_HOST=2,
            MIRROR_INTERVAL=0.4,
            MIRROR_MIN_INTERVAL=0.4,
            MIRROR_LEASE=30,
        )
        apps.append(create_app(config))
    with apps[0].app_context():
        from service.store.db import init_db

        init_db()
    yield apps
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        for i in range(FEEDS):
            s.add(f"/feed{i}.atom", feed(i), delay=0.1)
        yield s


def subscribe_all(app: Flask, server: FeedServer) -> None:
    with app.app_context():
        for i in range(FEEDS):
            db.session.add(Subscription(url=server.url(f"/feed{i}.atom")))
        db.session.commit()


def test_two_workers_split_the_due_feeds(workers: list[Flask], server: FeedServer) -> None:
    subscribe_all(workers[0], server)
    results: list[Summary] = []
    start = threading.Barrier(len(workers))

    def work(app: Flask) -> None:
        with app.app_context():
            start.wait()
            results.append(subscriptions.poll_due())

    threads = [threading.Thread(target=work, args=(app,)) for app in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s.feeds for s in results)[0] > 0, "both workers took a share"
    assert sum(s.feeds for s in results) == FEEDS and sum(s.new for s in results) == FEEDS
    assert all(server.hits[f"/feed{i}.atom"] == 1 for i in range(FEEDS))
    with workers[1].app_context():
        assert db.session.scalar(select(func.count(Entry.id))) == FEEDS
        assert (
            db.session.scalar(select(func.count()).where(Subscription.lease_owner.is_not(None)))
            == 0
        )


def test_workers_running_on_schedule_never_overlap_on_a_feed(
    workers: list[Flask], server: FeedServer
) -> None:
    subscribe_all(workers[0], server)
    stop = threading.Event()
    polls: list[list[str]] = [[], []]

    def run(index: int) -> None:
        with workers[index].app_context():
            subscriptions.run_forever(
                stop=stop, idle=0.2, on_result=lambda r: polls[index].append(r.status)
            )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20  # a loaded machine is slower; usually ~2 s
    while (
        time.monotonic() < deadline and min(server.hits[f"/feed{i}.atom"] for i in range(FEEDS)) < 2
    ):
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert all(polls), "both workers polled"
    assert all(status in ("ok", "not-modified") for p in polls for status in p)
    hits = [server.hits[f"/feed{i}.atom"] for i in range(FEEDS)]
    assert min(hits) >= 2  # every feed came due again and was polled again
    assert max(server.max_active.values()) == 1  # never two polls of one feed at once


def test_a_dead_workers_lease_expires(workers: list[Flask], server: FeedServer) -> None:
    subscribe_all(workers[0], server)
    workers[0].config["MIRROR_LEASE"] = 0.5
    with workers[0].app_context():
        dead = claim_due("dead-worker", FEEDS, settings().lease)  # claims, then "dies"
        assert len(dead) == FEEDS
    with workers[1].app_context():
        assert subscriptions.poll_due().feeds == 0
        time.sleep(0.6)
        assert subscriptions.poll_due().feeds == FEEDS


def test_claims_waiting_in_the_queue_keep_their_lease(
    workers: list[Flask], server: FeedServer
) -> None:
    """A lease shorter than the queue's wait is renewed before the poll starts:
    no feed is polled twice, even by the worker that holds it."""
    subscribe_all(workers[0], server)
    workers[0].config["MIRROR_LEASE"] = 0.3  # 16 feeds x 0.1 s, two at a time: 0.8 s
    with workers[0].app_context():
        summary = subscriptions.poll_due()
    assert summary.feeds == FEEDS and summary.errors == 0
    assert all(server.hits[f"/feed{i}.atom"] == 1 for i in range(FEEDS))
