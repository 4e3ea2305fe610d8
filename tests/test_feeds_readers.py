"""Our feeds as independent readers see them: feedparser, reader and newsboat over
real HTTP, and the validators' rules (atom:source, namespaces), on both databases.

Each test here failed before contract v2's fixes: JSON Feed deletions as blank
items, a tombstone's link taken as the feed's website, the JSON Feed alternate
taken as the website by newsboat, Last-Modified depending on the process.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
import reader
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree

from feeds.extension import AT_NS, FH_NS
from feeds.parse import parse_feed
from service.store.models import db
from tests.conftest import Api, practice_body
from tests.feedcheck import ATOM, add_mirrored_entry, age_log, get_ok

HOME = "http://test.example/"
NEWSBOAT = "/usr/bin/newsboat"


@pytest.fixture
def published(app: Flask, api: Api) -> dict[str, Any]:
    """Omsk with four published notes, one of them deleted, and a mirrored note."""
    api.city("omsk", "Омск")
    token = api.token("omsk")
    created = [
        api.post("/api/v1/practices", practice_body(title=f"Практика {n}"), token).json
        for n in range(4)
    ]
    assert api.delete(f"/api/v1/practices/{created[1]['local_id']}", token).status_code == 204
    with app.app_context():
        add_mirrored_entry("Дворы Барнаула")
    live = [c["id"] for c in created if c["id"] != created[1]["id"]]
    return {"live": live, "deleted": created[1]["id"], "token": token}


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    """The app on a real HTTP server on 127.0.0.1 (its links still name BASE_URL)."""
    from werkzeug.serving import make_server

    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(10)


@pytest.mark.parametrize("fmt", ["json", "atom"])
def test_reader_shows_live_entries_only_and_the_home_page(
    published: dict[str, Any], server: str, tmp_path: Path, fmt: str
) -> None:
    url = f"{server}/feeds/all.{fmt}"
    with reader.make_reader(str(tmp_path / "reader.sqlite3")) as feeds:
        feeds.add_feed(url)
        feeds.update_feeds()
        assert feeds.get_feed(url).last_exception is None
        entries = list(feeds.get_entries())
        assert sorted(e.id for e in entries) == sorted(published["live"])
        assert all(e.title and e.content and e.link for e in entries)  # no blank entries
        assert feeds.get_feed(url).link == HOME


def test_feedparser_takes_the_home_page_as_the_website(
    published: dict[str, Any], client: FlaskClient
) -> None:
    body = get_ok(client, "/feeds/all.atom")
    root = etree.fromstring(body)
    tombstones = root.findall(f"{{{AT_NS}}}deleted-entry")
    assert [t.get("ref") for t in tombstones] == [published["deleted"]]
    assert tombstones[0].find(f"{ATOM}link") is None
    parsed = feedparser.parse(body, response_headers={"content-type": "application/atom+xml"})
    assert parsed.bozo == 0
    assert parsed.feed.link == HOME
    assert sorted(e.id for e in parsed.entries) == sorted(published["live"])
    assert parse_feed(body, url=f"{HOME}feeds/all.atom").site_url == HOME


@pytest.mark.skipif(not os.path.exists(NEWSBOAT), reason="newsboat is not installed")
def test_newsboat_takes_the_home_page_as_the_website(
    published: dict[str, Any], server: str, tmp_path: Path
) -> None:
    """newsboat takes the last alternate link of an Atom feed as the site."""
    urls = [f"{server}/feeds/all.atom", f"{server}/cities/omsk/feed.atom"]
    (tmp_path / "urls").write_text("\n".join(urls) + "\n")
    (tmp_path / "config").write_text("")
    cache = tmp_path / "cache.db"
    done = subprocess.run(
        [
            NEWSBOAT,
            "-u",
            str(tmp_path / "urls"),
            "-c",
            str(cache),
            "-C",
            str(tmp_path / "config"),
            "-x",
            "reload",
        ],
        env={**os.environ, "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(cache) as con:
        sites = dict(con.execute("SELECT rssurl, url FROM rss_feed").fetchall())
        # newsboat keeps an item once (by guid), whichever feed brought it.
        items = [row[0] for row in con.execute("SELECT DISTINCT guid FROM rss_item")]
    assert sites == {urls[0]: HOME, urls[1]: f"{HOME}cities/omsk"}
    assert sorted(items) == sorted(published["live"])


def test_json_feed_deletions_are_feed_level(published: dict[str, Any], client: FlaskClient) -> None:
    doc = json.loads(get_ok(client, "/feeds/all.json"))
    assert sorted(item["id"] for item in doc["items"]) == sorted(published["live"])
    assert [d["id"] for d in doc["_asdg"]["deleted"]] == [published["deleted"]]
    parsed = parse_feed(json.dumps(doc).encode(), url=f"{HOME}feeds/all.json")
    assert [t.id for t in parsed.tombstones] == [published["deleted"]]
    assert parsed.tombstones[0].when.tzinfo is not None
    assert len(parsed.entries) == 3
    # Without deletions there is no list at all.
    assert "deleted" not in json.loads(get_ok(client, "/feeds/network.json?kind=event"))["_asdg"]


def test_atom_source_and_namespaces(published: dict[str, Any], client: FlaskClient) -> None:
    network = etree.fromstring(get_ok(client, "/feeds/network.atom"))
    sources = network.findall(f"{ATOM}entry/{ATOM}source")
    assert len(sources) == 1
    source = sources[0]
    for child in ("id", "title", "updated"):  # what the W3C validator asks of atom:source
        assert source.findtext(f"{ATOM}{child}"), child
    updated = source.findtext(f"{ATOM}updated")
    assert datetime.fromisoformat(updated) == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    # The tombstones and history namespaces only where they are used.
    assert network.nsmap.get("at") == AT_NS  # the deletion is in the network feed too
    assert "fh" not in network.nsmap
    quiet = etree.fromstring(get_ok(client, "/feeds/all.atom?kind=event"))
    assert "at" not in quiet.nsmap and "fh" not in quiet.nsmap
    assert AT_NS.encode() not in get_ok(client, "/feeds/all.atom?kind=event")


def test_alternate_links_end_with_the_html_page(
    published: dict[str, Any], client: FlaskClient
) -> None:
    root = etree.fromstring(get_ok(client, "/cities/omsk/feed.atom"))
    alternates = [
        (link.get("type"), link.get("href"))
        for link in root.iterchildren(f"{ATOM}link")
        if link.get("rel") == "alternate"
    ]
    assert alternates == [
        ("application/feed+json", f"{HOME}cities/omsk/feed.json"),
        ("text/html", f"{HOME}cities/omsk"),
    ]


# -- Last-Modified from the data -------------------------------------------------------


HEADS = ["/feeds/all.atom", "/feeds/all.json", "/cities/omsk/feed.atom", "/feeds/opml"]


def _validators(clients: list[FlaskClient], url: str) -> set[tuple[str, str]]:
    return {(c.get(url).headers["Last-Modified"], c.get(url).headers["ETag"]) for c in clients}


def _ims(client: FlaskClient, url: str, since: str) -> int:
    return client.get(url, headers={"If-Modified-Since": since}).status_code


def _wait_settled(seconds: float = 2.2) -> None:
    """Let the second of the last write pass (plus the commit margin)."""
    time.sleep(seconds)


def test_last_modified_is_the_same_in_every_process(
    app: Flask, client: FlaskClient, api: Api, second_app: Flask
) -> None:
    api.city("omsk", "Омск")
    api.city("tomsk", "Томск")
    token = api.token("omsk")
    api.post("/api/v1/practices", practice_body(title="Томская", city="tomsk"), api.token("tomsk"))
    api.post("/api/v1/practices", practice_body(title="Первая"), token)
    other = second_app.test_client()
    clients = [client, other]
    # Right after a write: a date that no revalidation matches yet (same in both).
    fresh = {url: _validators(clients, url) for url in HEADS}
    for url in HEADS[:3]:
        assert len(fresh[url]) == 1, url
        (modified, _), = fresh[url]  # fmt: skip
        assert {_ims(c, url, modified) for c in clients} == {200}
    _wait_settled()
    settled = {url: _validators(clients, url) for url in HEADS}
    for url in HEADS:
        assert len(settled[url]) == 1, (url, settled[url])
        (modified, _), = settled[url]  # fmt: skip
        assert {_ims(c, url, modified) for c in clients} == {304}, url
        # Only that very date: a client's own clock or an older date get the document.
        assert _ims(client, url, "Sat, 01 Jan 2000 00:00:00 GMT") == 200
    # A write: every head that changed answers 200 to the old date, in both processes.
    api.post("/api/v1/practices", practice_body(title="Вторая"), token)
    for url in HEADS[:3]:
        (modified, _), = settled[url]  # fmt: skip
        assert {_ims(c, url, modified) for c in clients} == {200}, url
    # A feed the write did not touch keeps its date (and still gets 304).
    quiet = "/cities/tomsk/feed.atom"
    (modified, _), = _validators(clients, quiet)  # fmt: skip
    assert {_ims(c, quiet, modified) for c in clients} == {304}


def test_if_modified_since_never_hides_a_change_within_a_second(
    app: Flask, client: FlaskClient, api: Api, second_app: Flask
) -> None:
    """Two writes in one second: a client that saw the first must get the second."""
    api.city("omsk", "Омск")
    token = api.token("omsk")
    other = second_app.test_client()
    for n in range(3):
        api.post("/api/v1/practices", practice_body(title=f"Запись {n}"), token)
        seen = client.get("/feeds/all.json")
        api.post("/api/v1/practices", practice_body(title=f"Правка {n}"), token)
        again = other.get(
            "/feeds/all.json", headers={"If-Modified-Since": seen.headers["Last-Modified"]}
        )
        assert again.status_code == 200
        assert json.loads(again.data)["items"][0]["title"] == f"Правка {n}"


def test_mirrored_rows_with_old_dates_still_change_last_modified(
    app: Flask, client: FlaskClient
) -> None:
    """A mirrored entry updated in 2021 arrives now: the network feed's date moves on."""
    with app.app_context():
        add_mirrored_entry("Первый")
        age_log()
    before = client.get("/feeds/network.atom")
    since = before.headers["Last-Modified"]
    assert (
        client.get("/feeds/network.atom", headers={"If-Modified-Since": since}).status_code == 304
    )
    with app.app_context():
        add_mirrored_entry("Второй")  # dated 2021-03-04, like the first
    assert (
        client.get("/feeds/network.atom", headers={"If-Modified-Since": since}).status_code == 200
    )


