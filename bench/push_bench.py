"""Freshness across instances: a note posted on A, seen on B (API, search, network feed).

Two instances run as documented for production: each is gunicorn (the
``deploy/gunicorn.conf.py`` settings, two workers) and one ``mirror run``
worker, on its own database (SQLite files in a temporary directory, or
PostgreSQL databases when ``PUSH_BENCH_DATABASE_URL`` names a server). B
subscribes to A's ``/feeds/all.atom``; once B's push subscription at A's hub
is verified, ``PUSH_BENCH_POSTS`` (50) notes are posted to A's API one after
another, and for each the time until B shows it is measured three ways: in
B's API (``GET /api/v1/practices?q=<its unique word>``), in B's search
(``/api/v1/search``) and in B's network feed (``/feeds/network.json``).
Target: p95 under 2 s. Then a third instance C without push
(``WEBSUB_SUBSCRIBE=0``, ``MIRROR_INTERVAL=PUSH_BENCH_INTERVAL``, 10 s)
subscribes to A, and a few posts show that polling alone brings a note
within one poll interval.
"""

from __future__ import annotations

import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.waiting import free_port, wait_for

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTS = int(os.environ.get("PUSH_BENCH_POSTS", "50"))
INTERVAL = float(os.environ.get("PUSH_BENCH_INTERVAL", "10"))
POLL_POSTS = int(os.environ.get("PUSH_BENCH_POLL_POSTS", "5"))
TARGET_P95 = 2.0
WORDS = ("обмен", "опыт", "практика", "город", "отдел", "совещание", "мероприятие")


def database_url(tmp: Path, name: str) -> str:
    server = os.environ.get("PUSH_BENCH_DATABASE_URL")
    if not server:
        return f"sqlite:///{tmp / f'{name}.sqlite3'}"
    import psycopg

    base = server.rsplit("/", 1)[0]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "push_bench_{name}"')
        conn.execute(f'CREATE DATABASE "push_bench_{name}"')
    return f"{base}/push_bench_{name}"


class Node:
    """One instance: gunicorn and a worker, as the systemd units run them."""

    def __init__(self, name: str, tmp: Path, **settings: str) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        metrics = tmp / f"{name}-metrics"
        metrics.mkdir(exist_ok=True)
        self.env = {
            **os.environ,
            "DATABASE_URL": settings.pop("DATABASE_URL", database_url(tmp, name)),
            "BASE_URL": self.url,
            "FEED_AUTHORITY": f"{name}.bench",
            "SECRET_KEY": secrets.token_hex(16),
            "MIRROR_ALLOW_PRIVATE_ADDRESSES": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            "INSTANCE_PATH": str(tmp / f"{name}-instance"),
            "WEB_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": "2",
            **settings,
        }
        self.tmp = tmp
        self.processes: list[subprocess.Popen[bytes]] = []

    def flask(self, *args: str) -> str:
        done = subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout.strip()

    def start(self) -> None:
        log = (self.tmp / f"{self.name}.log").open("ab")
        commands = [
            [str(BIN / "gunicorn"), "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--access-logfile", "/dev/null", "wsgi:app"],
            [str(BIN / "flask"), "--app", "wsgi", "mirror", "run"],
        ]  # fmt: skip
        for command in commands:
            self.processes.append(
                subprocess.Popen(
                    command, cwd=ROOT, env=self.env, stdout=log, stderr=log, start_new_session=True
                )
            )
        wait_for(lambda: httpx.get(f"{self.url}/healthz").status_code == 200, 60, "the web server")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.processes.clear()


def note(word: str) -> dict[str, Any]:
    return {
        "title": f"Практика {word}",
        "area": "Организационная деятельность",
        "year": 2024,
        "summary": f"Отдел провёл совещание {word} и обмен опытом с другими городами.",
        "achievements": "Проведены мероприятия.",
        "plans": "Продолжить работу.",
        "assistance": "Обмен опытом.",
        "topics": ["organization-hr"],
        "status": "published",
    }


