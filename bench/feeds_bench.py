"""Feed serving: warm feed, 304 and the ceiling under gunicorn; cold render time.

On a generated data set of 1,000 entries in a temporary SQLite file, one
gunicorn sync worker on 127.0.0.1 serves the app; ``wrk`` (Debian package,
``make bench-tools``) measures requests per second for

- a warm 50-entry feed (``/feeds/all.atom``, whose head holds exactly 50),
- a 304 answer to ``If-None-Match`` for the same feed,
- the ceiling: the same bytes from a trivial Flask view in the same app and
  server (a bench-only blueprint, registered here, never in the product).

The cold render (read the log page, build, render with feedgen or the JSON
writer) is timed in-process: median of many runs. Targets: warm >= 0.8 x
ceiling, 304 >= 1.0 x ceiling, cold < 25 ms. Without ``wrk`` a Python client
(threads, one connection per request like wrk against a sync worker) is used.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response
from werkzeug.datastructures import MultiDict

from tests.waiting import free_port

FEED = "/feeds/all.atom"
CEILING = "/bench/ceiling"
ENTRIES = 1000
DURATION = 3
ROUNDS = 5
CONNECTIONS = 2
COLD_RUNS = 31
DB_ENV = "FEEDS_BENCH_DATABASE_URL"


def _config(database_url: str) -> dict[str, Any]:
    return {
        "DATABASE_URL": database_url,
        "BASE_URL": "http://127.0.0.1:5000",
        "FEED_AUTHORITY": "bench.example",
        "SECRET_KEY": "bench",
    }


def bench_app() -> Flask:
    """The app gunicorn serves: the product plus a bench-only ceiling view."""
    from service import create_app

    app = create_app(_config(os.environ[DB_ENV]))
    same: dict[str, Any] = {}
    ceiling = Blueprint("bench_ceiling", __name__)

    @ceiling.get(CEILING)
    def ceiling_view() -> Response:
        return Response(same["body"], content_type=same["type"])

    app.register_blueprint(ceiling)
    answer = app.test_client().get(FEED)
    assert answer.status_code == 200
    same.update(body=answer.data, type=answer.content_type)
    return app


def _generate(database_url: str) -> None:
    from service import create_app
    from service.store.db import init_db
    from service.store.models import db
    from tests.feedcheck import generate_entries

    app = create_app(_config(database_url))
    with app.app_context():
        init_db()
        generate_entries(ENTRIES)
        db.session.remove()
        db.engine.dispose()


def _cold_render_ms(database_url: str) -> dict[str, tuple[float, float]]:
    """Median wall and CPU time of an uncached 50-entry render: log read, build, serialise.

    (The CPU time tells what the render costs when other processes share the machine.)
    """
    from service import create_app
    from service.entries import feedlog as history
    from service.http import feeds as feedviews
    from service.store.models import db

    app = create_app(_config(database_url))
    figures: dict[str, tuple[float, float]] = {}
    with app.test_request_context():
        for fmt in ("atom", "json"):
            req = feedviews.parse_request("all", None, fmt, MultiDict())
            state = history.log_state(req.query)
            body, _ = feedviews.render(req, state)
            assert body.count(b"<entry>" if fmt == "atom" else b'"_asdg":{"id"') == 50
            wall, cpu = [], []
            for _ in range(COLD_RUNS):
                db.session.expire_all()
                start, start_cpu = time.perf_counter(), time.process_time()
                feedviews.render(req, history.log_state(req.query))
                wall.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            figures[fmt] = (statistics.median(wall), statistics.median(cpu))
        db.session.remove()
        db.engine.dispose()
    return figures


def _wait_until_up(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            with urllib.request.urlopen(base + CEILING, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _pin(cpu: int) -> list[str]:
    """``taskset`` prefix: server and load generator on CPUs of their own, when there are two."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)]
    return []


