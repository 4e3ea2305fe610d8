"""Migration 0014_word_ids: PostgreSQL indexes the numbers of an entry's words.

``search_ids`` holds ``hashtext`` of each distinct lemma and filter lexeme,
follows every write (a generated column), and a search is one ``query_int``
over its GIN index. Two words with one number are found together, the real
match ranked first; downgrade and upgrade keep the hits.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import downgrade
from sqlalchemy import text

from service.entries.search import word_ids
from service.store.db import MIGRATIONS, init_db
from service.store.models import db
from tests.conftest import Api, event_body, practice_body
from tests.test_db import _fresh_urls
from tests.test_packed_texts import found, search
from tests.test_search_migration import migrated


@pytest.fixture
def postgresql(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's index")
    return database_url


def _numbers(entry_title: str) -> set[int]:
    query = "SELECT search_ids FROM entries WHERE title = :t"
    return set(db.session.scalar(text(query), {"t": entry_title}))


def _hashes(*lexemes: str) -> set[int]:
    return set(word_ids(lexemes).values())  # the numbers a query asks for


def test_the_row_holds_word_numbers_and_follows_writes(
    postgresql: str, app: Flask, api: Api, omsk: str
) -> None:
    created = api.post(
        "/api/v1/events", event_body(title="Субботник", summary="Уборка скверов."), omsk
    ).json
    with app.app_context():
        numbers = _numbers("Субботник")
        stored = db.session.scalar(text("SELECT search_ids FROM entries"))
        assert stored == sorted(set(stored))  # what query_int reads without sorting it
        assert _hashes("уборка", "сквер", "=zspublished", "=zkevent") <= numbers
        assert not _hashes("липа", "=zsdraft") & numbers
        db.session.execute(text("SET LOCAL enable_seqscan = off"))  # a table of one row
        plan = db.session.scalars(
            text(
                "EXPLAIN SELECT id FROM entries WHERE search_ids @@ "
                f"'{min(_hashes('сквер'))}'::query_int"
            )
        )
        assert "ix_entries_search_ids" in "\n".join(plan)
    path = f"/api/v1/events/{created['id']}"
    assert (
        api.patch(path, {"results": "Высажены липы.", "status": "draft"}, omsk).status_code == 200
    )
    with app.app_context():
        numbers = _numbers("Субботник")
        assert _hashes("липа", "=zsdraft") <= numbers
        assert not _hashes("=zspublished") & numbers
    assert search(api.client, "липа")["total"] == 0  # a draft: not for the public
    assert search(api.client, "липа", status="draft")["total"] == 0


def _two_numbers_with_one_hash() -> tuple[str, str]:
    """Two numbers (a word of digits is its own lemma) that ``hashtext`` maps to one value."""
    row = db.session.execute(
        text(
            "SELECT min(n::text), max(n::text) FROM generate_series(1000000, 1300000) n "
            "GROUP BY hashtext(n::text) HAVING count(*) > 1 LIMIT 1"
        )
    ).one()
    return row[0], row[1]


def test_words_sharing_a_number_rank_the_real_match_first(
    postgresql: str, app: Flask, api: Api, omsk: str
) -> None:
    with app.app_context():
        real, other = _two_numbers_with_one_hash()
    api.post("/api/v1/events", event_body(title="Другое", summary=f"Заявка {other}."), omsk)
    api.post("/api/v1/events", event_body(title="Нужное", summary=f"Заявка {real}."), omsk)
    api.post("/api/v1/events", event_body(title="Позднее", summary=f"Заявка {other}."), omsk)
    assert [t for t, _ in found(api.client, real)] == ["Нужное", "Позднее", "Другое"]


def test_downgrade_to_0013_and_back_keeps_hits(postgresql: str, tmp_path: Path) -> None:
    app, client, auth = migrated(_fresh_urls(tmp_path)[-1], tmp_path)
    bodies = {
        "practices": practice_body(title="Праздник двора", summary="Дети в парке."),
        "events": event_body(title="Субботник", summary="Уборка сквера."),
    }
    for path, body in bodies.items():
        assert client.post(f"/api/v1/{path}", json=body, headers=auth).status_code == 201
    queries = ["ребёнок парк", "сквер", "праздник уборка"]
    hits = [found(client, q) for q in queries]
    assert hits[0] == [("Праздник двора", False)]
    with app.app_context():
        db.session.commit()
        downgrade(directory=MIGRATIONS, revision="0013_packed_texts")
        columns = db.session.scalars(
            text("SELECT column_name FROM information_schema.columns WHERE table_name = 'entries'")
        ).all()
        assert "search_words" in columns and "search_ids" not in columns
        db.session.commit()
        init_db()
    assert [found(client, q) for q in queries] == hits
    kinds = {"kind": "practice"}
    assert found(client, "праздник уборка", **kinds) == [("Праздник двора", True)]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
