"""Migration 0010_lemma_search: the index rebuilt from lemmas, data kept, a working downgrade."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from service import create_app
from service.accounts import create_token
from service.cities import add_city
from service.store.db import MIGRATIONS, init_db
from service.store.models import db
from tests.conftest import base_config, event_body
from tests.test_db import _fresh_urls

REVISION = "0010_lemma_search"


def _old_index_finds(stem: str) -> int:
    """How many entries migration 0002's index finds for a Snowball stem."""
    if db.engine.dialect.name == "postgresql":
        query = "SELECT count(*) FROM entries WHERE search_vector @@ to_tsquery('russian', :w)"
    else:
        query = "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'search_text : ' || :w"
    return db.session.execute(text(query), {"w": stem}).scalar() or 0


def migrated(url: str, tmp_path: Path) -> tuple[Flask, FlaskClient, dict[str, str]]:
    """An app on a database at the newest migration, with Omsk; its client, an auth header."""
    app = create_app(base_config(url, tmp_path))
    with app.app_context():
        init_db()
        token = create_token(add_city("omsk", "Омск", "Омская область"), "t")[1]
        db.session.commit()
    return app, app.test_client(), {"Authorization": f"Bearer {token}"}


def test_downgrade_and_upgrade_keep_entries_and_their_index(tmp_path: Path) -> None:
    previous = ScriptDirectory(MIGRATIONS).get_revision(REVISION).down_revision
    assert isinstance(previous, str)
    for url in _fresh_urls(tmp_path):
        app, client, auth = migrated(url, tmp_path)
        for title in ("Празднование Дня города", "Дню города — концерт"):
            body = event_body(title=title, summary="Праздник.", results="", topics=["culture"])
            assert client.post("/api/v1/events", json=body, headers=auth).status_code == 201
        assert client.get("/api/v1/search", query_string={"q": "день города"}).json["total"] == 2
        with app.app_context():
            downgrade(directory=MIGRATIONS, revision=previous)
            assert db.session.execute(text("SELECT count(*) FROM entries")).scalar() == 2
            texts = db.session.scalars(text("SELECT search_text FROM entries")).all()
            assert all("|" not in t for t in texts)  # Snowball stems again, no topic tokens
            assert _old_index_finds("праздник") == 2
            db.session.commit()  # end the read: the upgrade alters the table
            upgrade(directory=MIGRATIONS, revision=REVISION)
            texts = db.session.scalars(text("SELECT search_text FROM entries")).all()
            assert all(" день город " in t and "ztculture" in t for t in texts)
            db.session.commit()
            init_db()  # the code searches the newest schema (0013 keeps 0010's words)
        found = client.get("/api/v1/search", query_string={"q": "дни города", "topic": "culture"})
        assert found.json["total"] == 2 and found.json["complete"] == 2
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
