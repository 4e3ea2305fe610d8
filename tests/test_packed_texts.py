"""Migration 0013_packed_texts: compact rows, the same search.

PostgreSQL stores no positional ``tsvector`` (ranking makes it from the
search text), only ``search_words``, which the GIN index reads; SQLite
stores the search text and a record's long texts zstd-compressed, and its
FTS5 triggers unpack them with a function every connection of the service
has. Search keeps finding by lemma, with filters, through edits, deletions
and the migration both ways; a connection without the function cannot write
an entry.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import downgrade
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service.store.db import MIGRATIONS, init_db
from service.store.models import Entry, db
from tests.conftest import Api, event_body, practice_body
from tests.test_db import _fresh_urls
from tests.test_search_migration import migrated

LONG = "Дети и родители провели День города в парке. " * 60


def search(client: Any, q: str, **filters: Any) -> dict[str, Any]:
    answer = client.get("/api/v1/search", query_string={"q": q, **filters})
    assert answer.status_code == 200, answer.data
    return answer.json  # type: ignore[no-any-return]


def found(client: Any, q: str, **filters: Any) -> list[tuple[str, bool]]:
    return [(i["entry"]["title"], i["partial"]) for i in search(client, q, **filters)["items"]]


def _stored_types() -> set[str]:
    """SQLite: the storage classes of the packed columns of every entry."""
    rows = db.session.execute(
        text("SELECT typeof(search_text), typeof(summary), typeof(achievements) FROM entries")
    )
    return {t for row in rows for t in row} - {"null"}


def _vector_columns() -> list[str]:
    """PostgreSQL: the ``tsvector`` columns of ``entries``."""
    query = (
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'entries' AND data_type = 'tsvector'"
    )
    return list(db.session.scalars(text(query)))


def _fts_consistent() -> None:
    """SQLite: FTS5's own check of the index (fails on a corrupt one)."""
    db.session.execute(
        text("INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 0)")
    )


def test_rows_are_compact_and_search_follows_writes(app: Flask, api: Api, omsk: str) -> None:
    body = practice_body(title="Праздник двора", summary=LONG, achievements=LONG.upper())
    created = api.post("/api/v1/practices", body, omsk).json
    api.post("/api/v1/events", event_body(title="Субботник", summary="Уборка сквера."), omsk)
    with app.app_context():
        entry = db.session.scalar(db.select(Entry).where(Entry.title == "Праздник двора"))
        assert entry is not None and entry.summary == LONG  # reads back as text
        if db.engine.dialect.name == "sqlite":
            assert _stored_types() == {"blob"}
            size = db.session.scalar(text("SELECT max(length(summary)) FROM entries"))
            assert size is not None and size < len(LONG.encode()) / 10
            _fts_consistent()
        else:
            assert _vector_columns() == []  # no stored vector: word numbers (0014_word_ids)
    assert found(api.client, "ребёнок день городов") == [
        ("Праздник двора", False),
        ("Субботник", True),  # only "города" (results, city)
    ]
    assert found(api.client, "ребёнок", kind="practice", topic="culture") == [
        ("Праздник двора", False)
    ]
    assert search(api.client, "ребёнок", kind="event")["total"] == 0
    assert set(found(api.client, "сквер уборка праздник")) == {
        ("Субботник", True),
        ("Праздник двора", True),
    }
    path = f"/api/v1/practices/{created['id']}"
    assert api.patch(path, {"summary": "Озеленение скверов."}, omsk).status_code == 200
    assert search(api.client, "парк")["total"] == 1  # still in the achievements
    assert api.patch(path, {"achievements": "Высажены липы."}, omsk).status_code == 200
    assert search(api.client, "парк")["total"] == 0
    assert search(api.client, "липа сквер")["complete"] == 1
    assert api.delete(path, omsk).status_code == 204
    assert search(api.client, "липа")["total"] == 0
    assert found(api.client, "сквер") == [("Субботник", False)]
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _fts_consistent()


def test_a_connection_without_the_function_cannot_write(
    app: Flask, api: Api, omsk: str, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's triggers")
    api.post("/api/v1/practices", practice_body(summary="Ремонт дорог."), omsk)
    raw = sqlite3.connect(str(make_url(database_url).database))
    with pytest.raises(sqlite3.OperationalError, match="asdg_unpack"):
        raw.execute("UPDATE entries SET status = 'draft'")
    with pytest.raises(sqlite3.OperationalError, match="asdg_unpack"):
        raw.execute("DELETE FROM entries")
    raw.close()
    assert search(api.client, "дорога", status="published")["total"] == 1
    with app.app_context():
        _fts_consistent()


def test_downgrade_and_upgrade_keep_texts_and_hits(tmp_path: Path) -> None:
    queries = ["день города", "ребёнок праздник", "субботник сквер", "липа"]
    for url in _fresh_urls(tmp_path):
        app, client, auth = migrated(url, tmp_path)
        bodies = [
            practice_body(title="Праздник двора", summary=LONG, body=None),
            event_body(title="Субботник", summary="Уборка сквера.", results="Высажены липы."),
        ]
        for path, body in zip(("practices", "events"), bodies, strict=True):
            assert client.post(f"/api/v1/{path}", json=body, headers=auth).status_code == 201
        hits = [found(client, q) for q in queries]
        assert hits[0] and hits[3]
        with app.app_context():
            texts = db.session.scalars(db.select(Entry.summary).order_by(Entry.id)).all()
            db.session.commit()
            downgrade(directory=MIGRATIONS, revision="0010_lemma_search")
            if db.engine.dialect.name == "sqlite":
                assert _stored_types() == {"text"}
                stored = db.session.scalars(text("SELECT summary FROM entries ORDER BY id"))
                assert list(stored) == texts
                match = (
                    "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH 'search_text : липа'"
                )
                assert db.session.scalar(text(match)) == 1
            else:
                assert sorted(_vector_columns()) == ["search_vector", "search_words"]
                match = "SELECT count(*) FROM entries WHERE search_words @@ 'липа'::tsquery"
                assert db.session.scalar(text(match)) == 1
            db.session.commit()
            init_db()
        assert [found(client, q) for q in queries] == hits
        # The upgraded index follows writes as a new one does.
        entry_id = client.get("/api/v1/events").json["items"][0]["id"]
        patched = client.patch(
            f"/api/v1/events/{entry_id}", json={"results": "Покрашены скамейки."}, headers=auth
        )
        assert patched.status_code == 200
        assert search(client, "липа")["total"] == 0
        assert search(client, "скамейка")["total"] == 1
        with app.app_context():
            if db.engine.dialect.name == "sqlite":
                _fts_consistent()
            db.session.remove()
            db.engine.dispose()
