"""Large documents are parsed in worker processes (feeds.workers): the same entries,
sanitized the same way, as when the fetch threads parse them, on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator

import pytest
from flask import Flask

from feeds.workers import MIN_BODY
from service.entries.changelog import snapshot
from service.mirror import subscriptions
from service.store.models import Entry, db
from tests.feedserver import FeedServer

PARAGRAPH = "Администрация города провела заседание комиссии по благоустройству дворов. " * 8


def big_feed(n: int) -> str:
    entries = "".join(
        f"<entry><id>https://news.example/{i}</id><title>Новость {i}</title>"
        f"<updated>2024-05-{i + 1:02d}T10:00:00Z</updated>"
        f'<link rel="alternate" href="https://news.example/{i}"/>'
        f'<content type="html">&lt;p&gt;{PARAGRAPH}&lt;b&gt;{i}&lt;/b&gt;'
        f"&lt;script&gt;steal()&lt;/script&gt;&lt;/p&gt;</content></entry>"
        for i in range(n)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>https://news.example/feed</id><title>Новости</title>"
        f"<updated>2024-06-01T00:00:00Z</updated>{entries}</feed>"
    )


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer() as s:
        yield s


@pytest.mark.parametrize("processes", [1, 0])
def test_large_feed_parsed_in_workers_or_threads_alike(
    app: Flask, server: FeedServer, processes: int
) -> None:
    body = big_feed(30)
    assert len(body.encode()) > MIN_BODY  # big enough for the worker processes
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_PARSE_PROCESSES=processes)
    url = server.add("/news.atom", body, content_type="application/atom+xml")
    with app.app_context():
        sub = subscriptions.add_subscription(url)
        result = subscriptions.poll_subscription(sub.id)
        assert result.error is None and result.new == 30
        snaps = {e.uid: snapshot(e) for e in db.session.scalars(db.select(Entry)).unique()}
    if processes:  # the shared pool's worker parsed it, and stays for the next poll
        assert any(p.name.startswith("SpawnProcess") for p in multiprocessing.active_children())
    html = snaps["https://news.example/7"]["content_html"]
    assert html.startswith("<p>Администрация города") and "<b>7</b>" in html
    assert "script" not in html and "steal" not in html
