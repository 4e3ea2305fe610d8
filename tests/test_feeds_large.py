"""A generated data set of 1,000 entries (plus edits, deletions and mirrored
entries) on both databases: every feed validates and the history is complete."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from feeds.parse import parse_feed
from service import create_app
from service.cities import add_city
from service.entries.service import create_entry, delete_entry, update_entry
from service.store.db import init_db
from service.store.models import db
from tests.conftest import BACKENDS, base_config
from tests.dbutil import pg_database
from tests.feedcheck import (
    add_mirrored_entry,
    check_feedparser,
    check_json_feed,
    generate_entries,
    validate_atom_files,
    walk,
)

BASE = "http://test.example"
COUNT = 1000


@pytest.fixture(scope="module", params=BACKENDS)
def big(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, list[str]]]:
    """1,000 generated entries, then another city's edited and deleted ones, and mirrors."""
    tmp = tmp_path_factory.mktemp("big")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'big.sqlite3'}"
    else:
        suffix = os.environ.get("TEST_DB_SUFFIX", "") + os.environ.get("PYTEST_XDIST_WORKER", "m")
        url = pg_database(f"asdg_test_{suffix}_feeds_big")
    app = create_app(base_config(url, tmp))
    with app.app_context():
        init_db()
        generated = [e.uid for e in generate_entries(COUNT)]
        city = add_city("novosibirsk", "Новосибирск", "Новосибирская область")
        extra = [
            create_entry(
                "practice",
                {
                    "title": f"Новосибирск {n}",
                    "summary": "Текст",
                    "year": 2021,
                    "topics": ["culture"],
                    "status": "published",
                },
                city=city,
            )
            for n in range(30)
        ]
        for n, entry in enumerate(extra[:10]):
            update_entry(entry, {"title": f"Новосибирск {n}, правка"})
        for entry in extra[10:15]:
            delete_entry(entry)
        for entry in extra[15:17]:
            update_entry(entry, {"status": "draft"})
        for n in range(5):
            add_mirrored_entry(f"Барнаул {n}")
        db.session.remove()
    yield app, generated
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


FEEDS = [
    "/feeds/all",
    "/feeds/network",
    "/cities/omsk/feed",
    "/cities/tomsk/feed",
    "/cities/irkutsk/feed",
    "/cities/novosibirsk/feed",
    "/feeds/all?kind=event",
    "/feeds/network?kind=practice&topic=culture",
]


def _feed_urls(feed: str) -> Iterator[tuple[str, str]]:
    path, _, query = feed.partition("?")
    for fmt in ("atom", "json"):
        yield fmt, f"{BASE}{path}.{fmt}" + (f"?{query}" if query else "")


def test_every_feed_of_the_large_data_set_validates(
    big: tuple[Flask, list[str]], tmp_path: Path
) -> None:
    app, _ = big
    client = app.test_client()
    atom_files: list[Path] = []
    json_documents = 0
    for feed in FEEDS:
        for fmt, head in _feed_urls(feed):
            documents = walk(client, head)
            for index, (url, body) in enumerate(documents):
                parsed = parse_feed(body, url=url)
                assert parsed.problems == ()
                assert all(e.record is not None for e in parsed.entries)
                if fmt == "json":
                    check_json_feed(json.loads(body))
                    json_documents += 1
                    continue
                # feedparser takes ~80 ms a document: the head, the newest and the
                # oldest archive page of every feed (jing checks every page).
                if index in (0, 1, len(documents) - 1):
                    check_feedparser(body)
                path = tmp_path / f"{len(atom_files)}.xml"
                path.write_bytes(body)
                atom_files.append(path)
    validate_atom_files(atom_files)
    assert len(atom_files) == json_documents > 60


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_walking_the_history_returns_every_entry_once(
    big: tuple[Flask, list[str]], fmt: str
) -> None:
    app, generated = big
    client = app.test_client()
    seen: Counter[str] = Counter()
    tombstones: Counter[str] = Counter()
    documents = walk(client, f"{BASE}/feeds/all.{fmt}")
    for url, body in documents:
        parsed = parse_feed(body, url=url)
        seen.update(e.id for e in parsed.entries)
        tombstones.update(t.id for t in parsed.tombstones)
    assert len(documents) == (COUNT + 30 + 10 + 5 + 2) // 50  # head + archive pages
    assert all(seen[uid] == 1 for uid in generated)  # never edited: exactly once
    # Novosibirsk's rows are all in the head, which shows each entry once:
    # 23 entries (10 as edited) and 7 tombstones (5 deleted, 2 unpublished).
    extra = set(seen) - set(generated)
    assert len(extra) == 23 and all(seen[uid] == 1 for uid in extra)
    assert len(tombstones) == sum(tombstones.values()) == 7
    assert not extra & set(tombstones)
    network = [
        e.id
        for url, body in walk(client, f"{BASE}/feeds/network.{fmt}")
        for e in parse_feed(body, url=url).entries
    ]
    assert sum(1 for uid in network if uid.startswith("tag:barnaul.example")) == 5
