"""Mirroring benchmark: our mirror against the ``reader`` library on the same feeds.

200 Atom feeds of 50 entries each (rendered with our own publisher, with the
structured extension), served as static files over HTTP/1.1 keep-alive with
``ETag``/304 and gzip by a threaded server in a separate process on
127.0.0.1. Both mirrors run three rounds with the same concurrency:

(a) cold: every feed new; (b) again with no change: every answer a 304;
(c) after 10% of the feeds changed (a new entry and an edited one each).

Ours stores into SQLite (like reader). Prints wall times and speed-ups.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

FEEDS = int(os.environ.get("BENCH_MIRROR_FEEDS", 200))
ENTRIES = 50
CHANGED = FEEDS // 10
WORKERS = int(os.environ.get("BENCH_MIRROR_WORKERS", 8))
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TOPICS = ["culture", "education", "sport", "organization-hr", "economy"]


# -- the feeds ----------------------------------------------------------------------


def _record(feed: int, n: int, version: int = 0) -> dict[str, Any]:
    from service.entries.rendering import entry_html

    updated = T0 + timedelta(minutes=feed * ENTRIES + n + version * 10_000)
    data: dict[str, Any] = {
        "id": f"tag:bench.test,2024-01-01:practice/{feed}-{n}",
        "kind": "practice",
        "title": f"Практика {n} города {feed}" + (" (изменено)" if version else ""),
        "city": {
            "slug": f"city-{feed}",
            "name": f"Город {feed}",
            "region": "Регион",
            "latitude": 55.0,
            "longitude": 82.9,
        },
        "topics": [TOPICS[n % 5], TOPICS[(n + feed) % 5]]
        if n % 5 != (n + feed) % 5
        else [TOPICS[n % 5]],
        "tags": [f"метка {n % 7}", "онлайн"],
        "year": 2020 + n % 4,
        "summary": f"Отдел {feed}-{n} ведёт **планирование**.\n\n- мероприятия {n}\n- отчёты",
        "status": "published",
        "published": (T0 + timedelta(minutes=feed * ENTRIES + n)).isoformat(),
        "updated": updated.isoformat(),
        "url": f"http://bench.test/practices/{feed}-{n}",
        "origin": "local",
        "area": "Организационная деятельность",
        "achievements": f"Проведены мероприятия номер {n} в городе {feed}; участвовали жители.",
        "plans": f"Провести {n + 1} мероприятий в следующем году.",
        "assistance": "Обмен опытом с другими городами Ассоциации.",
        "body": None,
        "contact": {
            "name": f"Сотрудник {n}",
            "position": "специалист",
            "email": None,
            "phone": None,
        },
    }
    data["content_html"] = entry_html(data)
    return data


def render_feed(feed: int, base: str, changed: bool = False) -> bytes:
    from feeds.publish import render_atom
    from feeds.types import FeedDocument, FeedItem

    records = [_record(feed, n) for n in range(ENTRIES)]
    if changed:
        records[0] = _record(feed, 0, version=1)
        records.append(_record(feed, ENTRIES, version=1))
    records.sort(key=lambda r: r["updated"], reverse=True)
    url = f"{base}/feed{feed}.atom"
    items = tuple(FeedItem(r, False, datetime.fromisoformat(r["updated"])) for r in records)
    return render_atom(
        FeedDocument(
            feed_id=url,
            title=f"Город {feed}",
            self_url=url,
            current_url=url,
            home_url=f"{base}/",
            items=items,
            updated=max(i.at for i in items),
        )
    )


def _serve(root: str, ready: Any) -> None:
    """The feed server process: static files with ETag/304, gzip, keep-alive.

    Like a real static file server, the ETag is worked out once per version of
    a file (not by hashing 150 KB again for every request), so the server's
    CPU, which shares the machine with both mirrors, stays small for both.
    """
    from dataclasses import dataclass

    from tests.feedserver import FeedServer, Static, serve_static

    @dataclass
    class File(Static):
        tag: str = ""

        @property
        def etag(self) -> str:
            return self.tag

    cache: dict[str, tuple[int, Static]] = {}

    def from_disk(handler: Any) -> None:
        path = Path(root) / handler.path.lstrip("/").split("?")[0]
        stamp = path.stat().st_mtime_ns
        hit = cache.get(path.name)
        if hit is None or hit[0] != stamp:
            static = Static(path.read_bytes())
            hit = (stamp, File(static.body, tag=static.etag))
            cache[path.name] = hit
        serve_static(handler, hit[1])

    server = FeedServer()
    for i in range(FEEDS):
        server.handle(f"/feed{i}.atom", from_disk)
    ready.send(server.port)
    ready.recv()  # until told to stop
    server.close()


# -- the two mirrors ----------------------------------------------------------------


class Ours:
    name = "ours"

    def __init__(self, tmp: Path, urls: list[str]) -> None:
        from service import create_app
        from service.store.db import init_db
        from service.store.models import Subscription, db

        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{tmp / 'ours.sqlite3'}",
                "MIRROR_ALLOW_PRIVATE_ADDRESSES": True,
                "MIRROR_CONCURRENCY": WORKERS,
                "MIRROR_PER_HOST": WORKERS,
                "MIRROR_TIMEOUT": 30.0,
            }
        )
        with self.app.app_context():
            init_db()
            db.session.add_all(Subscription(url=url) for url in urls)
            db.session.commit()

    def update(self) -> str:
        from service.mirror import subscriptions
        from service.store.models import Subscription, db, utcnow

        with self.app.app_context():
            db.session.execute(db.update(Subscription).values(next_poll=utcnow()))
            db.session.commit()
            summary = subscriptions.poll_due()
            assert summary.errors == 0, [r.error for r in summary.results if r.error]
            return (
                f"{summary.feeds} feeds, {summary.not_modified} not modified, "
                f"{summary.new} new, {summary.updated} updated"
            )


class Reader:
    name = "reader"

    def __init__(self, tmp: Path, urls: list[str]) -> None:
        import reader

        self.reader = reader.make_reader(str(tmp / "reader.sqlite3"))
        for url in urls:
            self.reader.add_feed(url)

    def update(self) -> str:
        self.reader.update_feeds(workers=WORKERS, scheduled=False)
        counts = self.reader.get_entry_counts()
        return f"{counts.total} entries stored"


def timed(label: str, action: Callable[[], str]) -> float:
    started = time.perf_counter()
    note = action()
    elapsed = time.perf_counter() - started
    print(f"  {label:<28} {elapsed:8.2f} s   ({note})", flush=True)
    return elapsed


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    tmp = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    root = tmp / "feeds"
    root.mkdir()
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=_serve, args=(str(root), child), daemon=True)
    server.start()
    try:
        port = parent.recv()
        base = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        for i in range(FEEDS):
            (root / f"feed{i}.atom").write_bytes(render_feed(i, base))
        size = sum(p.stat().st_size for p in root.iterdir())
        print(
            f"{FEEDS} feeds x {ENTRIES} entries ({size / 1e6:.1f} MB) rendered in "
            f"{time.perf_counter() - started:.1f} s; {WORKERS} workers each",
            flush=True,
        )
        urls = [f"{base}/feed{i}.atom" for i in range(FEEDS)]
        mirrors = [Ours(tmp, urls), Reader(tmp, urls)]
        changed = sorted(
            int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % FEEDS for i in range(CHANGED * 3)
        )
        changed = list(dict.fromkeys(changed))[:CHANGED]
        times: dict[str, dict[str, float]] = {m.name: {} for m in mirrors}
        for round_name in ("cold", "no change (304)", "10% changed"):
            if round_name == "10% changed":
                for i in changed:
                    (root / f"feed{i}.atom").write_bytes(render_feed(i, base, changed=True))
            print(f"round: {round_name}", flush=True)
            for mirror in mirrors:
                times[mirror.name][round_name] = timed(mirror.name, mirror.update)
            if round_name == "10% changed":
                for i in changed:  # back to the original, so the next run starts alike
                    (root / f"feed{i}.atom").write_bytes(render_feed(i, base))
        print("speed-up over reader (reader time / our time; targets 2x, 3x, 2x):")
        for round_name, target in (("cold", 2), ("no change (304)", 3), ("10% changed", 2)):
            ratio = times["reader"][round_name] / times["ours"][round_name]
            verdict = "met" if ratio >= target else "MISSED"
            print(f"  {round_name:<20} {ratio:6.2f}x  (target {target}x: {verdict})", flush=True)
    finally:
        parent.send("stop")
        server.join(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