def seen(client: httpx.Client, word: str, uid: str) -> dict[str, bool]:
    api = client.get("/api/v1/practices", params={"q": word, "origin": "mirror"}).json()
    found = client.get("/api/v1/search", params={"q": word}).json()
    network = client.get("/feeds/network.json").json()
    return {
        "api": any(item["id"] == uid for item in api["items"]),
        "search": any(item["entry"]["id"] == uid for item in found["items"]),
        "feed": any(item.get("id") == uid for item in network["items"]),
    }


def measure(a: Node, b: Node, token: str, posts: int, timeout: float) -> dict[str, list[float]]:
    """Post ``posts`` notes on A; seconds until each shows in B's API, search and feed."""
    out: dict[str, list[float]] = {"api": [], "search": [], "feed": []}
    with (
        httpx.Client(base_url=a.url, timeout=10) as to_a,
        httpx.Client(base_url=b.url, timeout=10) as to_b,
    ):
        for i in range(posts):
            word = f"бенч{secrets.token_hex(4)}"
            started = time.monotonic()
            answer = to_a.post(
                "/api/v1/practices",
                json=note(word),
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            uid = answer.json()["id"]
            pending = set(out)
            while pending:
                if time.monotonic() - started > timeout:
                    raise RuntimeError(f"post {i}: not on B after {timeout} s ({pending})")
                state = seen(to_b, word, uid)
                now = time.monotonic() - started
                for where in list(pending):
                    if state[where]:
                        out[where].append(now)
                        pending.discard(where)
                time.sleep(0.02)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def report(title: str, figures: dict[str, list[float]]) -> float:
    print(title)
    worst = 0.0
    for where, values in figures.items():
        median, high = statistics.median(values), p95(values)
        worst = max(worst, high)
        print(
            f"  {where:7s} n={len(values):3d}  median {median:.3f} s  p95 {high:.3f} s  "
            f"max {max(values):.3f} s"
        )
    return worst


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="push-bench-") as name:
        tmp = Path(name)
        a = Node("a", tmp)
        b = Node("b", tmp, MIRROR_INTERVAL="3600")
        for node in (a, b):
            node.flask("init-db")
        a.flask("city", "add", "irkutsk", "Иркутск", "--region", "Иркутская область")
        writer = a.flask("token", "create", "--city", "irkutsk")
        nodes = [a, b]
        a.start()
        b.start()
        try:
            b.flask("subscribe", a.url + "/feeds/all.atom")
            wait_for(lambda: push_active(b), 60, "B's push subscription at A's hub", step=0.2)
            figures = measure(a, b, writer, POSTS, timeout=30)
            worst = report(f"push: {POSTS} notes posted on A, seen on B", figures)
            verdict = "met" if worst < TARGET_P95 else "NOT met"
            print(f"  target p95 < {TARGET_P95:g} s: {verdict}")
            b.stop()
            c = Node("c", tmp, WEBSUB_SUBSCRIBE="0", MIRROR_INTERVAL=f"{INTERVAL:g}")
            c.flask("init-db")
            c.start()
            nodes.append(c)
            c.flask("subscribe", a.url + "/feeds/all.atom")
            wait_for(lambda: mirrored(c) >= POSTS, 60, "C's first poll", step=0.5)
            figures = measure(a, c, writer, POLL_POSTS, timeout=3 * INTERVAL)
            worst = report(f"push off, MIRROR_INTERVAL={INTERVAL:g} s: {POLL_POSTS} notes", figures)
            bound = INTERVAL * 1.1 + 1  # the interval has +-10% jitter; a poll takes a moment
            verdict = "met" if worst <= bound else "NOT met"
            print(f"  within one poll interval (<= {bound:g} s): {verdict}")
        finally:
            for node in nodes:
                node.stop()


def mirrored(node: Node) -> int:
    answer = httpx.get(f"{node.url}/api/v1/practices", params={"origin": "mirror"})
    return int(answer.json()["total"])


def push_active(b: Node) -> bool:
    out = b.flask("subscriptions")
    return "push: работает" in out


if __name__ == "__main__":
    main()
