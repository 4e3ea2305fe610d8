"""Compact change-log storage: migrations 0005 (zlib) and 0012 (zstd with a dictionary)
convert old rows and back, snapshots stay small, feeds read old and new rows alike, on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from service import create_app
from service.store import snapshots
from service.store.db import MIGRATIONS, init_db
from service.store.models import EntryChange, db
from tests.conftest import BACKENDS, Api, base_config, practice_body, worker_name
from tests.dbutil import pg_database

TEXT = "Организационная деятельность Администрации строится на основе планирования. " * 40


def _old_snapshot(n: int) -> dict[str, Any]:
    """A snapshot as the service wrote them before 0005 (fields and rendered HTML)."""
    return {
        "id": f"tag:test.example,2024-01-01:practice/{n:016x}",
        "kind": "practice",
        "title": f"Практика «{n}»",
        "city": {
            "slug": "omsk",
            "name": "Омск",
            "region": None,
            "latitude": 54.98,
            "longitude": 73.32,
        },
        "topics": ["culture"],
        "tags": ["онлайн"],
        "year": 2020,
        "summary": TEXT,
        "status": "published",
        "published": "2024-01-01T00:00:00+00:00",
        "updated": f"2024-01-01T00:00:{n:02d}+00:00",
        "url": f"http://test.example/practices/{n}",
        "origin": "local",
        "content_html": f"<p>{TEXT}</p>",
    }


@pytest.fixture(params=BACKENDS)
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.sqlite3'}"
    return pg_database(f"asdg_storage_{worker_name()}")


def test_migration_converts_existing_snapshots(fresh_url: str, tmp_path: Path) -> None:
    app = create_app(base_config(fresh_url, tmp_path))
    old = [_old_snapshot(n) for n in range(1, 4)]
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0004")
        db.session.execute(
            text(
                "INSERT INTO cities (slug, name, local, created) "
                "VALUES ('omsk', 'Омск', true, CURRENT_TIMESTAMP)"
            )
        )
        for snap in old:  # as the old code stored them: JSON text with \\u escapes
            db.session.execute(
                text(
                    "INSERT INTO entry_changes (entry_uid, kind, city_id, origin, topic_codes, "
                    "deleted, at, data) VALUES (:uid, 'practice', 1, 'local', ',culture,', "
                    "false, CURRENT_TIMESTAMP, :data)"
                ),
                {"uid": snap["id"], "data": json.dumps(snap)},
            )
        db.session.commit()
        init_db()  # to head: 0005 rewrites the rows
        rows = db.session.scalars(db.select(EntryChange).order_by(EntryChange.seq)).all()
        assert [row.data for row in rows] == old
        _assert_compact(len(json.dumps(old[0], ensure_ascii=False).encode()))
        feed = json.loads(app.test_client().get("/feeds/all.json").data)
        assert [item["title"] for item in feed["items"]] == ["Практика «3»", "Практика «2»",
                                                             "Практика «1»"]  # fmt: skip
        # Down and up again keeps every snapshot.
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0004")
        stored = db.session.execute(text("SELECT data FROM entry_changes ORDER BY seq")).scalars()
        assert [value if isinstance(value, dict) else json.loads(value) for value in stored] == old
        db.session.remove()
        init_db()
        assert [row.data for row in db.session.scalars(db.select(EntryChange))] == old
        db.session.remove()
        db.engine.dispose()


def _assert_compact(utf8_json_size: int) -> None:
    """The first row is stored in a fraction of its UTF-8 JSON size, without \\u escapes."""
    raw = db.session.execute(text("SELECT data FROM entry_changes ORDER BY seq")).scalar()
    assert isinstance(raw, bytes) and b"\\u04" not in raw
    assert raw[:1] == bytes((snapshots.CURRENT,))  # zstd with the shipped dictionary
    assert b"\\u04" not in zstandard.ZstdDecompressor(
        dict_data=zstandard.ZstdCompressionDict(
            snapshots.dictionary_path(snapshots.CURRENT).read_bytes(),
            dict_type=zstandard.DICT_TYPE_RAWCONTENT,
        )
    ).decompress(raw[1:])
    assert len(raw) < utf8_json_size / 3, (len(raw), utf8_json_size)
    if db.engine.dialect.name == "postgresql":  # stored out of line, not compressed again
        stored = db.session.execute(
            text("SELECT pg_column_size(data), pg_column_compression(data) FROM entry_changes")
        ).first()
        assert stored is not None and stored[1] is None and stored[0] <= len(raw) + 4


def test_new_snapshots_are_compact(app: Flask, api: Api) -> None:
    api.city("omsk", "Омск")
    body = practice_body(summary=TEXT, achievements=TEXT.upper(), plans="Планы «на год».")
    assert api.post("/api/v1/practices", body, api.token("omsk")).status_code == 201
    with app.app_context():
        row = db.session.scalars(db.select(EntryChange)).one()
        assert row.data["summary"] == TEXT and "<h3>" in row.data["content_html"]
        record = {k: v for k, v in row.data.items() if k != "content_html"}
        _assert_compact(len(json.dumps(record, ensure_ascii=False).encode()))


def _revision_before(name: str) -> str:
    """The revision a migration file builds on (its ``down_revision``)."""
    path = next(Path(MIGRATIONS, "versions").glob(f"{name}*.py"))
    namespace: dict[str, Any] = {}
    for line in path.read_text().splitlines():
        if line.startswith(("revision =", "down_revision =")):
            exec(line, namespace)
    return str(namespace["down_revision"])


def test_migration_0012_rewrites_zlib_rows_and_back(fresh_url: str, tmp_path: Path) -> None:
    app = create_app(base_config(fresh_url, tmp_path))
    before = _revision_before("0012_lean_snapshots")
    old = [_old_snapshot(n) for n in range(1, 4)]
    zlib_rows = [zlib.compress(snapshots.dumps(snap), 6) for snap in old]
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=before)
        db.session.execute(
            text(
                "INSERT INTO cities (slug, name, local, created) "
                "VALUES ('omsk', 'Омск', true, CURRENT_TIMESTAMP)"
            )
        )
        for snap, data in zip(old, zlib_rows, strict=True):  # as migration 0005 stored them
            db.session.execute(
                text(
                    "INSERT INTO entry_changes (entry_uid, kind, city_id, origin, topic_codes, "
                    "deleted, at, data) VALUES (:uid, 'practice', 1, 'local', ',culture,', "
                    "false, CURRENT_TIMESTAMP, :data)"
                ),
                {"uid": snap["id"], "data": data},
            )
        db.session.commit()
        init_db()
        raw = db.session.execute(text("SELECT data FROM entry_changes ORDER BY seq")).scalars()
        stored = [bytes(value) for value in raw]
        assert all(value[:1] == bytes((snapshots.CURRENT,)) for value in stored)
        assert [snapshots.unpack(value) for value in stored] == old
        feed = json.loads(app.test_client().get("/feeds/all.json").data)
        assert [item["title"] for item in feed["items"]] == ["Практика «3»", "Практика «2»",
                                                             "Практика «1»"]  # fmt: skip
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision=before)
        raw = db.session.execute(text("SELECT data FROM entry_changes ORDER BY seq")).scalars()
        back = [bytes(value) for value in raw]
        assert [json.loads(zlib.decompress(value)) for value in back] == old
        db.session.remove()
        db.engine.dispose()
