"""Push between real instances on 127.0.0.1 (WebSub): create, edit and delete propagate
A -> B -> C in seconds without polling; forged deliveries are refused; a hub that goes
away leaves polling to take over; a lease that runs out is renewed; two workers on one
database do nothing twice."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select

from feeds.websub import link_header, sign
from service import create_app, metrics
from service.mirror import subscriptions
from service.push.status import working
from service.push.worker import start_push
from service.store.db import init_db
from service.store.models import HubSubscription, PushSubscription, Subscription, db
from tests.conftest import base_config, event_body, practice_body
from tests.dbutil import pg_base_url, pg_clone, pg_database
from tests.feedserver import Instance
from tests.test_federation import api_view, change_log_is_clean
from tests.websubtools import eventually

pytestmark = pytest.mark.federation

BACKENDS = ["sqlite"] + (["postgresql"] if pg_base_url() else [])
#: Polls would happen only every hour: whatever arrives sooner came by push.
NO_POLLS = {"MIRROR_INTERVAL": 3600, "MIRROR_MIN_INTERVAL": 3600, "HUB_MIN_LEASE": 1}


SUFFIX = os.environ.get("TEST_DB_SUFFIX", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def pg_template() -> str:
    """A migrated PostgreSQL database that each instance's database is copied from."""
    name = f"asdg_push_tmpl_{SUFFIX}"
    url = pg_database(name)
    app = create_app(base_config(url, Path()))
    with app.app_context():
        init_db()
        db.engine.dispose()
    return name


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Any]:
    made: list[Instance] = []

    def database(name: str) -> str:
        if backend == "sqlite":
            path = tmp_path / f"{name}.sqlite3"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            return f"sqlite:///{path}"
        return pg_clone(request.getfixturevalue("pg_template"), f"asdg_push_{name}_{SUFFIX}")

    def instance(name: str, **config: Any) -> Instance:
        made.append(Instance(name, database(name), **{**NO_POLLS, **config}))
        return made[-1]

    yield instance
    for one in made:
        one.close()


def subscribe(instance: Instance, url: str) -> int:
    with instance.app.app_context():
        sub_id = subscriptions.add_subscription(url).id
        result = subscriptions.poll_subscription(sub_id)  # the history, and the hub found
        assert result.status == "ok", result
        return sub_id


def push_of(instance: Instance, sub_id: int) -> PushSubscription | None:
    with instance.app.app_context():
        row = db.session.scalar(
            select(PushSubscription).where(PushSubscription.subscription_id == sub_id)
        )
        if row is not None:
            db.session.expunge(row)
        db.session.rollback()
        return row


def pushing(instance: Instance, sub_id: int) -> bool:
    return working(push_of(instance, sub_id))


def last_poll(instance: Instance, sub_id: int) -> Any:
    with instance.app.app_context():
        when = db.session.scalar(select(Subscription.last_poll).where(Subscription.id == sub_id))
        db.session.rollback()
        return when


def titles(instance: Instance) -> dict[str, str]:
    return {uid: item["title"] for uid, item in api_view(instance).items()}


def test_create_edit_delete_propagate_a_b_c_by_push(make: Any) -> None:
    a, b, c = make("a"), make("b"), make("c")
    token = a.add_city("irkutsk", "Иркутск", "Иркутская область")
    a.api("POST", "/api/v1/practices", token, practice_body(title="Первая"))
    b_sub = subscribe(b, a.url("/feeds/all.atom"))
    c_sub = subscribe(c, b.url("/feeds/network.atom"))
    assert push_of(b, b_sub).hub == a.url("/websub/hub")  # type: ignore[union-attr]
    assert push_of(c, c_sub).topic == b.url("/feeds/network.atom")  # type: ignore[union-attr]
    for instance in (a, b, c):
        instance.start_push()
    eventually(lambda: pushing(b, b_sub) and pushing(c, c_sub), what="verified subscriptions")
    polled = (last_poll(b, b_sub), last_poll(c, c_sub))

    started = time.monotonic()
    created = a.api("POST", "/api/v1/events", token, event_body(title="Новое событие"))
    eventually(lambda: created["id"] in titles(c), timeout=20, what="the new entry on C")
    assert time.monotonic() - started < 10  # about a second when the machine is not loaded
    a.api("PATCH", f"/api/v1/events/{created['id']}", token, {"title": "Исправлено"})
    eventually(lambda: titles(c).get(created["id"]) == "Исправлено", what="the edit on C")
    a.api("DELETE", f"/api/v1/events/{created['id']}", token)
    eventually(lambda: created["id"] not in titles(c), what="the deletion on C")

    assert (last_poll(b, b_sub), last_poll(c, c_sub)) == polled  # nobody polled
    view_a = api_view(a)
    assert {u: api_view(b)[u] for u in view_a} == view_a == {u: api_view(c)[u] for u in view_a}
    assert push_of(c, c_sub).pushes >= 3  # type: ignore[union-attr]
    for instance in (b, c):
        change_log_is_clean(instance)


