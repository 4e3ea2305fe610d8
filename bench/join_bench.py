"""Network join benchmark: a new instance mirrors a publisher's 30 cities from scratch.

The publisher hosts ``BENCH_JOIN_CITIES`` (30) cities with
``BENCH_JOIN_ENTRIES`` (1,000) entries each, made through the service
functions (four in five practice notes of about 6,000 characters of Russian
Markdown, the rest events), one in twenty edited after publication and one in
a hundred deleted, so its feeds hold versions and tombstones. It is served by
gunicorn (one gthread worker) in its own process; every feed document is
fetched once first, as a running publisher would have its archives cached.

A fresh instance (its own SQLite file, its own process) subscribed to the 30
city feeds then runs one ``mirror poll``: every feed's whole history (20
archive pages each at 50 entries a page). Reported: the poll's wall time and
the process's peak RSS, and a check that the copy is complete (every live
entry, no deleted one). Target: under 20 s.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.corpus import publish
from tests.waiting import free_port

CITIES = int(os.environ.get("BENCH_JOIN_CITIES", 30))
ENTRIES = int(os.environ.get("BENCH_JOIN_ENTRIES", 1000))
TARGET = 20.0
PROFILE = os.environ.get("BENCH_PROFILE")
ROOT = Path(__file__).resolve().parent.parent


def build_publisher(database_url: str, base: str) -> tuple[list[str], int]:
    """The publisher's data: (city slugs, live entries)."""
    from service import create_app
    from service.cities import add_city
    from service.store.db import init_db
    from service.store.models import db

    app = create_app(
        {"DATABASE_URL": database_url, "BASE_URL": base, "FEED_AUTHORITY": "pub.example"}
    )
    slugs = [f"city{n:02d}" for n in range(CITIES)]
    live = 0
    with app.app_context():
        init_db()
        rng = random.Random(30)
        for c, slug in enumerate(slugs):
            city = add_city(slug, f"Город {c}", "Регион")
            live += publish([city], ENTRIES, rng, edit=20, delete=100)
            print(f"  publisher: {c + 1}/{CITIES} cities", end="\r", flush=True)
        db.session.remove()
        db.engine.dispose()
    print()
    return slugs, live


def _serve(database_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "FEED_AUTHORITY": "pub.example",
        "SECRET_KEY": "bench",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-k", "gthread", "--threads", "8",
               "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, env=env)


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return answer.read()  # type: ignore[no-any-return]


def warm(base: str, slugs: list[str]) -> int:
    """Fetch every document of every city feed once (the publisher caches them)."""
    from lxml import etree

    documents = 0
    for slug in slugs:
        url: str | None = f"{base}/cities/{slug}/feed.atom"
        while url:
            root = etree.fromstring(_get(url))
            documents += 1
            links = root.findall("{http://www.w3.org/2005/Atom}link[@rel='prev-archive']")
            url = links[0].get("href") if links else None
    return documents


#: The mirroring process: subscribe, then time one poll; prints a JSON line.
MIRROR = """
import json, resource, sys, time
from service import create_app
from service.store.db import init_db
from service.store.models import Subscription, db
from service.mirror import subscriptions
app = create_app({"DATABASE_URL": sys.argv[1], "MIRROR_ALLOW_PRIVATE_ADDRESSES": True,
                  "FEED_AUTHORITY": "mirror.example", "MIRROR_TIMEOUT": 60.0})
with app.app_context():
    init_db()
    db.session.add_all(Subscription(url=url) for url in sys.argv[2:])
    db.session.commit()
    started = time.perf_counter()
    summary = subscriptions.poll_due()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "feeds": summary.feeds, "new": summary.new,
                      "updated": summary.updated, "deleted": summary.deleted,
                      "errors": summary.errors,
                      "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def mirror(database_url: str, urls: list[str]) -> dict[str, Any]:
    command = [sys.executable, "-c", MIRROR, database_url, *urls]
    if PROFILE:  # py-spy records the mirroring process, every thread
        spy = str(Path(sys.executable).parent / "py-spy")
        command = [spy, "record", "--format", "raw", "--rate", "200", "--threads",
                   "--output", str(Path(PROFILE) / "join.txt"), "--", *command]  # fmt: skip
    done = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    line = [text for text in done.stdout.splitlines() if text.startswith("{")][-1]
    return json.loads(line)  # type: ignore[no-any-return]


def _count(database_url: str) -> tuple[int, int]:
    from service import create_app
    from service.store.models import Entry, EntryChange, db

    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        entries = db.session.scalar(db.select(db.func.count(Entry.id))) or 0
        tombstones = db.session.scalar(
            db.select(db.func.count()).select_from(EntryChange).where(EntryChange.deleted)
        )
        db.engine.dispose()
    return entries, tombstones or 0


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="join-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    publisher_db = f"sqlite:///{tmp / 'publisher.sqlite3'}"
    server = None
    try:
        started = time.perf_counter()
        slugs, live = build_publisher(publisher_db, base)
        print(
            f"  {CITIES} cities x {ENTRIES} entries made in {time.perf_counter() - started:.0f} s"
        )
        server = _serve(publisher_db, port)
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(f"{base}/feeds/opml")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the publisher did not start") from None
                time.sleep(0.3)
        documents = warm(base, slugs)
        print(f"  publisher serves {documents} feed documents (warmed)", flush=True)
        urls = [f"{base}/cities/{slug}/feed.atom" for slug in slugs]
        result = mirror(f"sqlite:///{tmp / 'mirror.sqlite3'}", urls)
        entries, _ = _count(f"sqlite:///{tmp / 'mirror.sqlite3'}")
        verdict = "met" if result["seconds"] < TARGET else "MISSED"
        print(
            f"  join: {result['seconds']:.1f} s for {result['feeds']} feeds, {result['new']} new "
            f"entries, {result['deleted']} deletions applied; peak RSS {result['rss_mb']:.0f} MB "
            f"(target < {TARGET:.0f} s: {verdict})",
            flush=True,
        )
        if PROFILE:
            from bench.profile import summary

            print(summary(Path(PROFILE) / "join.txt"), flush=True)
        assert result["errors"] == 0, result
        assert entries == live, (entries, live)
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
