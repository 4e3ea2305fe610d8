"""Storage benchmark: database bytes per entry against the size of the record itself.

Builds ``BENCH_STORAGE_ENTRIES`` (default 2,000) published entries through the
service functions in three cities (four in five practice notes with about
6,000 characters of Russian Markdown, the rest events with about 2,500), edits
one in ten and deletes one in fifty, so the change log holds versions and
tombstones as it does in use. Then it reports, for SQLite (a temporary file)
and, when ``TEST_DATABASE_URL`` names a PostgreSQL server, for PostgreSQL (a
scratch database), the database's bytes per live entry (tables and indexes,
from ``dbstat`` and ``pg_total_relation_size``) next to the mean size of a
record as UTF-8 JSON (the snapshot's fields without the rendered HTML).
Target: under 2x.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.corpus import publish

ENTRIES = int(os.environ.get("BENCH_STORAGE_ENTRIES", 2000))
TARGET = 2.0


def _config(database_url: str) -> dict[str, Any]:
    return {"DATABASE_URL": database_url, "FEED_AUTHORITY": "bench.example", "SECRET_KEY": "b"}


def build(database_url: str) -> tuple[Any, int, float]:
    """The app with the data set: (app, live entries, mean record bytes)."""
    from service import create_app
    from service.cities import add_city
    from service.entries.changelog import snapshot
    from service.store.db import init_db
    from service.store.models import Entry, db

    app = create_app(_config(database_url))
    with app.app_context():
        init_db()
        cities = [add_city(s, n, "Регион") for s, n in (("omsk", "Омск"), ("tomsk", "Томск"),
                                                        ("chita", "Чита"))]  # fmt: skip
        publish(cities, ENTRIES, random.Random(14), edit=10, delete=50)
        sizes = []
        for entry in db.session.scalars(db.select(Entry)):
            record = {k: v for k, v in snapshot(entry).items() if k != "content_html"}
            sizes.append(
                len(json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode())
            )
        db.session.remove()
    return app, len(sizes), sum(sizes) / len(sizes)


def sqlite_sizes(app: Any) -> dict[str, int]:
    from service.store.models import db

    with app.app_context(), db.engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = connection.exec_driver_sql("SELECT name, sum(pgsize) FROM dbstat GROUP BY name")
        return {name: int(size) for name, size in rows}


def pg_sizes(app: Any) -> dict[str, int]:
    from service.store.models import db

    with app.app_context(), db.engine.connect() as connection:
        connection.exec_driver_sql("VACUUM")  # cannot run in a transaction: autocommit below
        rows = connection.exec_driver_sql(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        return {name: int(size) for name, size in rows}


def report(label: str, sizes: dict[str, int], live: int, record: float) -> None:
    total = sum(sizes.values())
    ratio = total / live / record
    verdict = "met" if ratio < TARGET else "MISSED"
    print(
        f"  {label}: {total / live / 1024:6.1f} KiB per entry, the record {record / 1024:.1f} KiB "
        f"as UTF-8 JSON: {ratio:.2f}x (target < {TARGET:.0f}x: {verdict})",
        flush=True,
    )
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1])[:8]:
        print(f"      {name:<34} {size / live / 1024:7.2f} KiB per entry", flush=True)


def measure(label: str, url: str, sizes: Callable[[Any], dict[str, int]]) -> None:
    from service.store.models import db

    app, live, record = build(url)
    report(label, sizes(app), live, record)
    with app.app_context():
        db.engine.dispose()


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="storage-bench-"))
    print(f"{ENTRIES} entries (1 in 10 edited, 1 in 50 deleted):", flush=True)
    try:
        measure("SQLite", f"sqlite:///{tmp / 'storage.sqlite3'}", sqlite_sizes)
        if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
            from tests.dbutil import pg_database

            measure("PostgreSQL", pg_database("asdg_bench_storage"), _autocommit(pg_sizes))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _autocommit(sizes: Callable[[Any], dict[str, int]]) -> Callable[[Any], dict[str, int]]:
    def run(app: Any) -> dict[str, int]:
        from service.store.models import db

        with app.app_context():
            db.engine.update_execution_options(isolation_level="AUTOCOMMIT")
        return sizes(app)

    return run
