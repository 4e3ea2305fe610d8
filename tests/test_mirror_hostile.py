"""Hostile feeds, served by a real server on 127.0.0.1: each one is refused or
contained, recorded as that subscription's error, and never stops the other
subscriptions or touches data already mirrored."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.entries.changelog import snapshot
from service.entries.service import create_entry
from service.mirror import subscriptions
from service.mirror.results import PollResult, log_line
from service.store.models import City, Entry, Subscription, db
from tests import feedserver
from tests.conftest import practice_body
from tests.feedserver import FeedServer, Instance

ATOM = "http://www.w3.org/2005/Atom"
LAUGHS = "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
BOMB = f"""<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY lol0 "lol">{LAUGHS}]>
<feed xmlns="{ATOM}"><title>&lol9;</title><id>x</id></feed>"""
XXE = f"""<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="{ATOM}"><title>t</title><id>x</id><entry><id>tag:evil,1:x</id><title>&xxe;</title>
<updated>2024-01-01T00:00:00Z</updated></entry></feed>"""
DTD = f"""<?xml version="1.0"?><!DOCTYPE feed [<!ELEMENT feed ANY>]>
<feed xmlns="{ATOM}"><title>t</title><id>x</id></feed>"""


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def test_hostile_feeds_are_contained(app: Flask, source: Instance, server: FeedServer) -> None:
    app.config.update(
        MIRROR_ALLOW_PRIVATE_ADDRESSES=True,
        MIRROR_TIMEOUT=2.0,
        MIRROR_MAX_FEED_BYTES=1 << 20,
        MIRROR_INTERVAL=1,
        MIRROR_MIN_INTERVAL=1,
        MIRROR_CONCURRENCY=16,
        MIRROR_PER_HOST=16,
    )
    token = source.add_city("irkutsk", "Иркутск")
    for i in range(3):
        source.api("POST", "/api/v1/practices", token, practice_body(title=f"Запись {i}"))
    genuine = source.app.test_client().get("/feeds/all.atom").data.decode()

    with app.app_context():
        omsk = City(slug="omsk", name="Омск", local=True)
        db.session.add(omsk)
        db.session.commit()
        local = create_entry("practice", practice_body(title="Своя запись"), city=omsk)
        local_uid, local_before = local.uid, snapshot(local)
        good_id = subscriptions.add_subscription(source.url("/feeds/all.atom")).id
        assert subscriptions.poll_subscription(good_id).new == 3
    mirrored_before = source.snapshots()

    forged_titles = genuine.replace("Запись", "Подделка")
    forged_local_city = genuine.replace(
        "<asdg:slug>irkutsk</asdg:slug>", "<asdg:slug>omsk</asdg:slug>"
    ).replace("tag:source.test", "tag:evil.test")
    forged_tombstone = (
        f'<feed xmlns="{ATOM}" xmlns:at="http://purl.org/atompub/tombstones/1.0">'
        f'<title>t</title><id>evil</id><at:deleted-entry ref="{local_uid}" '
        'when="2025-01-01T00:00:00Z"/></feed>'
    )
    truncated = genuine[: len(genuine) // 2]
    server.handle("/loop-a", feedserver.redirect("/loop-b"))
    hostile = {
        "bomb": server.add("/bomb.atom", BOMB),
        "xxe": server.add("/xxe.atom", XXE),
        "dtd": server.add("/dtd.atom", DTD),
        "encoding": server.add(
            "/enc.atom",
            f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="{ATOM}"><title>'.encode()
            + b"\xff\xfe\xc3(</title></feed>",
        ),
        "unknown-encoding": server.add(
            "/enc2.atom", f'<?xml version="1.0" encoding="x-klingon"?><feed xmlns="{ATOM}"/>'
        ),
        "truncated": server.add("/truncated.atom", truncated),
        "endless": server.handle("/endless.atom", feedserver.endless()),
        "gzip-bomb": server.handle("/gzbomb.atom", feedserver.gzip_bomb(256 << 20)),
        "drip": server.handle("/drip.atom", feedserver.drip(0.1)),
        "silent": server.handle("/silent.atom", feedserver.silent(30)),
        "loop": server.handle("/loop-b", feedserver.redirect("/loop-a")),
        "not-a-feed": server.add(
            "/page.html", "<html><body>hi</body></html>", content_type="text/html"
        ),
        "forged-titles": server.add("/forged.atom", forged_titles),
        "forged-local-city": server.add("/forged-local.atom", forged_local_city),
        "forged-tombstone": server.add("/forged-tombstone.atom", forged_tombstone),
    }
    with app.app_context():
        ids = {}
        for name, url in hostile.items():
            sub = Subscription(url=url)
            db.session.add(sub)
            db.session.commit()
            ids[name] = sub.id
        source.api("POST", "/api/v1/practices", token, practice_body(title="Новая запись"))
        time.sleep(1.2)  # the genuine feed comes due again (MIRROR_INTERVAL=1)
        started = time.monotonic()
        summary = subscriptions.poll_due()
        elapsed = time.monotonic() - started
        assert summary.feeds == len(hostile) + 1
        assert elapsed < 8, "slow and endless feeds must be cut by the limits"

        states = {name: db.session.get(Subscription, sub_id) for name, sub_id in ids.items()}
        for name, state in states.items():
            assert state.last_error, f"{name}: no error recorded"
            assert state.entries_mirrored == 0, name
        assert "MIRROR_MAX_FEED_BYTES" in states["endless"].last_error
        assert "MIRROR_MAX_FEED_BYTES" in states["gzip-bomb"].last_error
        assert "MIRROR_TIMEOUT" in states["drip"].last_error
        assert "MIRROR_TIMEOUT" in states["silent"].last_error
        assert "кругу" in states["loop"].last_error
        assert "сущност" in states["bomb"].last_error and "сущност" in states["xxe"].last_error
        assert "DTD" in states["dtd"].last_error
        # Altered records no longer match their origin's signature.
        assert "подпись неверна" in states["forged-titles"].last_error
        assert "подпись неверна" in states["forged-local-city"].last_error
        assert "этого сервера" in states["forged-tombstone"].last_error
        for name in ("forged-titles", "forged-local-city", "forged-tombstone"):
            assert states[name].state == "active"  # the feed works; its claims are refused
        for name in ("bomb", "xxe", "dtd", "encoding", "truncated", "endless", "drip", "loop"):
            assert states[name].state == "error" and states[name].failures == 1

        genuine_state = db.session.get(Subscription, good_id)
        assert genuine_state.last_error is None and genuine_state.entries_mirrored == 4
        assert (
            snapshot(db.session.scalar(select(Entry).where(Entry.uid == local_uid))) == local_before
        )
        assert db.session.scalar(select(func.count(City.id))) == 2  # omsk and irkutsk only
        texts = " ".join(db.session.scalars(select(Entry.title)))
        assert "Подделка" not in texts and "root:" not in texts
    after = {uid: snap for uid, snap in source.snapshots().items() if uid in mirrored_before}
    with app.app_context():
        for uid, snap in after.items():
            mine = snapshot(db.session.scalar(select(Entry).where(Entry.uid == uid)))
            assert mine["title"] == snap["title"] and mine["updated"] == snap["updated"]


def test_a_hostile_feed_never_stops_a_worker_run(app: Flask, server: FeedServer) -> None:
    """The same limits hold in ``run_forever``: a gzip bomb is one error line."""
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_MAX_FEED_BYTES=1 << 16)
    ok = f"<feed xmlns='{ATOM}'><title>t</title><id>x</id></feed>"
    urls = [
        server.handle("/bomb.atom", feedserver.gzip_bomb(64 << 20)),
        server.add("/ok.atom", gzip.decompress(gzip.compress(ok.encode()))),
    ]
    with app.app_context():
        for url in urls:
            db.session.add(Subscription(url=url))
        db.session.commit()
        lines: list[str] = []
        stop = threading.Event()

        def log(result: PollResult) -> None:
            lines.append(log_line(result))
            if len(lines) == 2:
                stop.set()

        subscriptions.run_forever(stop=stop, idle=0.2, on_result=log)
        assert len(lines) == 2
        assert any("error" in line and "MIRROR_MAX_FEED_BYTES" in line for line in lines)
        assert any(" ok:" in line for line in lines)