def deliver(b: Instance, row: PushSubscription, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        b.url(f"/websub/callback/{row.token}"),
        content=body,
        headers={"Content-Type": "application/atom+xml", **headers},
    )


def test_forged_deliveries_are_refused(make: Any) -> None:
    a, b = make("a"), make("b")
    token = a.add_city("irkutsk", "Иркутск")
    b_sub = subscribe(b, a.url("/feeds/all.atom"))
    row = push_of(b, b_sub)
    assert row is not None
    forged = a.api("POST", "/api/v1/practices", token, practice_body(title="Подделка"))
    body = httpx.get(a.url("/feeds/all.atom")).content  # a real document, not pushed by A
    link = link_header(a.url("/websub/hub"), row.topic)
    refusals = [
        {},  # no signature
        {"X-Hub-Signature": sign("not the secret", body)},
        {"X-Hub-Signature": "sha256=" + "0" * 64},
        {"X-Hub-Signature": "md5=abc"},
        {"X-Hub-Signature": sign(row.secret, body + b" ")},
        {  # signed right, but for another topic
            "X-Hub-Signature": sign(row.secret, body),
            "Link": link_header(a.url("/websub/hub"), a.url("/feeds/network.atom")),
        },
    ]
    before = {o: received(o) for o in ("bad_signature", "wrong_topic", "unreadable", "stored")}
    for headers in refusals:
        answer = deliver(b, row, body, **headers)
        assert answer.status_code == 202, answer.text  # acknowledged, ignored (WebSub 7.1)
        assert forged["id"] not in titles(b)
        if len(headers) == 1 or not headers:
            assert "подпис" in (push_of(b, b_sub).last_error or "")  # type: ignore[union-attr]
    assert received("bad_signature") - before["bad_signature"] == 5
    assert received("wrong_topic") - before["wrong_topic"] == 1
    gone = httpx.post(b.url("/websub/callback/no-such-token"), content=body)
    assert gone.status_code == 410
    unreadable = deliver(b, row, b"<feed", **{"X-Hub-Signature": sign(row.secret, b"<feed")})
    assert unreadable.status_code == 202 and forged["id"] not in titles(b)
    assert received("unreadable") - before["unreadable"] == 1
    # The same document, signed with the subscription's secret: stored.
    answer = deliver(b, row, body, **{"X-Hub-Signature": sign(row.secret, body), "Link": link})
    assert answer.status_code == 202 and answer.text.strip() == "stored"
    assert titles(b)[forged["id"]] == "Подделка"
    # Verification of intent: only a request B sent, for its topic.
    check = b.url(f"/websub/callback/{row.token}")
    params = {"hub.mode": "subscribe", "hub.topic": row.topic, "hub.challenge": "x" * 40}
    assert httpx.get(check, params={**params, "hub.lease_seconds": "60"}).status_code == 404
    assert httpx.get(check, params={**params, "hub.mode": "unsubscribe"}).status_code == 404


def received(outcome: str) -> float:
    value = metrics.REGISTRY.get_sample_value("asdg_push_received_total", {"outcome": outcome})
    return value or 0.0