def _wrk(url: str, headers: dict[str, str]) -> float:
    command = [*_pin(0), "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=DURATION + 30
    ).stdout
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"errors from {url}:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    assert match, out
    return float(match.group(1))


def _python_client(url: str, headers: dict[str, str]) -> float:
    """Fallback load generator: CONNECTIONS threads for DURATION seconds."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    counts = [0] * CONNECTIONS
    stop = time.monotonic() + DURATION

    def run(slot: int) -> None:
        while time.monotonic() < stop:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            conn.request("GET", parts.path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            conn.close()
            assert answer.status in (200, 304)
            counts[slot] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / DURATION


def _measure(base: str) -> dict[str, float]:
    load: Callable[[str, dict[str, str]], float] = _wrk if shutil.which("wrk") else _python_client
    with urllib.request.urlopen(base + FEED) as answer:
        etag = answer.headers["ETag"]
        feed_bytes = answer.read()
    with urllib.request.urlopen(base + CEILING) as answer:
        assert answer.read() == feed_bytes, "the ceiling serves the same bytes"
    cases = {"ceiling": (CEILING, {}), "warm": (FEED, {}), "304": (FEED, {"If-None-Match": etag})}
    for path, _ in cases.values():  # warm up
        with urllib.request.urlopen(base + path) as answer:
            answer.read()
    # Interleaved short rounds, best of each: other load on the machine only
    # ever slows a run down, so the best run is the least disturbed one.
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, (path, headers) in cases.items():
            results[name].append(load(base + path, headers))
    figures = {name: max(values) for name, values in results.items()}
    figures["bytes"] = len(feed_bytes)
    figures["tool_wrk"] = 1.0 if load is _wrk else 0.0
    return figures


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    with tempfile.TemporaryDirectory(prefix="feeds-bench-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        started = time.perf_counter()
        _generate(database_url)
        print(f"data set: {ENTRIES} entries in {time.perf_counter() - started:.1f} s", flush=True)
        cold = _cold_render_ms(database_url)
        port = free_port()
        env = {**os.environ, DB_ENV: database_url, "PYTHONPATH": str(root)}
        process = subprocess.Popen(
            [
                *_pin(1),
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
                "bench.feeds_bench:bench_app()",
            ],
            cwd=root,
            env=env,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, process)
            figures = _measure(base)
        finally:
            process.terminate()
            process.wait(timeout=30)
    tool = "wrk" if figures["tool_wrk"] else "python client"
    ceiling = figures["ceiling"]
    warm_ratio, nm_ratio = figures["warm"] / ceiling, figures["304"] / ceiling
    pinned = " (server and load generator pinned to CPUs of their own)" if _pin(0) else ""
    print(
        f"load generator: {tool}, {CONNECTIONS} connections, best of {ROUNDS} runs of "
        f"{DURATION} s; gunicorn 1 sync worker{pinned}"
    )
    print(f"feed {FEED}: 50 entries, {figures['bytes']:.0f} bytes")
    print(f"ceiling (same bytes, trivial view): {ceiling:8.0f} req/s")
    print(
        f"warm feed:                          {figures['warm']:8.0f} req/s  "
        f"= {warm_ratio:.2f} x ceiling (target >= 0.80) {_ok(warm_ratio >= 0.8)}"
    )
    print(
        f"304 Not Modified:                   {figures['304']:8.0f} req/s  "
        f"= {nm_ratio:.2f} x ceiling (target >= 1.00) {_ok(nm_ratio >= 1.0)}"
    )
    for fmt, (wall, cpu) in cold.items():
        print(
            f"cold 50-entry render ({fmt}, median of {COLD_RUNS}): {wall:6.1f} ms "
            f"(CPU {cpu:.1f} ms; target < 25 ms) {_ok(wall < 25)}"
        )


def _ok(passed: bool) -> str:
    return "ok" if passed else "MISSED"


if __name__ == "__main__":
    main()
