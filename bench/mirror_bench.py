"""Mirroring benchmark: our mirror against the ``reader`` library, interleaved, in one run.

The corpus is what reader's users subscribe to (:mod:`bench.corpus`): 150
plain Atom feeds of 50 entries (2-3.6 KB of Russian HTML each, no ASDG
extension), served as static files by a threaded server in its own process on
127.0.0.1 (HTTP/1.1 keep-alive, ``ETag``/304, gzip; the ETag is worked out once
per version of a file, like a static file server). Both mirrors store into
SQLite and use 8 workers. Rounds:

(a) cold: every feed new; (b) no change: every answer a 304 (three times,
median); (c) 10% of the feeds changed (an entry edited and one added each).

The whole sequence runs ``BENCH_MIRROR_REPEATS`` times (default 2) on fresh
databases, alternating which mirror goes first, and the medians are compared.
``BENCH_PROFILE=<dir>`` records each of our rounds of the first repeat with
py-spy (every thread, :mod:`bench.profile`), keeps the raw stacks there and
prints the most sampled functions. Targets: >= 3x reader in every round.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from bench.corpus import changed_feeds, generic_feed
from bench.profile import sampled, summary

FEEDS = int(os.environ.get("BENCH_MIRROR_FEEDS", 150))
ENTRIES = 50
WORKERS = int(os.environ.get("BENCH_MIRROR_WORKERS", 8))
REPEATS = int(os.environ.get("BENCH_MIRROR_REPEATS", 2))
PROFILE = os.environ.get("BENCH_PROFILE")
ROUNDS = (("cold", 3.0), ("no change (304)", 3.0), ("10% changed", 3.0))
#: CPU seconds of every round, per mirror (printed with the wall times).
CPU: dict[str, list[float]] = {}


def _serve(root: str, ready: Any) -> None:
    """The feed server process: static files with ETag/304, gzip, keep-alive."""
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

    def __init__(self, path: Path, urls: list[str]) -> None:
        from service import create_app
        from service.store.db import init_db
        from service.store.models import Subscription, db

        self.app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{path}",
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

    def close(self) -> None:
        from service.store.models import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


class Reader:
    name = "reader"

    def __init__(self, path: Path, urls: list[str]) -> None:
        import reader

        # reader 3.26 hands feedparser the body without the response's Content-Type, so every
        # feed logs a "bozo" warning (NonXMLContentType); it parses them all the same.
        logging.getLogger("reader").setLevel(logging.ERROR)
        self.reader = reader.make_reader(str(path))
        for url in urls:
            self.reader.add_feed(url)

    def update(self) -> str:
        self.reader.update_feeds(workers=WORKERS, scheduled=False)
        counts = self.reader.get_entry_counts()
        return f"{counts.total} entries stored"

    def close(self) -> None:
        self.reader.close()


def cpu_seconds() -> float:
    """CPU seconds of this process and of its live children (our parse workers).

    The feed server is left out: it is the same for both mirrors.
    """
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for child in multiprocessing.active_children():
        if child.name.startswith("SpawnProcess") and child.pid is not None:
            try:
                fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def timed(label: str, action: Callable[[], str], profile_to: Path | None = None) -> float:
    """Run one round: wall seconds (returned) and, printed, this process's CPU seconds.

    Both mirrors run in this process (the feed server in its own), so the CPU
    time of a round (with our parse workers', :func:`cpu_seconds`) is that
    mirror's alone, and moves less with other load on the machine than the
    wall time.
    """
    context = sampled(profile_to) if profile_to else nullcontext()
    with context:
        started, cpu = time.perf_counter(), cpu_seconds()
        note = action()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    CPU.setdefault(label, []).append(cpu)
    print(f"    {label:<8} {elapsed:8.3f} s  cpu {cpu:7.3f} s   ({note})", flush=True)
    if profile_to:
        print(summary(profile_to), flush=True)
    return elapsed


def write_feeds(root: Path, base: str, version: int = 0, only: list[int] | None = None) -> None:
    for i in only if only is not None else range(FEEDS):
        url = f"{base}/feed{i}.atom"
        (root / f"feed{i}.atom").write_bytes(generic_feed(i, url, ENTRIES, version))


def run_repeat(
    n: int, tmp: Path, root: Path, base: str, times: dict[str, dict[str, list[float]]]
) -> None:
    urls = [f"{base}/feed{i}.atom" for i in range(FEEDS)]
    makers: list[Callable[[], Any]] = [
        lambda: Ours(tmp / f"ours{n}.sqlite3", urls),
        lambda: Reader(tmp / f"reader{n}.sqlite3", urls),
    ]
    mirrors = [make() for make in (makers if n % 2 == 0 else makers[::-1])]
    changed = changed_feeds(FEEDS)
    try:
        for round_name, _ in ROUNDS:
            if round_name == "10% changed":
                write_feeds(root, base, version=n + 1, only=changed)
            print(f"  round: {round_name}", flush=True)
            tries = 3 if round_name.startswith("no change") else 1
            for mirror in mirrors:
                profile = None
                if PROFILE and mirror.name == "ours" and n == 0:
                    profile = Path(PROFILE) / f"ours-{round_name.split()[0]}.txt"
                spent = [
                    timed(mirror.name, mirror.update, profile if t == 0 else None)
                    for t in range(tries)
                ]
                times[mirror.name][round_name].append(statistics.median(spent))
    finally:
        for mirror in mirrors:
            mirror.close()
        write_feeds(root, base, only=changed)  # back to the original for the next repeat


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    if PROFILE:
        Path(PROFILE).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="mirror-bench-"))
    root = tmp / "feeds"
    root.mkdir()
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(
        target=_serve, args=(str(root), child), daemon=True, name="feed-server"
    )
    server.start()
    try:
        base = f"http://127.0.0.1:{parent.recv()}"
        started = time.perf_counter()
        write_feeds(root, base)
        size = sum(p.stat().st_size for p in root.iterdir())
        print(
            f"{FEEDS} plain Atom feeds x {ENTRIES} entries ({size / 1e6:.1f} MB, Russian HTML, "
            f"no extension) made in {time.perf_counter() - started:.1f} s; {WORKERS} workers "
            f"each; {REPEATS} repeats, alternating who goes first",
            flush=True,
        )
        times: dict[str, dict[str, list[float]]] = {
            name: {r: [] for r, _ in ROUNDS} for name in ("ours", "reader")
        }
        for n in range(REPEATS):
            print(f"repeat {n + 1}:", flush=True)
            run_repeat(n, tmp, root, base, times)
        print("speed-up over reader (median reader time / median our time):")
        for round_name, target in ROUNDS:
            ours = statistics.median(times["ours"][round_name])
            theirs = statistics.median(times["reader"][round_name])
            ratio = theirs / ours
            verdict = "met" if ratio >= target else "MISSED"
            print(
                f"  {round_name:<16} ours {ours:7.3f} s  reader {theirs:7.3f} s  "
                f"{ratio:6.2f}x  (target {target:.0f}x: {verdict})",
                flush=True,
            )
    finally:
        parent.send("stop")
        server.join(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
