"""Complete history (RFC 5005), edits, deletions (RFC 6721) and the round trip
through our own parser, over HTTP on both databases."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from feeds.parse import parse_feed, sanitize
from service.cities import add_city
from service.entries.changelog import ChangeValues, append
from service.store.models import Entry, EntryChange, db, utcnow
from tests.conftest import Api
from tests.feedcheck import (
    AT,
    ATOM,
    FH,
    add_mirrored_entry,
    atom_links,
    check_feedparser,
    check_json_feed,
    generate_entries,
    get_ok,
    validate_atom_files,
    walk,
)

BASE = "http://test.example"
SIZE = 5


@pytest.fixture
def small_pages(app: Flask) -> Flask:
    app.config["FEED_PAGE_SIZE"] = SIZE
    return app


def make(app: Flask, count: int) -> list[tuple[int, str, str]]:
    """``count`` generated entries: (local id, tag id, kind)."""
    with app.app_context():
        return [(e.id, e.uid, e.kind) for e in generate_entries(count)]


def log_rows(app: Flask) -> list[EntryChange]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(EntryChange).order_by(EntryChange.seq)))
        db.session.expunge_all()
        return rows


def atom_ids(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [e.findtext(f"{ATOM}id") for e in root.iterchildren(f"{ATOM}entry")]


def tombstone_refs(body: bytes) -> list[str]:
    return [t.get("ref") for t in etree.fromstring(body).iterchildren(f"{AT}deleted-entry")]


def plural(kind: str) -> str:
    return f"{kind}s"


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_walking_prev_archive_returns_every_entry_once(
    small_pages: Flask, client: FlaskClient, fmt: str
) -> None:
    created = make(small_pages, 23)
    documents = walk(client, f"{BASE}/feeds/all.{fmt}")
    assert len(documents) == 4  # head (positions 15..22) and archive pages 3, 2, 1
    seen: list[str] = []
    for _, body in documents:
        if fmt == "atom":
            seen += atom_ids(body)
        else:
            seen += [item["id"] for item in json.loads(body)["items"]]
    assert sorted(seen) == sorted(uid for _, uid, _ in created)
    assert len(seen) == len(set(seen)) == 23


def test_archive_documents_are_marked_and_linked(small_pages: Flask, client: FlaskClient) -> None:
    make(small_pages, 23)
    head = get_ok(client, "/feeds/all.atom")
    head_root = etree.fromstring(head)
    assert head_root.find(f"{FH}archive") is None
    assert atom_links(head)["prev-archive"] == f"{BASE}/feeds/all.atom?page=3"
    assert len(atom_ids(head)) == 8
    for page in (1, 2, 3, 4):
        response = client.get(f"/feeds/all.atom?page={page}")
        assert response.status_code == 200
        root = etree.fromstring(response.data)
        assert root.find(f"{FH}archive") is not None
        links = atom_links(response.data)
        assert links["self"] == f"{BASE}/feeds/all.atom?page={page}"
        assert links["current"] == f"{BASE}/feeds/all.atom"
        assert links.get("prev-archive") == (
            f"{BASE}/feeds/all.atom?page={page - 1}" if page > 1 else None
        )
        assert len(atom_ids(response.data)) == SIZE
        if page < 4:
            assert links["next-archive"] == f"{BASE}/feeds/all.atom?page={page + 1}"
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        else:  # the newest page: no next-archive until page 5 exists; revalidated till then
            assert "next-archive" not in links
            assert response.headers["Cache-Control"] == "public, no-cache"
    for missing in (5, 6, 10**9):
        assert client.get(f"/feeds/all.atom?page={missing}").status_code == 404
    doc = json.loads(get_ok(client, "/feeds/all.json"))
    assert doc["next_url"] == f"{BASE}/feeds/all.json?page=3"
    assert doc["_asdg"]["archive"] is False
    page3 = json.loads(get_ok(client, "/feeds/all.json?page=3"))
    (key,) = page3["_asdg"].pop("keys")  # the instance's signing key (origin authenticity)
    assert key["site"] == BASE and key["id"] and key["public_key"]
    assert page3["_asdg"] == {
        "about": "https://asdg.example/ns/practice/1.0",
        "archive": True,
        "page": 3,
        "self": f"{BASE}/feeds/all.json?page=3",
        "current": f"{BASE}/feeds/all.json",
    }
    assert page3["next_url"] == f"{BASE}/feeds/all.json?page=2"
    assert "next_url" not in json.loads(get_ok(client, "/feeds/all.json?page=1"))


@pytest.mark.parametrize(
    ("count", "in_head", "archives"),
    [(0, 0, 0), (4, 4, 0), (5, 5, 0), (9, 9, 0), (10, 5, 1), (14, 9, 1), (15, 5, 2)],
)
def test_head_holds_the_newest_page(
    small_pages: Flask, client: FlaskClient, count: int, in_head: int, archives: int
) -> None:
    created = make(small_pages, count)
    head = get_ok(client, "/feeds/all.atom")
    assert atom_ids(head) == [uid for _, uid, _ in reversed(created)][:in_head]
    assert len(walk(client, f"{BASE}/feeds/all.atom")) == archives + 1


def test_filters_page_their_own_rows(small_pages: Flask, client: FlaskClient) -> None:
    created = make(small_pages, 30)
    events = [uid for _, uid, kind in created if kind == "event"]
    seen = [
        i for _, body in walk(client, f"{BASE}/feeds/all.atom?kind=event") for i in atom_ids(body)
    ]
    assert sorted(seen) == sorted(events) and len(events) == 10
    assert atom_links(get_ok(client, "/feeds/all.atom?kind=event"))["prev-archive"] == (
        f"{BASE}/feeds/all.atom?kind=event&page=1"
    )
    omsk = [uid for _, uid, _ in created[::3]]
    seen = [i for _, body in walk(client, f"{BASE}/cities/omsk/feed.atom") for i in atom_ids(body)]
    assert sorted(seen) == sorted(omsk)


def test_edit_keeps_archives_and_reappears_at_the_head(
    small_pages: Flask, client: FlaskClient, api: Api
) -> None:
    created = make(small_pages, 12)
    token = api.token("omsk")
    archives = {
        url: get_ok(client, url)
        for url in (
            "/feeds/all.atom?page=1",
            "/feeds/all.json?page=1",
            "/cities/omsk/feed.atom",
            "/feeds/all.atom?page=2",
        )
    }
    local_id, uid, kind = created[0]  # Omsk's oldest entry, in archive page 1
    before = json.loads(get_ok(client, "/feeds/all.json?page=1"))["items"]
    old = next(item for item in before if item["id"] == uid)
    for n in range(3):
        response = api.patch(f"/api/v1/{plural(kind)}/{local_id}", {"title": f"Правка {n}"}, token)
        assert response.status_code == 200, response.json
    for url in ("/feeds/all.atom?page=1", "/feeds/all.json?page=1"):
        assert get_ok(client, url) == archives[url], url
    # Page 2 was the newest: it keeps its entries and gains its next-archive (page 3 is full).
    page2 = get_ok(client, "/feeds/all.atom?page=2")
    assert atom_ids(page2) == atom_ids(archives["/feeds/all.atom?page=2"])
    assert "next-archive" not in atom_links(archives["/feeds/all.atom?page=2"])
    assert atom_links(page2)["next-archive"] == f"{BASE}/feeds/all.atom?page=3"
    head = json.loads(get_ok(client, "/feeds/all.json"))
    mine = [item for item in head["items"] if item["id"] == uid]
    assert len(mine) == 1  # the head shows each entry once: its newest version
    assert mine[0]["title"] == "Правка 2"
    assert mine[0]["date_modified"] > old["date_modified"]
    assert mine[0]["date_published"] == old["date_published"]
    assert head["items"][0]["id"] == uid  # newest first
    # Walking the history sees every log row once: 12 creations and 3 edits.
    rows = [i for _, body in walk(client, f"{BASE}/feeds/all.atom") for i in atom_ids(body)]
    assert len(rows) == 12 + 3 - 2  # the head folds the 3 edits into one
    assert set(rows) == {u for _, u, _ in created}
    # The city feed of Omsk changed; its (single) document now has the new title.
    assert "Правка 2" in get_ok(client, "/cities/omsk/feed.atom").decode()


def test_tombstones_for_deleted_and_unpublished_entries(
    app: Flask, client: FlaskClient, api: Api, tmp_path: Path
) -> None:
    created = make(app, 9)
    token = api.token("omsk")
    omsk = created[::3]  # omsk, tomsk, irkutsk take turns
    gone = [omsk[0], omsk[1], omsk[2]]
    for local_id, _, kind in gone[:2]:
        assert api.delete(f"/api/v1/{plural(kind)}/{local_id}", token).status_code == 204
    local_id, _, kind = gone[2]
    response = api.patch(f"/api/v1/{plural(kind)}/{local_id}", {"status": "draft"}, token)
    assert response.status_code == 200, response.json
    gone_ids = {uid for _, uid, _ in gone}

    atom = get_ok(client, "/feeds/all.atom")
    assert set(tombstone_refs(atom)) == gone_ids and len(tombstone_refs(atom)) == 3
    assert not gone_ids & set(atom_ids(atom))  # a tombstone wins over older versions
    for tombstone in etree.fromstring(atom).iterchildren(f"{AT}deleted-entry"):
        assert tombstone.get("when")
        assert tombstone.findtext(f"{AT}by/{ATOM}name") == "Администрация г. Омск"
    check_feedparser(atom)
    (tmp_path / "t.xml").write_bytes(atom)
    validate_atom_files([tmp_path / "t.xml"])
    parsed = parse_feed(atom, url=f"{BASE}/feeds/all.atom")
    assert {t.id for t in parsed.tombstones} == gone_ids
    assert all(t.by == "Администрация г. Омск" and t.when.tzinfo for t in parsed.tombstones)
    assert len(parsed.entries) == 6

    doc = json.loads(get_ok(client, "/feeds/all.json"))
    check_json_feed(doc)
    # Deletions are feed-level data, never items (readers show those as blank entries).
    deleted = doc["_asdg"]["deleted"]
    assert {d["id"] for d in deleted} == gone_ids and len(deleted) == 3
    assert all(d["by"] == "Администрация г. Омск" and d["when"] for d in deleted)
    assert not gone_ids & {i["id"] for i in doc["items"]}
    assert all("deleted" not in i["_asdg"] for i in doc["items"])
    parsed_json = parse_feed(json.dumps(doc).encode(), url=f"{BASE}/feeds/all.json")
    assert {t.id for t in parsed_json.tombstones} == gone_ids
    assert {t.when for t in parsed_json.tombstones} == {t.when for t in parsed.tombstones}

    # Publishing again brings the entry back: the newest row is an entry again.
    assert (
        api.patch(f"/api/v1/{plural(kind)}/{local_id}", {"status": "published"}, token).status_code
        == 200
    )
    atom = get_ok(client, "/feeds/all.atom")
    assert gone[2][1] in atom_ids(atom) and gone[2][1] not in tombstone_refs(atom)


def test_tombstones_in_archive_pages(small_pages: Flask, client: FlaskClient, api: Api) -> None:
    created = make(small_pages, 12)
    token = api.token("omsk")
    for local_id, _, kind in created[::3]:
        assert api.delete(f"/api/v1/{plural(kind)}/{local_id}", token).status_code == 204
    rows = log_rows(small_pages)
    assert len(rows) == 16
    seen_rows = 0
    for _, body in walk(client, f"{BASE}/feeds/all.atom"):
        parsed = parse_feed(body, url=BASE)
        seen_rows += len(parsed.entries) + len(parsed.tombstones)
    assert seen_rows == 16  # head (positions 10..15, no repeats there) and archives 2, 1


def _snapshots(app: Flask) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r.entry_uid, r.data["updated"]): r.data for r in log_rows(app) if not r.deleted}


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_round_trip_rebuilds_every_record_field(
    small_pages: Flask, client: FlaskClient, api: Api, fmt: str
) -> None:
    created = make(small_pages, 20)
    with small_pages.app_context():
        add_mirrored_entry("Опыт Барнаула: «дворы» & скверы")
        entry = db.session.get(Entry, created[0][0])
        entry_id = entry.id
    token = api.token("omsk")
    contact = {
        "name": "О'Брайен «Анна»",
        "position": 'Отдел "Город"',
        "email": "a@b.ru",
        "phone": "+7 000",
    }
    assert (
        api.patch(
            f"/api/v1/practices/{entry_id}",
            {"contact": contact, "body": "**Да** <b>", "tags": []},
            token,
        ).status_code
        == 200
    )
    snapshots = _snapshots(small_pages)
    checked = 0
    for url, body in walk(client, f"{BASE}/feeds/network.{fmt}"):
        parsed = parse_feed(body, url=url)
        assert parsed.problems == ()
        for parsed_entry in parsed.entries:
            record = parsed_entry.record
            assert record is not None
            snapshot = snapshots[(parsed_entry.id, record["updated"])]
            # Own records are signed as they are published (a mirrored one carries its origin's).
            assert snapshot["origin"] == "mirror" or (record["signature"] and record["key_id"])
            unsigned = {"content_html", "signature", "key_id"}
            assert {k: v for k, v in record.items() if k not in unsigned} == {
                k: v for k, v in snapshot.items() if k not in unsigned
            }
            # content travels as sanitized HTML: the same HTML, re-sanitized.
            assert record["content_html"] == sanitize(snapshot["content_html"])
            assert parsed_entry.link == snapshot["url"]
            assert parsed_entry.title == snapshot["title"]
            assert parsed_entry.updated.isoformat() == snapshot["updated"]
            if snapshot["origin"] == "mirror":
                assert parsed_entry.source is not None
                assert parsed_entry.source.id == snapshot["source"]["id"]
                assert parsed_entry.source.title == snapshot["source"]["title"]
                assert parsed_entry.source.url == snapshot["source"]["url"]
            else:
                assert parsed_entry.source is None
            checked += 1
    assert checked == 22  # 20 + the mirrored one + the edit's new row
    kinds = {record["kind"] for (_, _), record in snapshots.items()}
    assert kinds == {"practice", "event"}


def test_log_rows_become_visible_in_seq_order(app: Flask, database_url: str) -> None:
    """On PostgreSQL a second append waits until the first one commits."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers itself")
    with app.app_context():
        city_id = add_city("omsk", "Омск").id
        engine = db.engine

    def change(uid: str) -> ChangeValues:
        return ChangeValues(
            entry_uid=uid,
            kind="practice",
            city_id=city_id,
            origin="local",
            topic_codes=",",
            deleted=False,
            at=utcnow(),
            data={},
        )

    first, second = Session(engine), Session(engine)
    append([change("first")], session=first)  # seq taken, transaction open
    done = threading.Event()

    def append_second() -> None:
        append([change("second")], session=second)
        second.commit()
        done.set()

    thread = threading.Thread(target=append_second)
    thread.start()
    try:
        assert not done.wait(0.5), "the second append must wait for the first commit"
        first.commit()
        assert done.wait(10)
    finally:
        thread.join(10)
        first.close()
        second.close()
    with app.app_context():
        order = db.session.scalars(select(EntryChange.entry_uid).order_by(EntryChange.seq)).all()
    assert order == ["first", "second"]
