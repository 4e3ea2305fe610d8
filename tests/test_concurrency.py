"""Concurrent writers of one entry, against a real threaded HTTP server on 127.0.0.1.

Four clients make 50 mixed writes each (PATCH, PATCH with If-Match, PUT, DELETE
followed by a new entry) on the same entry, on SQLite and PostgreSQL. None may
get a 5xx; afterwards the feed equals the API for every entry (the change log
was written from the state committed), and ``updated`` grew strictly in every
entry's change-log rows.
"""

from __future__ import annotations

import collections
import random
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from service.store.models import EntryChange, db
from tests.conftest import Api, practice_body

CLIENTS, WRITES = 4, 50
ALLOWED = {200, 201, 204, 404, 409, 412}


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        return None


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    app.config["FEED_PAGE_SIZE"] = 1000  # every entry in the head document
    httpd = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


class Writers:
    """The shared state of the writers: the entry they all write, every entry made."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.headers = {"Authorization": f"Bearer {token}"}
        self.lock = threading.Lock()
        self.statuses: collections.Counter[str] = collections.Counter()
        #: Every entry made (all published when made): local number -> tag: id.
        self.made: dict[int, str] = {}
        self.current = self.create(httpx.Client(base_url=base, timeout=60), "начало")

    def create(self, http: httpx.Client, title: str) -> int:
        answer = http.post(
            "/api/v1/practices", json=practice_body(title=title), headers=self.headers
        )
        assert answer.status_code == 201, answer.text
        local_id = int(answer.json()["local_id"])
        with self.lock:
            self.made[local_id] = answer.json()["id"]
        return local_id

    def count(self, op: str, status: int) -> None:
        with self.lock:
            self.statuses[f"{op} {status}"] += 1

    def work(self, worker: int) -> None:
        rng = random.Random(worker)
        with httpx.Client(base_url=self.base, timeout=60) as http:
            for n in range(WRITES):
                self.write(http, rng, f"запись {worker}-{n}")

    def write(self, http: httpx.Client, rng: random.Random, title: str) -> None:
        path = f"/api/v1/practices/{self.current}"
        op = rng.choices(("patch", "patch-if-match", "put", "delete"), (3, 2, 2, 1))[0]
        if op == "patch":
            answer = http.patch(path, json={"title": title}, headers=self.headers)
        elif op == "patch-if-match":
            read = http.get(path, headers=self.headers)
            if read.status_code != 200:
                self.count("get", read.status_code)
                return
            headers = {**self.headers, "If-Match": read.headers["ETag"]}
            answer = http.patch(path, json={"title": title}, headers=headers)
        elif op == "put":
            status = rng.choice(("published", "draft"))
            body = practice_body(title=title, status=status, plans=None)
            answer = http.put(path, json=body, headers=self.headers)
        else:
            answer = http.delete(path, headers=self.headers)
            if answer.status_code == 204:
                made = self.create(http, title)
                with self.lock:
                    self.current = made
        self.count(op, answer.status_code)


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def feed_state(base: str) -> tuple[dict[str, dict[str, Any]], set[str]]:
    feed = httpx.get(f"{base}/feeds/all.json", timeout=30).json()
    items = {item["id"]: item for item in feed["items"]}
    deleted = {tomb["id"] for tomb in feed["_asdg"].get("deleted", [])}
    assert len(items) == len(feed["items"])  # one item per entry
    return items, deleted


def test_four_clients_on_one_entry(app: Flask, api: Api, omsk: str, server: str) -> None:
    writers = Writers(server, omsk)
    threads = [threading.Thread(target=writers.work, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = {key: writers.statuses[key] for key in sorted(writers.statuses)}
    print(f"\n{app.config['DATABASE_URL'].split(':')[0]}: {statuses}")  # the figures
    codes = {int(key.split()[-1]) for key in statuses}
    assert codes <= ALLOWED, statuses
    assert sum(statuses.values()) >= CLIENTS * WRITES
    assert any(key.startswith(("patch 200", "put 200")) for key in statuses)

    items, deleted = feed_state(server)
    checked = 0
    with httpx.Client(base_url=server, timeout=30) as http:
        for local_id, uid in writers.made.items():
            answer = http.get(f"/api/v1/practices/{local_id}", headers=writers.headers)
            if answer.status_code == 404:  # deleted: a tombstone, no item
                assert uid in deleted and uid not in items, uid
                continue
            entry = answer.json()
            if entry["status"] == "published":
                item = items.get(entry["id"])
                assert item is not None, entry["id"]
                assert item["title"] == entry["title"]
                assert _when(item["date_modified"]) == _when(entry["updated"])
                assert entry["id"] not in deleted or _when(item["date_modified"]) > _when(
                    entry["published"]
                )
            else:
                assert entry["id"] not in items
            checked += 1
    assert checked >= 1 and len(writers.made) > 1
    live = {
        http_entry["id"]
        for http_entry in api.get("/api/v1/practices", omsk, per_page=100).json["items"]
    }
    for uid in items:
        assert uid in live, uid  # nothing in the feed that the database does not have

    with app.app_context():
        rows = db.session.execute(
            select(EntryChange.entry_uid, EntryChange.at).order_by(EntryChange.seq)
        ).all()
    last: dict[str, datetime] = {}
    for uid, at in rows:
        assert uid not in last or at > last[uid], uid
        last[uid] = at
