"""Feeds over HTTP: validators and 304, gzip, the document cache (never stale,
also with several processes) and bad input (4xx JSON, never 500)."""

from __future__ import annotations

import gc
import gzip
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service import create_app
from service.http import feeds as feedviews
from service.store.models import db
from tests.conftest import Api, base_config, practice_body
from tests.feedcheck import age_log, generate_entries, get_ok

FEEDS = [
    "/feeds/all.atom",
    "/feeds/all.json",
    "/feeds/network.atom",
    "/cities/omsk/feed.json",
    "/feeds/all.atom?kind=practice&topic=culture",
    "/feeds/all.json?page=1",
    "/cities/omsk/feed.atom?page=1",
]


@pytest.fixture
def data(app: Flask) -> Flask:
    app.config["FEED_PAGE_SIZE"] = 4
    with app.app_context():
        generate_entries(15)
        age_log()
    return app


@pytest.mark.parametrize("url", FEEDS)
def test_validators_and_conditional_requests(data: Flask, client: FlaskClient, url: str) -> None:
    first = client.get(url)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "Accept-Encoding" in first.headers["Vary"]
    assert first.headers["Cache-Control"].startswith("public")
    for headers in (
        {"If-None-Match": etag},
        {"If-None-Match": f"W/{etag}"},
        {"If-None-Match": f'"other", {etag}'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": modified},
    ):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 304, headers
        assert answer.data == b""
        assert answer.headers["ETag"] == etag
        assert answer.headers["Cache-Control"] == first.headers["Cache-Control"]
    for headers in (
        {"If-None-Match": '"other"'},
        {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"},
        {"If-None-Match": '"other"', "If-Modified-Since": modified},
    ):
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, headers
        assert answer.data == first.data
    head = client.head(url)
    assert head.status_code == 200 and head.headers["ETag"] == etag and head.data == b""


@pytest.mark.parametrize("url", ["/feeds/all.atom", "/feeds/all.json?page=2"])
def test_gzip_when_the_client_accepts_it(data: Flask, client: FlaskClient, url: str) -> None:
    plain = client.get(url)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.status_code == 200
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data) == plain.data
    assert len(zipped.data) < len(plain.data) / 2
    assert zipped.headers["ETag"] == plain.headers["ETag"][:-1] + '-gz"'
    again = client.get(
        url, headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]}
    )
    assert again.status_code == 304 and again.headers["ETag"] == zipped.headers["ETag"]
    for header in ("gzip;q=0", "br", "identity"):
        other = client.get(url, headers={"Accept-Encoding": header})
        assert "Content-Encoding" not in other.headers and other.data == plain.data, header
    assert client.get(url, headers={"Accept-Encoding": "*"}).headers["Content-Encoding"] == "gzip"


def test_archive_pages_are_immutable_and_heads_revalidate(data: Flask, client: FlaskClient) -> None:
    archive = client.get("/feeds/all.atom?page=1")
    assert archive.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    head = client.get("/feeds/all.atom")
    assert head.headers["Cache-Control"] == "public, no-cache"


def titles(body: bytes) -> list[str]:
    return [item.get("title") for item in json.loads(body)["items"]]


def test_no_stale_feed_after_a_write(
    app: Flask, client: FlaskClient, api: Api, second_app: Flask
) -> None:
    api.city("omsk", "Омск")
    token = api.token("omsk")
    other = second_app.test_client()
    created = api.post("/api/v1/practices", practice_body(title="Первая"), token).json
    urls = ["/feeds/all.json", "/cities/omsk/feed.json", "/feeds/all.json?kind=practice"]
    before = {url: client.get(url) for url in urls}
    for url in urls:  # both processes have the documents cached now
        assert titles(other.get(url).data) == ["Первая"]
    api.post("/api/v1/practices", practice_body(title="Вторая"), token)
    for url in urls:
        for c in (client, other):
            fresh = c.get(url, headers={"If-None-Match": before[url].headers["ETag"]})
            assert fresh.status_code == 200, url
            assert titles(fresh.data) == ["Вторая", "Первая"], url
    api.patch(f"/api/v1/practices/{created['local_id']}", {"title": "Первая, правка"}, token)
    assert titles(other.get("/feeds/all.json").data) == ["Первая, правка", "Вторая"]
    api.delete(f"/api/v1/practices/{created['local_id']}", token)
    doc = json.loads(other.get("/feeds/all.json").data)
    assert [d["id"] for d in doc["_asdg"]["deleted"]] == [created["id"]]
    assert [item["title"] for item in doc["items"]] == ["Вторая"]
    # A write that does not touch a filtered feed still gives a correct document.
    api.post(
        "/api/v1/events",
        {
            "title": "Событие",
            "starts_on": "2021-01-01",
            "ends_on": "2021-01-01",
            "format": "online",
            "level": "municipal",
            "summary": "",
            "results": "",
            "topics": [],
            "status": "published",
        },
        token,
    )
    practices = json.loads(other.get("/feeds/all.json?kind=practice").data)
    assert [item["title"] for item in practices["items"]] == ["Вторая"]
    assert [d["id"] for d in practices["_asdg"]["deleted"]] == [created["id"]]


