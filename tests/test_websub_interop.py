"""Interop with an independent WebSub implementation (Flask-WebSub, from PyPI).

Its subscriber against our hub: it subscribes over https (it sends a secret
only to https hubs), our worker verifies its intent and delivers a change,
and its subscriber checks our X-Hub-Signature before it takes the content.

Our subscriber against its hub (its Celery tasks run eagerly): a feed it
publishes advertises its hub; our poll finds it, our worker subscribes, its
hub verifies our intent, and a change it distributes (signed with sha512,
its default) is stored by our mirror without a poll.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme
from flask import Flask
from flask_websub.subscriber import (
    SQLite3SubscriberStorage,
    SQLite3TempSubscriberStorage,
    Subscriber,
    discover,
)
from werkzeug.serving import make_server

from tests.conftest import practice_body
from tests.feedserver import Instance
from tests.websubtools import eventually

pytestmark = pytest.mark.federation


class Served:
    """A Flask app of Flask-WebSub's on a real HTTP server on 127.0.0.1."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        app.config["SERVER_NAME"] = f"127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> trustme.CA:
    """A test CA that ``requests`` (Flask-WebSub's HTTP client) trusts."""
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    return authority


@pytest.fixture
def their_subscriber(tmp_path: Path) -> Iterator[tuple[Subscriber, Served, list[Any]]]:
    app = Flask("flask-websub-subscriber")
    subscriber = Subscriber(
        SQLite3SubscriberStorage(str(tmp_path / "sub.sqlite3")),
        SQLite3TempSubscriberStorage(str(tmp_path / "sub-temp.sqlite3")),
    )
    app.register_blueprint(subscriber.build_blueprint(url_prefix="/callbacks"))
    events: list[Any] = []
    subscriber.add_listener(lambda topic, callback_id, body: events.append(("push", topic, body)))
    subscriber.add_success_handler(lambda topic, callback_id, mode: events.append((mode, topic)))
    subscriber.add_error_handler(lambda topic, callback_id, why: events.append(("error", why)))
    served = Served(app)
    yield subscriber, served, events
    served.close()


def test_their_subscriber_against_our_hub(
    tmp_path: Path,
    sqlite_template: Path,
    ca: trustme.CA,
    their_subscriber: tuple[Subscriber, Served, list[Any]],
) -> None:
    import shutil

    shutil.copy(sqlite_template, tmp_path / "a.sqlite3")
    a = Instance("a", f"sqlite:///{tmp_path / 'a.sqlite3'}", tls=ca, HUB_MIN_LEASE=60)
    try:
        token = a.add_city("irkutsk", "Иркутск")
        a.start_push()
        subscriber, served, events = their_subscriber
        topic = a.url("/cities/irkutsk/feed.atom")
        assert requests.get(topic, timeout=5).status_code == 200  # the CA is trusted
        found = discover(topic)  # its discovery reads our Link header and feed links
        assert found == {"hub_url": a.url("/websub/hub"), "topic_url": topic}
        with served.app.app_context():
            subscriber.subscribe(**found, lease_seconds=3600)
        eventually(lambda: ("subscribe", topic) in events, what="verification of intent")
        (stored,) = subscriber.storage.close_to_expiration(10**9)
        assert stored["secret"] and stored["lease_seconds"] == 3600  # it chose a secret

        created = a.api("POST", "/api/v1/practices", token, practice_body(title="Для Flask-WebSub"))
        pushes = eventually(lambda: [e for e in events if e[0] == "push"], what="a delivery")
        (_, pushed_topic, body) = pushes[0]
        assert pushed_topic == topic
        assert created["id"].encode() in body and "Для Flask-WebSub".encode() in body

        # Its subscriber checks our signature: the same body with a wrong one is dropped.
        callback = f"{served.url}/callbacks/{stored['callback_id']}"
        forged = requests.post(
            callback,
            data=body,
            headers={
                "X-Hub-Signature": "sha256=" + "0" * 64,
                "Content-Type": "application/atom+xml",
            },
            timeout=5,
        )
        assert forged.status_code == 200 and len([e for e in events if e[0] == "push"]) == 1
    finally:
        a.close()


ITEM = """<entry><id>urn:fws:{n}</id><title>Новость {n}</title>
<updated>2024-05-0{n}T10:00:00Z</updated><content type="html">&lt;p&gt;Текст {n}&lt;/p&gt;</content>
</entry>"""


@pytest.fixture
def their_hub(tmp_path: Path) -> Iterator[tuple[Any, Served, list[int]]]:
    from celery import Celery
    from flask_websub.hub import Hub, SQLite3HubStorage
    from flask_websub.publisher import init_publisher, publisher

    celery = Celery("flask-websub-hub", broker="memory://", backend="cache+memory://")
    celery.conf.task_always_eager = True
    app = Flask("flask-websub-hub")
    app.config.update(HUB_MIN_LEASE_SECONDS=60, HUB_DEFAULT_LEASE_SECONDS=3600)
    hub = Hub(SQLite3HubStorage(str(tmp_path / "hub.sqlite3")), celery, REQUEST_TIMEOUT=5)
    app.register_blueprint(hub.build_blueprint(url_prefix="/hub"))
    init_publisher(app)
    items = [1]

    @app.get("/feed.atom")
    @publisher()
    def feed() -> Any:
        entries = "".join(ITEM.format(n=n) for n in items)
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>Лента Flask-WebSub</title><id>urn:fws:feed</id>"
            f"<updated>2024-05-0{items[-1]}T10:00:00Z</updated>"
            f'<link rel="alternate" href="{served.url}/"/>{entries}</feed>'
        )
        return body, 200, {"Content-Type": "application/atom+xml; charset=utf-8"}

    served = Served(app)
    yield hub, served, items
    served.close()


def test_our_subscriber_against_their_hub(
    tmp_path: Path, sqlite_template: Path, their_hub: tuple[Any, Served, list[int]]
) -> None:
    import shutil

    from service.mirror import subscriptions
    from service.push.status import working
    from tests.test_push import push_of

    hub, served, items = their_hub
    shutil.copy(sqlite_template, tmp_path / "b.sqlite3")
    b = Instance("b", f"sqlite:///{tmp_path / 'b.sqlite3'}", MIRROR_INTERVAL=3600)
    try:
        topic = served.url + "/feed.atom"
        with b.app.app_context():
            sub_id = subscriptions.add_subscription(topic).id
            assert subscriptions.poll_subscription(sub_id).new == 1
        row = push_of(b, sub_id)
        assert row is not None and row.hub == served.url + "/hub" and row.topic == topic
        b.start_push()
        eventually(lambda: working(push_of(b, sub_id)), what="their hub verifying our intent")
        (stored,) = eventually(lambda: list(hub.storage.get_callbacks(topic)), what="its storage")
        assert tuple(stored) == (b.url(f"/websub/callback/{row.token}"), row.secret)

        items.append(2)
        with served.app.app_context():
            hub.send_change_notification.delay(topic)  # eager: fetches the topic, delivers
        titles = lambda: {e["title"] for e in b.api("GET", "/api/v1/practices")["items"]}  # noqa: E731
        eventually(lambda: "Новость 2" in titles(), what="the delivery from their hub")
        pushed = push_of(b, sub_id)
        assert pushed is not None and pushed.pushes == 1 and pushed.last_error is None
    finally:
        b.close()
