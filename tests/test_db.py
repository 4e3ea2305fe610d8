"""The database layer: SQLite settings, migrations that keep data, UTC timestamps."""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from service import create_app
from service.store.db import MIGRATIONS, init_db
from service.store.models import Entry, db
from tests.conftest import Api, base_config, practice_body, worker_name
from tests.dbutil import pg_base_url, pg_database


def test_sqlite_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    app = create_app(base_config(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path))
    with app.app_context():
        init_db()
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://user@db.example/asdg")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://user@db.example/asdg"
    monkeypatch.delenv("DATABASE_URL")
    default = create_app({"TESTING": True}).config["SQLALCHEMY_DATABASE_URI"]
    assert default.startswith("sqlite:///") and default.endswith("instance/asdg.sqlite3")


def test_timestamps_are_aware_utc(api: Api, app: Flask) -> None:
    api.city()
    created = api.post("/api/v1/practices", practice_body(), api.token()).json
    with app.app_context():
        entry = db.session.scalar(select(Entry).where(Entry.uid == created["id"]))
        assert entry is not None
        for value in (entry.created, entry.updated, entry.published):
            assert value is not None and value.tzinfo is not None
            assert value.utcoffset() == UTC.utcoffset(None)


def _fresh_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///{tmp_path / 'migrate.sqlite3'}"]
    if pg_base_url():
        urls.append(pg_database(f"asdg_migrate_{worker_name()}"))
    return urls


def test_upgrade_from_first_revision_keeps_data(tmp_path: Path) -> None:
    for url in _fresh_urls(tmp_path):
        app = create_app(base_config(url, tmp_path))
        with app.app_context():
            upgrade(directory=MIGRATIONS, revision="0001")
            db.session.execute(
                text(
                    "INSERT INTO cities (slug, name, local, created) "
                    "VALUES ('omsk', 'Омск', true, CURRENT_TIMESTAMP)"
                )
            )
            db.session.commit()
            init_db()  # upgrade to head, seed topics
            assert db.session.execute(text("SELECT name FROM cities")).scalar() == "Омск"
            assert "entries" in inspect(db.engine).get_table_names()
            client = app.test_client()
            assert client.get("/api/v1/cities").json[0]["slug"] == "omsk"
            init_db()  # running it again is harmless
            assert len(client.get("/api/v1/topics").json) == 22
            db.session.remove()
            db.engine.dispose()


def test_migrations_downgrade_to_base_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'down.sqlite3'}"
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        init_db()
        downgrade(directory=MIGRATIONS, revision="base")
        assert "entries" not in inspect(db.engine).get_table_names()
        init_db()
        assert "entries" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def _security_down_revision() -> str:
    """The revision before the security migration (read from the file, not hard-coded)."""
    path = Path(MIGRATIONS) / "versions" / "0008_security.py"
    found = re.search(r'^down_revision = "([^"]+)"', path.read_text(), re.MULTILINE)
    assert found is not None
    return found.group(1)


def test_security_migration_keeps_entries_topics_search_and_never_reuses_numbers(
    tmp_path: Path,
) -> None:
    for url in _fresh_urls(tmp_path):
        app = create_app(base_config(url, tmp_path))
        with app.app_context():
            # The data is made at head (the app's models are the head's), then the schema goes
            # back to before the security migration and up again: the migration is what keeps
            # the data and starts the counter after the highest number ever used.
            init_db()
            api = Api(app, app.test_client())
            api.city()
            token = api.token()
            made = [
                api.post("/api/v1/practices", practice_body(title=f"Фестиваль {n}"), token).json
                for n in range(4)
            ]
            assert api.delete(f"/api/v1/practices/{made[3]['local_id']}", token).status_code == 204
            assert api.delete(f"/api/v1/practices/{made[1]['local_id']}", token).status_code == 204
            db.session.remove()
            downgrade(directory=MIGRATIONS, revision=_security_down_revision())
            db.session.remove()
            init_db()  # the security migration and whatever follows
            kept = api.get(f"/api/v1/practices/{made[0]['local_id']}").json
            assert kept["title"] == "Фестиваль 0" and kept["topics"] == made[0]["topics"]
            assert api.get("/api/v1/search", q="фестиваль").json["total"] == 2  # the index too
            new = api.post("/api/v1/practices", practice_body(title="Новая запись"), token).json
            assert new["local_id"] > made[3]["local_id"]  # not even the last deleted number
            assert api.get("/api/v1/search", q="новая").json["total"] == 1
            db.session.remove()
            downgrade(directory=MIGRATIONS, revision=_security_down_revision())
            count = db.session.execute(text("SELECT count(*) FROM entry_topics")).scalar()
            assert count == 3 * len(made[0]["topics"])
            db.session.remove()
            init_db()
            assert api.get("/api/v1/practices").json["total"] == 3
            db.session.remove()
            db.engine.dispose()