def test_archive_pages_are_dated_by_the_data(
    app: Flask, client: FlaskClient, second_app: Flask
) -> None:
    from tests.feedcheck import generate_entries

    app.config["FEED_PAGE_SIZE"] = second_app.config["FEED_PAGE_SIZE"] = 3
    with app.app_context():
        generate_entries(10)
        age_log()
    other = second_app.test_client()
    for page in (1, 2, 3):
        url = f"/feeds/all.atom?page={page}"
        assert len(_validators([client, other], url)) == 1
        answer = client.get(url)
        assert etree.fromstring(answer.data).nsmap.get("fh") == FH_NS
        assert _ims(other, url, answer.headers["Last-Modified"]) == 304
    # The newest page (3) gains its next-archive when page 4 fills: a new date and ETag.
    newest = client.get("/feeds/all.atom?page=3")
    with app.app_context():
        generate_entries(2, seed=11)
    changed = other.get("/feeds/all.atom?page=3", headers={"If-None-Match": newest.headers["ETag"]})
    assert changed.status_code == 200 and b"next-archive" in changed.data
    assert _ims(client, "/feeds/all.atom?page=3", newest.headers["Last-Modified"]) == 200


def test_opml_has_validators_and_gzip(published: dict[str, Any], client: FlaskClient) -> None:
    with client.application.app_context():
        age_log()
        from service.store.models import City

        for city in db.session.scalars(db.select(City)):
            city.created = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
        db.session.commit()
    plain = client.get("/feeds/opml")
    assert plain.headers["Last-Modified"] == "Mon, 06 May 2024 07:08:09 GMT"
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get("/feeds/opml", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    import gzip

    assert gzip.decompress(zipped.data) == plain.data
    since = {"If-Modified-Since": plain.headers["Last-Modified"]}
    assert client.get("/feeds/opml", headers=since).status_code == 304
    assert (
        client.get("/feeds/opml", headers={"If-None-Match": plain.headers["ETag"]}).status_code
        == 304
    )
