"""Search relevance on a fixed corpus, on SQLite and PostgreSQL: inflected forms, irregular
plurals, ё and е, questions of which only some words match, words close together."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from service import create_app
from service.store.db import init_db
from service.store.models import db
from tests import relevance
from tests.conftest import Api, base_config, event_body, pg_base_url
from tests.test_search import search, titles

QUERIES = relevance.corpus()["queries"]


@pytest.fixture
def loaded(app: Flask, api: Api) -> Api:
    relevance.load(app, api.client)
    return api


@pytest.mark.parametrize("query", QUERIES, ids=[q["q"] for q in QUERIES])
def test_expected_hits(loaded: Api, query: dict[str, object]) -> None:
    answer = relevance.ask(loaded.client, query)
    expected, complete = query["expected"], query["complete"]
    assert isinstance(expected, list) and isinstance(complete, list)
    assert [t for t in expected if t not in answer.titles] == []
    marked = dict(zip(answer.titles, answer.partial, strict=True))
    # Entries with every word are not marked partial; the others are.
    assert [t for t in complete if marked[t]] == []
    assert [t for t in expected if t not in complete and not marked[t]] == []
    # Every word first, then the partial matches.
    assert answer.partial == sorted(answer.partial)


def test_words_close_together_rank_first(api: Api, omsk: str) -> None:
    far = "День начался рано. " + "Шли разные дела и встречи. " * 6 + "Вечером гуляли по городу."
    api.post("/api/v1/events", event_body(title="Далеко", summary=far, results=""), omsk)
    near = "Встреча жителей к Дню города на набережной."
    api.post("/api/v1/events", event_body(title="Рядом", summary=near, results=""), omsk)
    found = search(api, "день города")
    assert titles(found)[:2] == ["Рядом", "Далеко"]


@pytest.mark.skipif(not pg_base_url(), reason="needs TEST_DATABASE_URL (PostgreSQL)")
def test_both_databases_find_the_same(
    app: Flask, loaded: Api, database_url: str, tmp_path: Path
) -> None:
    """The same corpus on SQLite and PostgreSQL: the same hits, the same marks."""
    if not database_url.startswith("postgresql"):
        pytest.skip("run from the PostgreSQL parameter")
    other_path = tmp_path / "other"
    other_path.mkdir()
    sqlite = create_app(base_config(f"sqlite:///{other_path / 'relevance.sqlite3'}", other_path))
    with sqlite.app_context():
        init_db()
    relevance.load(sqlite, sqlite.test_client())
    try:
        for query in QUERIES:
            pg = relevance.ask(loaded.client, query)
            lite = relevance.ask(sqlite.test_client(), query)
            pairs = sorted(zip(pg.titles, pg.partial, strict=True))
            assert pairs == sorted(zip(lite.titles, lite.partial, strict=True)), query["q"]
    finally:
        with sqlite.app_context():
            db.session.remove()
            db.engine.dispose()
