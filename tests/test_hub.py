"""This instance as the WebSub hub of its own feeds: requests, verification of intent,
signed deliveries driven by the change log, retries, 410, leases, and two workers on
one database delivering each change once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

from feeds.notify import Notifier
from feeds.websub import parse_links, signature_matches
from service import create_app
from service.push import hub
from service.push.delivery import HubWorker, run_round
from service.push.settings import settings
from service.store.models import HubSubscription, db, utcnow
from tests.conftest import Api, base_config, practice_body
from tests.feedserver import FeedServer
from tests.websubtools import Callback

BASE = "http://test.example"
TOPIC = f"{BASE}/feeds/all.atom"
HUB_CONFIG = {
    "MIRROR_ALLOW_PRIVATE_ADDRESSES": True,
    "HUB_MIN_LEASE": 1,
    "HUB_RETRY_MIN": 0.2,
    "HUB_RETRY_MAX": 0.4,
    "HUB_TIMEOUT": 5.0,
}


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


@pytest.fixture
def hub_app(app: Flask) -> Flask:
    app.config.update(HUB_CONFIG)
    return app


def ask(app: Flask, **form: str) -> Any:
    fields = {f"hub.{name}": value for name, value in form.items()}
    return app.test_client().post("/websub/hub", data=fields)


def subscribe(app: Flask, callback: str, topic: str = TOPIC, **more: str) -> None:
    answer = ask(app, mode="subscribe", topic=topic, callback=callback, **more)
    assert answer.status_code == 202, answer.get_data(as_text=True)


def rounds(app: Flask, n: int = 1) -> int:
    with app.app_context():
        return sum(run_round(app) for _ in range(n))


def rows(app: Flask) -> list[HubSubscription]:
    with app.app_context():
        found = list(db.session.scalars(select(HubSubscription).order_by(HubSubscription.id)))
        db.session.expunge_all()
        return found


def test_subscribe_verify_deliver_signed(
    hub_app: Flask, api: Api, omsk: str, server: FeedServer
) -> None:
    callback = Callback(server)
    subscribe(hub_app, callback.url, secret="s3cret", lease_seconds="600")
    # Stored, not yet verified: the request's answer never waits for the subscriber.
    assert callback.calls == [] and rows(hub_app)[0].state == "pending"
    rounds(hub_app)
    (check,) = callback.gets()
    assert check.query["hub.mode"] == "subscribe" and check.query["hub.topic"] == TOPIC
    assert check.query["hub.lease_seconds"] == "600" and len(check.query["hub.challenge"]) >= 32
    (row,) = rows(hub_app)
    assert row.state == "active" and row.secret == "s3cret" and row.lease_seconds == 600
    assert row.expires is not None and row.expires > utcnow() + timedelta(seconds=590)

    assert rounds(hub_app) == 0  # nothing changed: nothing sent
    created = api.post("/api/v1/practices", practice_body(title="Новая практика"), omsk).json
    assert callback.posts() == []  # never inside the request that made the change
    rounds(hub_app)
    (delivery,) = callback.posts()
    assert b"\xd0\x9d\xd0\xbe\xd0\xb2\xd0\xb0\xd1\x8f" in delivery.body  # "Новая"
    assert created["id"].encode() in delivery.body
    assert delivery.headers["content-type"].startswith("application/atom+xml")
    links = parse_links(delivery.headers["link"])
    assert links == {"hub": f"{BASE}/websub/hub", "self": TOPIC}
    signature = delivery.headers["x-hub-signature"]
    assert signature.startswith("sha256=")
    assert signature_matches("s3cret", delivery.body, signature)
    assert not signature_matches("other", delivery.body, signature)
    assert rounds(hub_app) == 0 and len(callback.posts()) == 1
    (row,) = rows(hub_app)
    assert row.deliveries == 1 and row.failures == 0 and row.last_delivery is not None


def test_only_feeds_that_changed_are_delivered(
    hub_app: Flask, api: Api, omsk: str, tomsk: str, server: FeedServer
) -> None:
    omsk_cb, events_cb = Callback(server, "/omsk"), Callback(server, "/events")
    subscribe(hub_app, omsk_cb.url, topic=f"{BASE}/cities/omsk/feed.json")
    subscribe(hub_app, events_cb.url, topic=f"{BASE}/feeds/all.atom?kind=event&utm_source=x")
    rounds(hub_app)
    api.post("/api/v1/practices", practice_body(), tomsk)
    rounds(hub_app)
    assert omsk_cb.posts() == [] and events_cb.posts() == []
    versions = {row.feed: row.delivered_seq for row in rows(hub_app)}
    assert versions == {"/cities/omsk/feed.json": 1, "/feeds/all.atom?kind=event": 1}
    api.post("/api/v1/practices", practice_body(title="Омская"), omsk)
    rounds(hub_app)
    (delivery,) = omsk_cb.posts()
    assert delivery.headers["content-type"].startswith("application/feed+json")
    assert parse_links(delivery.headers["link"])["self"] == f"{BASE}/cities/omsk/feed.json"
    assert "x-hub-signature" not in delivery.headers  # no secret given, nothing to sign with
    assert events_cb.posts() == []


def test_failed_delivery_is_retried_with_the_newest_document(
    hub_app: Flask, api: Api, omsk: str, server: FeedServer
) -> None:
    callback = Callback(server)
    subscribe(hub_app, callback.url)
    rounds(hub_app)
    callback.status = 503
    api.post("/api/v1/practices", practice_body(title="Первая"), omsk)
    rounds(hub_app)
    assert len(callback.posts()) == 1
    (row,) = rows(hub_app)
    assert row.failures == 1 and row.last_error and row.next_attempt > utcnow()
    assert rounds(hub_app) == 0  # backing off
    api.post("/api/v1/practices", practice_body(title="Вторая"), omsk)
    callback.status = 202
    time.sleep(0.45)
    rounds(hub_app)
    assert len(callback.posts()) == 2
    body = callback.posts()[-1].body.decode()
    assert "Первая" in body and "Вторая" in body  # one delivery carries both changes
    (row,) = rows(hub_app)
    assert row.failures == 0 and row.last_error is None and row.delivered_seq == 2


def test_gone_callback_ends_the_subscription(
    hub_app: Flask, api: Api, omsk: str, server: FeedServer
) -> None:
    callback = Callback(server)
    subscribe(hub_app, callback.url)
    rounds(hub_app)
    callback.status = 410
    api.post("/api/v1/practices", practice_body(), omsk)
    rounds(hub_app)
    assert len(callback.posts()) == 1 and rows(hub_app) == []


def test_intent_not_confirmed(hub_app: Flask, server: FeedServer) -> None:
    callback = Callback(server)
    callback.confirm = False
    subscribe(hub_app, callback.url)
    rounds(hub_app)
    assert len(callback.gets()) == 1 and rows(hub_app) == []


def test_renewal_keeps_the_subscription_while_it_is_checked_and_unsubscribe(
    hub_app: Flask, server: FeedServer
) -> None:
    callback = Callback(server)
    subscribe(hub_app, callback.url, lease_seconds="100", secret="one")
    rounds(hub_app)
    first = rows(hub_app)[0]
    callback.confirm = False  # someone else asks to renew with their own secret
    subscribe(hub_app, callback.url, lease_seconds="900", secret="two")
    rounds(hub_app)
    (row,) = rows(hub_app)
    assert row.state == "active" and row.secret == "one" and row.expires == first.expires
    callback.confirm = True
    subscribe(hub_app, callback.url, lease_seconds="900", secret="two")
    rounds(hub_app)
    (row,) = rows(hub_app)
    assert row.secret == "two" and row.lease_seconds == 900 and row.expires > first.expires
    answer = ask(hub_app, mode="unsubscribe", topic=TOPIC, callback=callback.url)
    assert answer.status_code == 202
    rounds(hub_app)
    assert callback.gets()[-1].query["hub.mode"] == "unsubscribe"
    assert "hub.lease_seconds" not in callback.gets()[-1].query
    assert rows(hub_app) == []


def test_lease_bounds_and_expiry(hub_app: Flask, api: Api, omsk: str, server: FeedServer) -> None:
    hub_app.config.update(HUB_MIN_LEASE=60, HUB_DEFAULT_LEASE=120, HUB_MAX_LEASE=300)
    short, none, long = Callback(server, "/a"), Callback(server, "/b"), Callback(server, "/c")
    subscribe(hub_app, short.url, lease_seconds="5")
    subscribe(hub_app, none.url)
    subscribe(hub_app, long.url, lease_seconds="99999999")
    rounds(hub_app)
    assert [r.lease_seconds for r in rows(hub_app)] == [60, 120, 300]
    with hub_app.app_context():
        db.session.execute(
            update(HubSubscription)
            .where(HubSubscription.callback == short.url)
            .values(expires=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    api.post("/api/v1/practices", practice_body(), omsk)
    rounds(hub_app)
    assert short.posts() == [] and len(none.posts()) == 1 and len(long.posts()) == 1
    assert len(rows(hub_app)) == 2  # the worker removed the expired one
    with hub_app.app_context():
        db.session.execute(update(HubSubscription).values(expires=utcnow()))
        db.session.commit()
        assert hub.expire() == 2


def bad_topic(topic: str) -> dict[str, str]:
    return {"mode": "subscribe", "topic": topic, "callback": "http://cb.example/x"}


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"topic": TOPIC, "callback": "http://cb.example/x"}, "hub.mode"),
        ({"mode": "publish", "topic": TOPIC, "callback": "http://cb.example/x"}, "hub.mode"),
        ({"mode": "subscribe", "topic": TOPIC}, "hub.callback"),
        ({"mode": "subscribe", "topic": TOPIC, "callback": "javascript:alert(1)"}, "hub.callback"),
        ({"mode": "subscribe", "topic": TOPIC, "callback": "ftp://cb.example/"}, "hub.callback"),
        ({"mode": "subscribe", "callback": "http://cb.example/x"}, "hub.topic"),
        (bad_topic("http://other.example/feeds/all.atom"), "hub.topic"),
        (bad_topic(f"{BASE}/practices/1"), "hub.topic"),
        (bad_topic(f"{BASE}/feeds/all.atom?page=1"), "hub.topic"),
        (bad_topic(f"{BASE}/cities/nowhere/feed.atom"), "hub.topic"),
        (bad_topic(f"{BASE}/feeds/all.atom?kind=poem"), "hub.topic"),
        (
            {"mode": "subscribe", "topic": TOPIC, "callback": "http://cb.example/x",
             "lease_seconds": "-5"},
            "hub.lease_seconds",
        ),
        (
            {"mode": "subscribe", "topic": TOPIC, "callback": "http://cb.example/x",
             "secret": "x" * 200},
            "hub.secret",
        ),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_naming_the_parameter(
    hub_app: Flask, form: dict[str, str], field: str
) -> None:
    answer = ask(hub_app, **form)
    assert answer.status_code == 400
    assert list(answer.json["errors"]["json"]) == [field], answer.json
    assert rows(hub_app) == []


def test_hub_full_and_hub_off(hub_app: Flask) -> None:
    hub_app.config["HUB_MAX_SUBSCRIPTIONS"] = 1
    subscribe(hub_app, "http://cb.example/1")
    answer = ask(hub_app, mode="subscribe", topic=TOPIC, callback="http://cb.example/2")
    assert answer.status_code == 429 and answer.json["errors"]["json"] == {
        "hub.callback": [answer.json["message"]]
    }
    hub_app.config["WEBSUB_HUB"] = False
    assert (
        ask(hub_app, mode="subscribe", topic=TOPIC, callback="http://cb.example/3").status_code
        == 404
    )


def test_private_callbacks_are_not_called_unless_allowed(
    hub_app: Flask, server: FeedServer
) -> None:
    hub_app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=False, HUB_VERIFY_ATTEMPTS=2)
    callback = Callback(server)  # on 127.0.0.1
    subscribe(hub_app, callback.url)
    rounds(hub_app)
    (row,) = rows(hub_app)
    assert row.failures == 1 and "не публичный" in (row.last_error or "")
    time.sleep(0.45)
    rounds(hub_app)
    assert rows(hub_app) == [] and callback.calls == []


# -- several workers, one database -------------------------------------------------


def test_two_workers_deliver_each_change_once(
    database_url: str, tmp_path: Any, server: FeedServer
) -> None:
    apps = []
    for _ in range(2):
        config = base_config(database_url, tmp_path)
        config.update(HUB_CONFIG, HUB_CONCURRENCY=4)
        apps.append(create_app(config))
    first = apps[0]
    api = Api(first, first.test_client())
    token = (api.city("omsk", "Омск"), api.token("omsk"))[1]
    callbacks = [Callback(server, f"/cb{i}") for i in range(24)]
    for callback in callbacks:
        subscribe(first, callback.url)

    def work(app: Flask, stop: threading.Event) -> None:
        with app.app_context():
            config = settings(app)
            with Notifier(config.fetch) as notifier, ThreadPoolExecutor(4) as pool:
                worker = HubWorker(app, notifier, f"worker-{id(app)}")
                while not stop.is_set():
                    if not worker.round(pool):
                        stop.wait(0.02)

    stop = threading.Event()
    threads = [threading.Thread(target=work, args=(app, stop)) for app in apps]
    for thread in threads:
        thread.start()
    try:
        deadline = time.monotonic() + 20
        while any(not c.gets() for c in callbacks) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        for i in range(3):
            api.post("/api/v1/practices", practice_body(title=f"Практика {i}"), token)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not all(
                len(c.posts()) == i + 1 for c in callbacks
            ):
                time.sleep(0.02)
            time.sleep(0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert [len(c.gets()) for c in callbacks] == [1] * 24  # each verified once
    assert [len(c.posts()) for c in callbacks] == [3] * 24  # each change delivered once
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# -- advertising the hub (WebSub 4) ------------------------------------------------


def test_feeds_advertise_the_hub(hub_app: Flask, api: Api, omsk: str) -> None:
    from feeds.parse import parse_feed

    hub_app.config["FEED_PAGE_SIZE"] = 1
    for i in range(3):
        api.post("/api/v1/practices", practice_body(title=f"П{i}"), omsk)
    client = hub_app.test_client()
    for path, fmt in (
        ("/feeds/all.atom", "atom"),
        ("/cities/omsk/feed.json?kind=practice", "json"),
    ):
        answer = client.get(path)
        assert parse_links(answer.headers["Link"]) == {
            "hub": f"{BASE}/websub/hub",
            "self": BASE + path,
        }
        feed = parse_feed(answer.data, url=BASE + path, content_type=answer.content_type)
        assert feed.hubs == (f"{BASE}/websub/hub",) and feed.self_url == BASE + path
        assert feed.format == fmt
        archive = client.get(path + ("&" if "?" in path else "?") + "page=1")
        assert archive.status_code == 200 and "Link" not in archive.headers
        assert parse_feed(archive.data, url=BASE + path).hubs == ()
    hub_app.config["WEBSUB_HUB"] = False
    api.post("/api/v1/practices", practice_body(title="ещё"), omsk)  # a new version: re-rendered
    answer = client.get("/feeds/all.json")
    assert "Link" not in answer.headers and "hubs" not in answer.json