def test_a_hub_that_goes_away_leaves_it_to_polling(make: Any) -> None:
    a = make("a", HUB_MAX_LEASE=3, HUB_DEFAULT_LEASE=3)
    b = make("b", WEBSUB_LEASE=3, MIRROR_INTERVAL=1, MIRROR_MIN_INTERVAL=1)
    token = a.add_city("irkutsk", "Иркутск")
    b_sub = subscribe(b, a.url("/feeds/all.atom"))
    a.start_push()
    b.start_worker()
    eventually(lambda: pushing(b, b_sub), what="B's push subscription")
    first = a.api("POST", "/api/v1/practices", token, practice_body(title="По push"))
    eventually(lambda: first["id"] in titles(b), what="the push")

    a.stop_workers()  # A's site still answers; its hub no longer verifies nor delivers
    second = a.api("POST", "/api/v1/practices", token, practice_body(title="По опросу"))
    polled = last_poll(b, b_sub)
    eventually(lambda: second["id"] in titles(b), timeout=20, what="the poll")
    assert last_poll(b, b_sub) > polled  # it came by polling
    assert not pushing(b, b_sub)
    change_log_is_clean(b)


def test_a_lease_that_runs_out_is_renewed(make: Any) -> None:
    a = make("a", HUB_MAX_LEASE=3, HUB_DEFAULT_LEASE=3)
    b = make("b", WEBSUB_LEASE=3)
    token = a.add_city("irkutsk", "Иркутск")
    b_sub = subscribe(b, a.url("/feeds/all.atom"))
    a.start_push()
    b.start_push()  # no polls at all on B
    eventually(lambda: pushing(b, b_sub), what="B's push subscription")
    first_expiry = push_of(b, b_sub).expires  # type: ignore[union-attr]
    hub_expiry = eventually(lambda: hub_expires(a), what="A's hub recording the subscription")
    eventually(
        lambda: (r := push_of(b, b_sub)) and r.expires > first_expiry,  # type: ignore[operator]
        what="B renewing its subscription before the lease ends",
    )
    time.sleep(max(0.0, (first_expiry - _now()).total_seconds()) + 0.2)  # type: ignore[operator]
    assert working(push_of(b, b_sub))  # past the first lease: still in force
    eventually(lambda: hub_expires(a) > hub_expiry, what="A's hub extending the lease")
    late = a.api("POST", "/api/v1/practices", token, practice_body(title="После продления"))
    eventually(lambda: late["id"] in titles(b), what="a push after the first lease")


def hub_expires(a: Instance) -> Any:
    with a.app.app_context():
        when = db.session.scalar(select(HubSubscription.expires))
        db.session.rollback()
        return when


def _now() -> Any:
    from service.store.models import utcnow

    return utcnow()


# -- scale-out: two workers on one database -------------------------------------------------


def test_two_workers_on_one_database_do_nothing_twice(make: Any, backend: str) -> None:
    a = make("a")
    b = make("b", MIRROR_INTERVAL=1, MIRROR_MIN_INTERVAL=1, MIRROR_PUSH_INTERVAL=1)
    cities = ["irkutsk", "tomsk", "omsk", "chita"]
    tokens = {slug: a.add_city(slug, slug.capitalize()) for slug in cities}
    subs = [subscribe(b, a.url(f"/cities/{slug}/feed.atom")) for slug in cities]
    a.start_push()
    second: Flask = create_app(b.settings)  # another worker process's app: its own engine
    stop = threading.Event()
    threads = [start_push(second, stop)]

    def polls(app: Flask) -> None:
        with app.app_context():
            subscriptions.run_forever(stop=stop, idle=0.2)

    threads.append(threading.Thread(target=polls, args=(second,), daemon=True))
    threads[-1].start()
    b.start_worker()
    try:
        eventually(lambda: all(pushing(b, s) for s in subs), timeout=20, what="push for all")
        created = []
        for round_ in range(3):
            for slug in cities:
                body = practice_body(title=f"{slug} {round_}")
                created.append(a.api("POST", "/api/v1/practices", tokens[slug], body)["id"])
        eventually(lambda: set(created) <= set(titles(b)), timeout=20, what="every entry on B")
        time.sleep(1.5)  # let polls run over the same documents too
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        with second.app_context():
            db.session.remove()
            db.engine.dispose()
    with a.app.app_context():
        hub_rows = db.session.scalars(select(HubSubscription)).all()
        assert len(hub_rows) == len(cities)  # one subscription per topic at A's hub
        assert all(r.state == "active" for r in hub_rows)
    change_log_is_clean(b)  # no version stored twice by two workers, or by a push and a poll
    with b.app.app_context():
        assert db.session.scalar(select(db.func.count(PushSubscription.id))) == len(cities)
