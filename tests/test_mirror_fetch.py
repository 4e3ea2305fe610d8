"""feeds.fetch and feeds.discover against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator

import pytest

from feeds.discover import feed_links, looks_like_html, read_opml
from feeds.errors import (
    BlockedAddressError,
    DiscoveryError,
    FeedGoneError,
    FetchTimeoutError,
    HTTPStatusError,
    RedirectError,
    TooLargeError,
)
from feeds.fetch import Fetched, Fetcher, FetchOptions, NotModified, is_public_address
from tests import feedserver
from tests.feedserver import FeedServer

FEED = b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>t</title></feed>"
LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


@pytest.fixture(scope="module")
def fetcher() -> Iterator[Fetcher]:
    options = FetchOptions(
        timeout=2.0,
        max_bytes=LIMIT,
        max_redirects=3,
        allow_private=True,
        user_agent="asdg-exchange/test",
    )
    with Fetcher(options) as f:
        yield f


def test_fetch_then_conditional_get_gives_not_modified(
    server: FeedServer, fetcher: Fetcher
) -> None:
    url = server.add("/plain.atom", FEED, headers={"Cache-Control": "max-age=600"})
    first = fetcher.fetch(url)
    assert isinstance(first, Fetched)
    assert first.body == FEED and first.etag and first.cache_control == "max-age=600"
    assert first.content_type and first.content_type.startswith("application/atom+xml")
    assert server.headers["/plain.atom"]["User-Agent"] == "asdg-exchange/test"
    again = fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert isinstance(again, NotModified) and again.etag == first.etag
    assert server.headers["/plain.atom"]["If-None-Match"] == first.etag


def test_gzip_is_asked_for_and_decoded(server: FeedServer, fetcher: Fetcher) -> None:
    body = FEED + b"<!--" + b"x" * 50_000 + b"-->"
    url = server.add("/big.atom", body)
    result = fetcher.fetch(url)
    assert isinstance(result, Fetched) and result.body == body
    assert "gzip" in server.headers["/big.atom"]["Accept-Encoding"]


def test_declared_length_over_the_limit_is_refused_unread(
    server: FeedServer, fetcher: Fetcher
) -> None:
    url = server.add("/huge.atom", b"x" * (LIMIT + 1), content_type="text/plain")
    with pytest.raises(TooLargeError, match="MIRROR_MAX_FEED_BYTES"):
        fetcher.fetch(url)


def test_endless_body_is_cut_at_the_limit_quickly(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.handle("/endless.atom", feedserver.endless())
    started = time.monotonic()
    with pytest.raises(TooLargeError):
        fetcher.fetch(url)
    assert time.monotonic() - started < 1.5


def test_gzip_bomb_is_cut_at_the_limit(server: FeedServer, fetcher: Fetcher) -> None:
    url = server.handle("/bomb.atom", feedserver.gzip_bomb(64 << 20))
    with pytest.raises(TooLargeError):
        fetcher.fetch(url)


def test_corrupt_gzip_is_an_error(server: FeedServer, fetcher: Fetcher) -> None:
    def bad(h):  # type: ignore[no-untyped-def]
        feedserver.send(
            h,
            200,
            gzip.compress(FEED)[:-12] + b"garbage!!!!!",
            "application/atom+xml",
            {"Content-Encoding": "gzip"},
        )

    url = server.handle("/corrupt.atom", bad)
    with pytest.raises(Exception, match="сжатые") as info:
        fetcher.fetch(url)
    assert info.type.__module__ == "feeds.errors"


@pytest.mark.parametrize("behaviour", [feedserver.drip(0.1), feedserver.silent(10)])
def test_slow_responses_are_cut_by_the_whole_fetch_timeout(
    server: FeedServer, fetcher: Fetcher, behaviour: feedserver.Handler
) -> None:
    url = server.handle(f"/slow-{id(behaviour)}.atom", behaviour)
    started = time.monotonic()
    with pytest.raises(FetchTimeoutError, match="MIRROR_TIMEOUT"):
        fetcher.fetch(url)
    assert 1.5 < time.monotonic() - started < 3.5


def test_permanent_redirects_name_the_new_url(server: FeedServer, fetcher: Fetcher) -> None:
    target = server.add("/moved-here.atom", FEED)
    server.handle("/hop2", feedserver.redirect("/moved-here.atom", 308))
    url = server.handle("/hop1", feedserver.redirect(server.url("/hop2"), 301))
    result = fetcher.fetch(url)
    assert isinstance(result, Fetched)
    assert result.url == target and result.permanent_url == target


def test_temporary_redirect_keeps_the_old_url(server: FeedServer, fetcher: Fetcher) -> None:
    target = server.add("/temp-target.atom", FEED)
    server.handle("/temp2", feedserver.redirect("/temp-target.atom", 302))
    url = server.handle("/temp1", feedserver.redirect("/temp2", 301))
    result = fetcher.fetch(url)
    assert isinstance(result, Fetched) and result.url == target and result.permanent_url is None


@pytest.mark.parametrize(
    ("routes", "start", "message"),
    [
        ({"/loop-a": "/loop-b", "/loop-b": "/loop-a"}, "/loop-a", "по кругу"),
        ({"/self": "/self"}, "/self", "по кругу"),
        ({f"/chain{i}": f"/chain{i + 1}" for i in range(6)}, "/chain0", "MIRROR_MAX_REDIRECTS"),
        ({"/to-file": "file:///etc/passwd"}, "/to-file", "не http"),
    ],
)
def test_bad_redirects_are_refused(
    server: FeedServer, fetcher: Fetcher, routes: dict[str, str], start: str, message: str
) -> None:
    for path, location in routes.items():
        server.handle(path, feedserver.redirect(location))
    with pytest.raises(RedirectError, match=message):
        fetcher.fetch(server.url(start))


def test_gone_and_error_statuses(server: FeedServer, fetcher: Fetcher) -> None:
    gone = server.add("/gone.atom", b"", status=410, content_type="text/plain")
    with pytest.raises(FeedGoneError, match="410"):
        fetcher.fetch(gone)
    busy = server.add(
        "/busy.atom", b"", status=503, content_type="text/plain", headers={"Retry-After": "120"}
    )
    with pytest.raises(HTTPStatusError) as info:
        fetcher.fetch(busy)
    assert info.value.status == 503 and info.value.retry_after == 120


def test_private_addresses_are_refused_by_default(server: FeedServer) -> None:
    url = server.add("/private.atom", FEED)
    with Fetcher(FetchOptions(timeout=2.0)) as strict:
        for candidate in (url, url.replace("127.0.0.1", "localhost")):
            with pytest.raises(BlockedAddressError, match="не публичный"):
                strict.fetch(candidate)
    assert server.hits["/private.atom"] == 0  # refused before connecting


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2a00:1450:4001:80b::200e", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("2002:7f00:1::", False),
        ("not-an-ip", False),
    ],
)
def test_public_address_rules(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_autodiscovery_prefers_atom_and_resolves_links() -> None:
    page = b"""<!DOCTYPE html><html><head>
      <link rel="stylesheet" href="/s.css">
      <link rel="alternate" type="application/rss+xml" href="/rss.xml">
      <link rel="alternate" type="application/feed+json" href="feed.json">
      <link rel="Alternate" type="application/atom+xml; charset=utf-8" href="/feed.atom#x">
      <link rel="alternate" type="application/atom+xml" href="javascript:alert(1)">
    </head><body></body></html>"""
    assert looks_like_html(page, None) and looks_like_html(b"<p>", "text/html; charset=utf-8")
    assert not looks_like_html(FEED, "application/atom+xml")
    assert feed_links(page, "http://site.example/cities/omsk/") == [
        "http://site.example/feed.atom",
        "http://site.example/cities/omsk/feed.json",
        "http://site.example/rss.xml",
    ]
    assert feed_links(b"<html><head></head></html>", "http://x.example/") == []


def test_opml_lists_feeds_once_in_order() -> None:
    opml = """<?xml version="1.0" encoding="utf-8"?><opml version="2.0"><head><title>Ленты</title>
      </head><body><outline text="Группа"><outline text="Омск" type="rss"
      xmlUrl="http://omsk.example/feeds/all.atom" htmlUrl="http://omsk.example/"/></outline>
      <outline text="Томск" xmlUrl="https://tomsk.example/feeds/all.json"/>
      <outline text="Омск снова" xmlUrl="http://omsk.example/feeds/all.atom"/></body></opml>"""
    outlines = read_opml(opml.encode())
    assert [(o.text, o.xml_url) for o in outlines] == [
        ("Омск", "http://omsk.example/feeds/all.atom"),
        ("Томск", "https://tomsk.example/feeds/all.json"),
    ]


@pytest.mark.parametrize(
    "document",
    [
        b"<opml><body><outline xmlUrl='file:///etc/passwd'/></body></opml>",
        b"<?xml version='1.0'?><!DOCTYPE opml [<!ENTITY a 'aaaa'>]><opml><body/></opml>",
        b"<rss><channel/></rss>",
        b"<opml><body><outline",
        b"",
    ],
)
def test_bad_opml_is_refused(document: bytes) -> None:
    with pytest.raises(DiscoveryError):
        read_opml(document)
