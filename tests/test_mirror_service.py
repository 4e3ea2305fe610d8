"""Mirroring through the service functions: a real source instance over HTTP,
the mirror on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from service.errors import ConflictError, ValidationError
from service.mirror import subscriptions
from service.mirror.claims import claim, worker_name
from service.store.models import City, Entry, EntryChange, Subscription, db, utcnow
from tests import feedserver
from tests.conftest import event_body, practice_body
from tests.feedserver import FeedServer, Instance, sqlite_instance

#: Fields that differ on purpose between an entry and its mirrored copy.
PROVENANCE = {"origin", "source", "signature", "key_id"}


@pytest.fixture
def source(tmp_path: Path, sqlite_template: Path) -> Iterator[Instance]:
    instance = sqlite_instance(tmp_path, sqlite_template, FEED_PAGE_SIZE=5)
    yield instance
    instance.close()


@pytest.fixture
def mirror(app: Flask) -> Flask:
    app.config.update(
        MIRROR_ALLOW_PRIVATE_ADDRESSES=True,
        MIRROR_TIMEOUT=5.0,
        MIRROR_INTERVAL=1,
        MIRROR_MIN_INTERVAL=1,
    )
    return app


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


def publish(
    source: Instance, token: str, n: int, kind: str = "practices", **over: Any
) -> list[str]:
    body = practice_body if kind == "practices" else event_body
    return [
        source.api("POST", f"/api/v1/{kind}", token, body(title=f"Запись {i}", **over))["id"]
        for i in range(n)
    ]


def fields(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snapshot.items() if k not in PROVENANCE}


def mirrored(app: Flask) -> dict[str, dict[str, Any]]:
    from service.entries.changelog import snapshot

    with app.app_context():
        query = select(Entry).where(Entry.origin == "mirror")
        return {e.uid: snapshot(e) for e in db.session.scalars(query).unique()}


def subscribe_and_poll(app: Flask, url: str) -> tuple[int, Any]:
    with app.app_context():
        sub = subscriptions.add_subscription(url)
        return sub.id, subscriptions.poll_subscription(sub.id)


def sub_state(app: Flask, sub_id: int) -> Subscription:
    with app.app_context():
        sub = db.session.get(Subscription, sub_id)
        assert sub is not None
        db.session.expunge(sub)
        return sub


def test_subscribe_by_page_mirrors_every_field(source: Instance, mirror: Flask) -> None:
    token = source.add_city("irkutsk", "Иркутск", "Иркутская область")
    publish(
        source,
        token,
        3,
        contact={
            "name": "Иванова И. И.",
            "email": "i@irk.example",
            "position": "начальник",
            "phone": "+7 3952 000000",
        },
    )
    publish(source, token, 2, "events", participants=40)
    sub_id, result = subscribe_and_poll(mirror, source.url("/"))
    sub = sub_state(mirror, sub_id)
    assert sub.url == source.url("/feeds/all.atom")  # found on the page
    assert (result.status, result.new, result.refused) == ("ok", 5, 0)
    assert sub.entries_mirrored == 5 and sub.backfilled and sub.last_error is None
    assert sub.etag and sub.next_poll > utcnow() and sub.lease_owner is None
    expected = source.snapshots()
    got = mirrored(mirror)
    assert got.keys() == expected.keys()
    for uid, snap in got.items():
        assert fields(snap) == fields(expected[uid])
        assert snap["origin"] == "mirror" and snap["source"]["url"] == sub.url
    with mirror.app_context():
        city = db.session.scalar(select(City).where(City.slug == "irkutsk"))
        assert city is not None and not city.local and city.instance_url == source.base_url
        assert (city.region, city.latitude) == ("Иркутская область", 52.28)
        with pytest.raises(ConflictError):
            subscriptions.add_subscription(source.url("/"))
        with pytest.raises(ConflictError):
            subscriptions.add_subscription(source.url("/feeds/all.atom"))


def test_edits_and_deletions_propagate_and_unchanged_feed_is_304(
    source: Instance, mirror: Flask
) -> None:
    token = source.add_city("irkutsk", "Иркутск")
    keep, edit, drop = publish(source, token, 3)
    sub_id, _ = subscribe_and_poll(mirror, source.url("/feeds/all.atom"))
    with mirror.app_context():
        again = subscriptions.poll_subscription(sub_id)
        changes = db.session.scalar(select(func.count(EntryChange.seq)))
    assert again.status == "not-modified" and again.new == 0

    source.api("PATCH", f"/api/v1/practices/{edit}", token, {"title": "Исправлено", "year": 2021})
    source.api("DELETE", f"/api/v1/practices/{drop}", token)
    with mirror.app_context():
        result = subscriptions.poll_subscription(sub_id)
        assert (result.new, result.updated, result.deleted) == (0, 1, 1)
        assert db.session.scalar(select(func.count(EntryChange.seq))) == changes + 2
        tombstone = db.session.scalar(select(EntryChange).where(EntryChange.deleted.is_(True)))
        assert tombstone is not None and tombstone.entry_uid == drop
    got = mirrored(mirror)
    assert set(got) == {keep, edit}
    assert got[edit]["title"] == "Исправлено" and got[edit]["year"] == 2021
    assert fields(got[edit]) == fields(source.snapshots()[edit])
    assert sub_state(mirror, sub_id).entries_mirrored == 2


def test_history_is_backfilled_and_gaps_between_polls_are_walked(
    source: Instance, mirror: Flask
) -> None:
    token = source.add_city("irkutsk", "Иркутск")
    publish(source, token, 23)  # page size 5: four archive pages
    sub_id, first = subscribe_and_poll(mirror, source.url("/feeds/all.atom"))
    assert first.new == 23 and first.pages == 4
    publish(source, token, 12)  # more than two pages between polls
    with mirror.app_context():
        second = subscriptions.poll_subscription(sub_id)
    assert second.new == 12 and 2 <= second.pages < 4  # stops at a page it knew
    got = mirrored(mirror)
    assert set(got) == set(source.snapshots()) and len(got) == 35
    with mirror.app_context():
        third = subscriptions.poll_subscription(sub_id)
    assert third.status == "not-modified"


def test_mirrored_entries_show_in_api_search_and_network_feed(
    source: Instance, mirror: Flask
) -> None:
    token = source.add_city("irkutsk", "Иркутск")
    [uid] = publish(source, token, 1, summary="Проведение праздничных мероприятий")
    subscribe_and_poll(mirror, source.url("/feeds/all.json"))  # JSON Feed too
    client = mirror.test_client()
    listed = client.get("/api/v1/practices", query_string={"origin": "mirror"}).json
    assert [e["id"] for e in listed["items"]] == [uid]
    assert listed["items"][0]["source"]["url"] == source.url("/feeds/all.json")
    found = client.get("/api/v1/search", query_string={"q": "мероприятие"}).json
    assert [hit["entry"]["id"] for hit in found["items"]] == [uid]
    network = client.get("/feeds/network.atom").data.decode()
    assert uid in network and "<source>" in network
    assert uid not in client.get("/feeds/all.atom").data.decode()


def test_ordinary_rss_feed_becomes_generic_notes(server: FeedServer, mirror: Flask) -> None:
    rss = """<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>
      <title>Новости района</title><link>http://127.0.0.1/</link><description>d</description>
      <item><title>Субботник</title><link>http://127.0.0.1/n/1</link><guid>n-1</guid>
      <pubDate>Tue, 14 May 2024 10:00:00 GMT</pubDate><category>город</category>
      <description>&lt;p&gt;Прошёл &lt;b&gt;субботник&lt;/b&gt;
      &lt;script&gt;x()&lt;/script&gt;&lt;/p&gt;</description>
      </item></channel></rss>"""
    _, result = subscribe_and_poll(
        mirror, server.add("/news.rss", rss, content_type="application/rss+xml")
    )
    assert result.new == 1
    [snap] = mirrored(mirror).values()
    assert snap["title"] == "Субботник" and snap["generic"] is True
    assert snap["year"] == 2024 and snap["tags"] == ["город"] and snap["area"] is None
    assert "<b>субботник</b>" in snap["content_html"] and "script" not in snap["content_html"]
    assert snap["city"]["slug"] == "127-0-0-1" or snap["city"]["slug"].startswith("site-")
    assert snap["city"]["name"] == "Новости района"


def test_gone_feed_stops_and_failures_back_off(server: FeedServer, mirror: Flask) -> None:
    good = "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>"
    url = server.add("/flaky.atom", good)
    with mirror.app_context():
        sub = subscriptions.add_subscription(url)
        server.add("/flaky.atom", b"", status=500, content_type="text/plain")
        delays = []
        for failures in (1, 2, 3):
            result = subscriptions.poll_subscription(sub.id)
            state = db.session.get(Subscription, sub.id)
            assert result.status == "error" and state.state == "error"
            assert state.failures == failures and "500" in state.last_error
            delays.append((state.next_poll - utcnow()).total_seconds())
        assert delays[2] > delays[0] > 0
        server.add("/flaky.atom", good)
        assert subscriptions.poll_subscription(sub.id).status == "ok"
        state = db.session.get(Subscription, sub.id)
        assert (state.state, state.failures, state.last_error) == ("active", 0, None)

        server.add("/flaky.atom", b"", status=410, content_type="text/plain")
        assert subscriptions.poll_subscription(sub.id).status == "gone"
        state = db.session.get(Subscription, sub.id)
        assert state.state == "gone" and "410" in state.last_error
        state.next_poll = utcnow() - timedelta(hours=1)
        db.session.commit()
        hits = server.hits["/flaky.atom"]
        assert subscriptions.poll_due().feeds == 0  # a gone feed is not polled on schedule
        assert server.hits["/flaky.atom"] == hits


def test_permanent_redirect_updates_the_stored_url(server: FeedServer, mirror: Flask) -> None:
    doc = "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>"
    new = server.add("/new.atom", doc)
    with mirror.app_context():
        sub = subscriptions.add_subscription(server.add("/old.atom", doc))
        server.handle("/old.atom", feedserver.redirect("/new.atom", 301))
        assert subscriptions.poll_subscription(sub.id).status == "ok"
        assert db.session.get(Subscription, sub.id).url == new


def test_not_modified_after_a_permanent_redirect_keeps_the_new_url(
    server: FeedServer, mirror: Flask
) -> None:
    doc = "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>"
    with mirror.app_context():
        sub = subscriptions.add_subscription(server.add("/before.atom", doc))
        assert subscriptions.poll_subscription(sub.id).status == "ok"
        new = server.add("/after.atom", doc)  # the same document: its ETag answers 304
        server.handle("/before.atom", feedserver.redirect("/after.atom", 301))
        result = subscriptions.poll_subscription(sub.id)
        assert (result.status, result.error) == ("not-modified", None)
        state = db.session.get(Subscription, sub.id)
        assert (state.url, state.state, state.failures) == (new, "active", 0)


def test_a_crash_mid_batch_keeps_the_previous_state(source: Instance, mirror: Flask) -> None:
    token = source.add_city("irkutsk", "Иркутск")
    publish(source, token, 3)
    sub_id, _ = subscribe_and_poll(mirror, source.url("/feeds/all.atom"))
    before = mirrored(mirror)
    etag = sub_state(mirror, sub_id).etag
    publish(source, token, 4)

    def crash_writing_the_log(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # The new entries are written by then; the change log is next.
        if statement.startswith("INSERT INTO entry_changes"):
            raise RuntimeError("the machine lost power")

    with mirror.app_context():
        db.session.get(Subscription, sub_id).next_poll = utcnow()
        db.session.commit()
        event.listen(db.engine, "before_cursor_execute", crash_writing_the_log)
        try:
            summary = subscriptions.poll_due()
        finally:
            event.remove(db.engine, "before_cursor_execute", crash_writing_the_log)
    assert summary.errors == 1 and "power" in (summary.results[0].error or "")
    assert mirrored(mirror) == before  # nothing of the half-written batch
    state = sub_state(mirror, sub_id)
    assert state.etag == etag and state.lease_owner is None and state.failures == 1
    with mirror.app_context():
        assert subscriptions.poll_subscription(sub_id).new == 4
    assert set(mirrored(mirror)) == set(source.snapshots())


def test_one_feed_is_never_polled_twice_at_once(source: Instance, mirror: Flask) -> None:
    source.add_city("irkutsk", "Иркутск")
    with mirror.app_context():
        sub = subscriptions.add_subscription(source.url("/feeds/all.atom"))
        other = worker_name()
        assert claim(sub.id, other, timedelta(minutes=5))
        with pytest.raises(ConflictError):
            subscriptions.poll_subscription(sub.id)
        assert subscriptions.poll_due().feeds == 0  # due, but leased to the other worker


def test_removing_keeps_entries_unless_purged(source: Instance, mirror: Flask) -> None:
    token = source.add_city("irkutsk", "Иркутск")
    publish(source, token, 2)
    kept_id, _ = subscribe_and_poll(mirror, source.url("/feeds/all.atom"))
    with mirror.app_context():
        subscriptions.remove_subscription(kept_id)
        assert subscriptions.list_subscriptions() == []
    assert len(mirrored(mirror)) == 2
    purged_id, result = subscribe_and_poll(mirror, source.url("/feeds/all.json"))
    assert result.skipped == 2 and result.new == 0  # the same entries, stored once
    with mirror.app_context():
        # The entries still belong to nobody: the JSON subscription did not rewrite them.
        subscriptions.remove_subscription(purged_id, purge=True)
        assert (
            db.session.scalar(
                select(func.count(EntryChange.seq)).where(EntryChange.deleted.is_(True))
            )
            == 0
        )
    assert len(mirrored(mirror)) == 2


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.org/feed", "http"),
        ("not a url", "http"),
        ("http://127.0.0.1:1/nothing-listens", "недоступна"),
    ],
)
def test_bad_subscription_urls(mirror: Flask, url: str, message: str) -> None:
    with mirror.app_context(), pytest.raises(ValidationError, match=message) as info:
        subscriptions.add_subscription(url)
    assert info.value.field == "url"


def test_page_without_feed_link_is_refused(server: FeedServer, mirror: Flask) -> None:
    page = server.add(
        "/page.html", "<!doctype html><html><head></head></html>", content_type="text/html"
    )
    with mirror.app_context(), pytest.raises(ValidationError, match="нет ссылки"):
        subscriptions.add_subscription(page)


def test_private_addresses_are_refused_when_not_allowed(source: Instance, app: Flask) -> None:
    with app.app_context():
        with pytest.raises(ValidationError, match="не публичный"):
            subscriptions.add_subscription(source.url("/feeds/all.atom"))
        sub = Subscription(url=source.url("/feeds/all.atom"))
        db.session.add(sub)
        db.session.commit()
        result = subscriptions.poll_subscription(sub.id)
        assert result.status == "error" and "не публичный" in (result.error or "")