def test_warm_requests_are_not_rendered_again(
    data: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Any] = []
    real = feedviews.render

    def counting(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(feedviews, "render", counting)
    bodies = [client.get("/feeds/all.atom").data for _ in range(5)]
    bodies += [client.get("/feeds/all.atom?page=1").data for _ in range(3)]
    assert len(calls) == 2
    assert len(set(bodies[:5])) == 1
    # Another spelling of the same filters is the same document.
    client.get("/feeds/all.atom?topic=culture&kind=event")
    client.get("/feeds/all.atom?kind=event&topic=culture")
    assert len(calls) == 3
    with data.app_context():
        generate_entries(1, seed=9)
    client.get("/feeds/all.atom")
    client.get("/feeds/all.atom?page=1")  # archives never change: still cached
    assert len(calls) == 4


def test_cache_is_bounded(database_url: str, tmp_path: Path) -> None:
    app = create_app({**base_config(database_url, tmp_path), "FEED_CACHE_BYTES": 1})
    with app.app_context():
        generate_entries(3)
    client = app.test_client()
    first = client.get("/feeds/all.atom").data
    client.get("/feeds/all.json")
    client.get("/feeds/network.atom")
    assert client.get("/feeds/all.atom").data == first
    assert len(feedviews.document_cache(app)._docs) == 1
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


LONG = "x" * 5000
BAD_REQUESTS = [
    ("/cities/nowhere/feed.atom", 404, "slug"),
    ("/cities/nowhere/feed.json", 404, "slug"),
    ("/cities/%00/feed.atom", 404, "slug"),
    ("/cities/" + LONG + "/feed.atom", 404, "slug"),
    ("/feeds/all.atom?kind=news", 400, "kind"),
    ("/feeds/all.json?kind=", 400, "kind"),
    ("/feeds/all.atom?kind", 400, "kind"),
    ("/feeds/all.atom?kind=event&kind=event", 400, "kind"),
    ("/feeds/all.atom?topic=nope", 400, "topic"),
    ("/feeds/all.atom?topic=%27%22%3Cscript%3E", 400, "topic"),
    ("/cities/omsk/feed.json?topic=" + LONG, 400, "topic"),
    ("/feeds/all.atom?page=0", 400, "page"),
    ("/feeds/all.atom?page=-1", 400, "page"),
    ("/feeds/all.atom?page=1.5", 400, "page"),
    ("/feeds/all.atom?page=abc", 400, "page"),
    ("/feeds/all.atom?page=%D9%A3", 400, "page"),
    ("/feeds/all.atom?page=" + "9" * 40, 400, "page"),
    ("/feeds/all.atom?page=99", 404, "page"),
    ("/feeds/all.atom?page=999999999999999999", 404, "page"),
    ("/feeds/network.json?page=4", 404, "page"),
    ("/feeds/all.atom?kind=%FF", 400, "kind"),
    ("/feeds/everything.atom", 404, None),
    ("/feeds/all.rss", 404, None),
]


@pytest.mark.parametrize(("url", "status", "field"), BAD_REQUESTS)
def test_bad_input_gives_a_clear_4xx(
    data: Flask, client: FlaskClient, url: str, status: int, field: str | None
) -> None:
    response = client.get(url)
    assert response.status_code == status, response.data[:300]
    assert response.is_json
    body = response.json
    assert body["code"] == status and body["message"]
    if field:
        assert field in body["errors"]["json"]
        assert any("а" <= ch <= "я" for ch in body["message"].lower())  # Russian


def test_harmless_query_strings_are_accepted(data: Flask, client: FlaskClient) -> None:
    plain = get_ok(client, "/feeds/all.atom")
    for url in ("/feeds/all.atom?", "/feeds/all.atom?&&", "/feeds/all.atom?utm_source=x",
                "/feeds/all.atom?=", "/feeds/all.atom?%FF%FE=1"):  # fmt: skip
        assert client.get(url).data == plain


def test_concurrent_requests_from_several_threads(data: Flask) -> None:
    """Threads share the document cache; each has its own version connection."""
    expected = data.test_client().get("/feeds/all.atom").data
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def fetch() -> None:
        client = data.test_client()
        for url in ("/feeds/all.atom", "/cities/tomsk/feed.json", "/feeds/all.atom?page=2"):
            response = client.get(url)
            with lock:
                body = response.data if url == "/feeds/all.atom" else b""
                results.append((response.status_code, body))

    threads = [threading.Thread(target=fetch) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 12 and all(status == 200 for status, _ in results)
    assert all(body == expected for _, body in results if body)
    gc.collect()  # the threads' connections are closed, not left to warn


def test_feeds_do_not_vary_by_cookie(data: Flask, client: FlaskClient) -> None:
    response = client.get("/feeds/all.atom")
    assert response.status_code == 200
    assert "Cookie" not in response.headers.get("Vary", "")
    assert "Set-Cookie" not in response.headers
