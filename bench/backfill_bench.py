"""Backfill benchmark: ``mirror poll`` over a long RFC 5005 history, and admin writes meanwhile.

A feed server (a thread of this process) serves a history of
``BENCH_BACKFILL_ENTRIES`` entries (default 60,000; plain Atom news of 2-3.6 KB
of Russian HTML each, :mod:`bench.corpus`) as a head document of 50 and
archive pages of 50 linked by ``prev-archive``. ``flask mirror poll`` runs as
a child process into a fresh SQLite database and reads the whole history;
meanwhile this process writes practice notes through the API of the same
database, one after another. Figures: the poll's wall time and peak RSS (the
child's ``ru_maxrss``), the admin writes made, failed and their slowest
answer (a write waits at most as long as the poll's longest write
transaction). Targets: peak RSS < 150 MB, 0 failed writes.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bench.corpus import T0, _entry

ENTRIES = int(os.environ.get("BENCH_BACKFILL_ENTRIES", 60_000))
PAGE = 50
BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def page_document(base: str, page: int, pages: int) -> bytes:
    """Archive page ``page`` (0 is the oldest; ``pages - 1`` is the head), newest entry first."""
    url = f"{base}/head.atom" if page == pages - 1 else f"{base}/page{page}.atom"
    first = page * PAGE
    bodies = [_entry(0, n, 0) for n in reversed(range(first, min(first + PAGE, ENTRIES)))]
    updated = T0 + timedelta(minutes=first + PAGE)
    links = f'<link rel="self" href="{escape(url)}"/>'
    if page > 0:
        links += f'<link rel="prev-archive" href="{base}/page{page - 1}.atom"/>'
    if page < pages - 1:
        links += "<fh:archive/>"
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:fh="http://purl.org/syndication/history/1.0" xml:lang="ru">'
        f"<id>{base}/head.atom</id><title>Новости города</title>"
        f"<updated>{updated.isoformat()}</updated>{links}"
        '<link rel="alternate" type="text/html" href="https://city0.example/"/>'
    )
    return (head + "".join(bodies) + "</feed>").encode()


def serve(pages: int) -> Any:
    from tests.feedserver import FeedServer, Static, serve_static

    server = FeedServer()
    base = server.url("")

    def handler(h: Any) -> None:
        name = h.path.split("?")[0].rsplit("/", 1)[-1]
        number = pages - 1 if name == "head.atom" else int(name[4:].split(".")[0])
        serve_static(h, Static(page_document(base, number, pages)))

    server.handle("/head.atom", handler)
    for page in range(pages - 1):
        server.handle(f"/page{page}.atom", handler)
    return server


def main() -> None:
    from service import create_app
    from service.accounts import create_token
    from service.cities import add_city
    from service.store.db import init_db
    from service.store.models import Subscription, db
    from tests.conftest import practice_body

    pages = -(-ENTRIES // PAGE)
    server = serve(pages)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'mirror.sqlite3'}"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True})
        with app.app_context():
            init_db()
            token = create_token(add_city("omsk", "Омск"), "bench")[1]
            db.session.add(Subscription(url=server.url("/head.atom")))
            db.session.commit()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "MIRROR_ALLOW_PRIVATE_ADDRESSES": "1",
            "MIRROR_MAX_ARCHIVE_PAGES": str(pages + 10),
            "MIRROR_TIMEOUT": "60",
            "WEBSUB_SUBSCRIBE": "0",
        }
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        started = time.monotonic()
        child = subprocess.Popen(
            [str(BIN / "flask"), "--app", "wsgi", "mirror", "poll", "--json"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        writes, failed, slowest = 0, 0, 0.0
        while child.poll() is None:
            before = time.monotonic()
            answer = client.post(
                "/api/v1/practices", json=practice_body(title=f"Запись {writes}"), headers=headers
            )
            slowest = max(slowest, time.monotonic() - before)
            writes += 1
            failed += answer.status_code != 201
            time.sleep(0.05)
        output = child.stdout.read() if child.stdout else ""
        seconds = time.monotonic() - started
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    server.close()
    print(f"backfill of {ENTRIES} entries ({pages} documents): {seconds:.1f} s")
    print(f"  mirror poll: {output.strip().splitlines()[-1] if output.strip() else '(no output)'}")
    print(f"  peak RSS of mirror poll: {rss:.0f} MB (target < 150 MB)")
    print(
        f"  admin writes meanwhile: {writes}, failed: {failed} (target 0), "
        f"slowest answer {slowest:.2f} s"
    )
    if child.returncode != 0:
        print(output[-3000:])


if __name__ == "__main__":
    main()
