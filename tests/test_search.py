"""Full-text search with Russian morphology, on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask

from service.entries.search import SearchQuery, parse_query, snippet
from service.entries.service import refresh_search_text
from service.store.models import City, Entry, Topic, db
from tests.conftest import Api, event_body, practice_body


def add_mirrored(app: Flask, title: str, summary: str, **fields: Any) -> int:
    """A practice note as mirroring stores it: a remote city, origin and source."""
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.slug == "irkutsk"))
        if city is None:
            city = City(
                slug="irkutsk",
                name="Иркутск",
                region="Иркутская область",
                local=False,
                instance_url="http://irkutsk.example",
            )
            db.session.add(city)
            db.session.flush()
        now = datetime(2021, 3, 15, 10, 0, tzinfo=UTC)
        number = db.session.scalar(db.select(db.func.count(Entry.id))) + 1
        entry = Entry(
            uid=f"tag:irkutsk.example,2021-03-15:practice/{number}",
            kind="practice",
            city=city,
            city_id=city.id,
            title=title,
            summary=summary,
            area="Культура",
            year=2021,
            achievements="",
            plans="",
            assistance="",
            tags=[],
            status="published",
            origin="mirror",
            published=now,
            updated=now,
            link=f"http://irkutsk.example/practices/{number}",
            source_id="http://irkutsk.example/feeds/all.atom",
            source_title="Иркутск: практики и мероприятия",
            source_url="http://irkutsk.example/feeds/all.atom",
        )
        for name, value in fields.items():
            if name == "topics":
                value = [db.session.get(Topic, code) for code in value]
            setattr(entry, name, value)
        db.session.add(entry)
        refresh_search_text(entry)
        db.session.commit()
        return entry.id


def search(api: Api, q: str, **params: Any) -> dict[str, Any]:
    response = api.get("/api/v1/search", q=q, **params)
    assert response.status_code == 200, response.json
    return response.json


def titles(result: dict[str, Any]) -> list[str]:
    return [item["entry"]["title"] for item in result["items"]]


def test_inflected_queries_find_entries(api: Api, omsk: str) -> None:
    api.post("/api/v1/practices", practice_body(title="Организационная работа"), omsk)
    api.post("/api/v1/events", event_body(title="Открытие катка"), omsk)
    # "мероприятий" and "мероприятия" are in the texts; the query has another form.
    assert sorted(titles(search(api, "мероприятие"))) == [
        "Организационная работа",
        "Открытие катка",
    ]
    assert titles(search(api, "игры")) == ["Организационная работа"]  # "Дельфийские игры"
    assert titles(search(api, "дельфийских игр")) == ["Организационная работа"]
    assert titles(search(api, "трансляция")) == ["Открытие катка"]  # "Трансляции"
    assert titles(search(api, "открытия")) == ["Открытие катка"]
    assert search(api, "субботник")["total"] == 0
    # No entry has both words: both are partial matches, marked as such.
    partial = search(api, "игры трансляции")
    assert partial["total"] == 2 and partial["complete"] == 0
    assert [item["partial"] for item in partial["items"]] == [True, True]


def test_results_are_ranked_and_highlighted(api: Api, omsk: str) -> None:
    filler = " ".join(["Отчёт о работе отдела за год."] * 30)
    api.post(
        "/api/v1/practices",
        practice_body(title="Разное", summary=filler + " Один субботник.", achievements=filler),
        omsk,
    )
    api.post(
        "/api/v1/practices",
        practice_body(
            title="Субботники", summary="Субботник во дворах. Весенний субботник у школ."
        ),
        omsk,
    )
    result = search(api, "субботников")
    assert titles(result) == ["Субботники", "Разное"]
    best = result["items"][0]["snippet"]
    assert best.count("<mark>") == 2 and "<mark>Субботник</mark> во дворах" in best
    # The long text shows a window around the match, not its beginning.
    other = result["items"][1]["snippet"]
    assert other.startswith("… ") and "<mark>субботник</mark>" in other
    assert len(other) < 400


def test_snippets_escape_the_text() -> None:
    query = parse_query("скрипт")
    text = 'Скрипт <script>alert("x")</script> & **жирный** скрипта'
    html = str(snippet([text], query))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark>") == 2 and "&amp;" in html and "**" not in html


def test_snippet_window_holds_the_most_query_words() -> None:
    words = ["слово"] * 100
    words[10] = "парк"
    words[60], words[63] = "парков", "благоустройство"
    html = str(snippet([" ".join(words)], parse_query("парк благоустройства"), width=20))
    assert html.startswith("… ") and html.endswith(" …")
    assert html.count("<mark>") == 2 and "<mark>парков</mark>" in html
    assert "<mark>благоустройство</mark>" in html


def test_index_follows_edit_and_delete(api: Api, omsk: str) -> None:
    created = api.post("/api/v1/practices", practice_body(summary="Ремонт дорог."), omsk).json
    path = f"/api/v1/practices/{created['id']}"
    assert search(api, "дороги")["total"] == 1
    api.patch(path, {"summary": "Озеленение скверов."}, omsk)
    assert search(api, "дороги")["total"] == 0
    assert search(api, "сквер")["total"] == 1
    api.delete(path, omsk)
    assert search(api, "сквер")["total"] == 0


def test_mirrored_entries_and_the_origin_filter(app: Flask, api: Api, omsk: str) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    mirrored = add_mirrored(app, "Фестиваль в Иркутске", "Дельфийские игры на Байкале.")
    assert search(api, "игр")["total"] == 2
    only = search(api, "игр", origin="mirror")
    assert titles(only) == ["Фестиваль в Иркутске"]
    assert only["items"][0]["entry"]["source"]["title"] == "Иркутск: практики и мероприятия"
    assert titles(search(api, "игр", origin="local")) == [practice_body()["title"]]
    # A mirror update (a new version of the record) is indexed at once.
    with app.app_context():
        entry = db.session.get(Entry, mirrored)
        assert entry is not None
        entry.summary = "Ледовая скульптура на Байкале."
        refresh_search_text(entry)
        db.session.commit()
    assert search(api, "скульптуры")["total"] == 1
    assert titles(search(api, "игр")) == [practice_body()["title"]]


def test_filters_and_pages(api: Api, omsk: str, tomsk: str) -> None:
    for year in (2019, 2020, 2021):
        api.post("/api/v1/practices", practice_body(year=year, topics=["culture"]), omsk)
    api.post("/api/v1/practices", practice_body(year=2020, topics=["sport"]), tomsk)
    api.post("/api/v1/events", event_body(summary="Онлайн мероприятия и игры"), tomsk)
    assert search(api, "игры")["total"] == 5
    assert search(api, "игры", city="tomsk")["total"] == 2
    assert search(api, "игры", year=2020)["total"] == 3
    assert search(api, "игры", topic="sport")["total"] == 1
    assert search(api, "игры", kind="event")["total"] == 1
    first = search(api, "игры", per_page=2)
    third = search(api, "игры", per_page=2, page=3)
    assert (first["pages"], len(first["items"]), len(third["items"])) == (3, 2, 1)
    assert search(api, "игры", page=9)["items"] == []


def test_drafts_are_found_only_by_their_city(api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/practices", practice_body(status="draft"), omsk)
    assert search(api, "игры")["total"] == 0
    assert api.get("/api/v1/search", tomsk, q="игры").json["total"] == 0
    assert api.get("/api/v1/search", omsk, q="игры").json["total"] == 1


BAD_QUERIES = [
    "",
    "   ",
    "x" * 10_000,
    '"',
    '"игры',
    "игры*",
    "*",
    "NEAR(игры мероприятия)",
    "игры NEAR мероприятия",
    "игры AND OR NOT",
    "(игры",
    "игры)",
    "summary:игры",
    "title : игры",
    "-игры",
    "игры -мероприятия",
    "^игры",
    "игры + - & | ! : *",
    "'; DROP TABLE entries; --",
    "\\",
    "\x00игры",
    "и в на",
]


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_bad_queries_never_fail(api: Api, omsk: str, q: str) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    response = api.get("/api/v1/search", q=q)
    assert response.status_code in (200, 422), response.data
    if response.status_code == 422:
        assert "q" in str(response.json["errors"])
    else:
        assert response.json["total"] in (0, 1)
    # The list filter ``q`` goes through the same search.
    listed = api.get("/api/v1/practices", q=q)
    assert listed.status_code in (200, 422)


def test_syntax_is_ignored_but_words_still_count(api: Api, omsk: str) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    for q in ('"игры', "игры*", "(игры", "игры:", "-игры", "(игры)*«мероприятия»"):
        assert search(api, q)["total"] == 1, q


def test_query_parsing() -> None:
    query = parse_query("  Дельфийские ИГРЫ и игр  ")
    assert query == SearchQuery(
        "Дельфийские ИГРЫ и игр", ("дельфийские", "игры"), (("дельфийский",), ("игра",))
    )
    assert len(parse_query(" ".join(f"с{i}" for i in range(40))).lemmas) == 12


def test_ranks_the_newest_matches_of_a_very_common_word(app: Flask, api: Api, omsk: str) -> None:
    """Beyond SEARCH_RANK_WINDOW matches, older matches follow the ranked ones, newest first."""
    app.config["SEARCH_RANK_WINDOW"] = app.config["SEARCH_RANK_WINDOW_POSTGRESQL"] = 2
    filler = " Отчёт о работе отдела за год."
    for number, mentions in enumerate((5, 1, 1, 3)):  # oldest first
        summary = " ".join(["Субботник."] * mentions) + filler * (6 - mentions)
        api.post(
            "/api/v1/practices", practice_body(title=f"Запись {number}", summary=summary), omsk
        )
    result = search(api, "субботники")
    assert result["total"] == 4
    assert titles(result) == ["Запись 3", "Запись 2", "Запись 1", "Запись 0"]
    app.config["SEARCH_RANK_WINDOW"] = app.config["SEARCH_RANK_WINDOW_POSTGRESQL"] = 10
    assert titles(search(api, "субботники")) == ["Запись 0", "Запись 3", "Запись 2", "Запись 1"]


def test_postgresql_counts_a_common_word_up_to_a_limit(
    app: Flask, client: Any, api: Api, omsk: str
) -> None:
    """Beyond SEARCH_COUNT_LIMIT_POSTGRESQL matches PostgreSQL says "more than"; the hits agree."""
    app.config["SEARCH_COUNT_LIMIT_POSTGRESQL"] = 2
    app.config["SEARCH_RANK_WINDOW"] = app.config["SEARCH_RANK_WINDOW_POSTGRESQL"] = 2
    for number in range(5):
        body = practice_body(title=f"Запись {number}", summary="Субботник во дворе.")
        api.post("/api/v1/practices", body, omsk)
    with app.app_context():
        postgresql = db.engine.dialect.name == "postgresql"
    pages = [search(api, "субботники", per_page=1, page=n) for n in range(1, 6)]
    assert [titles(p) for p in pages] == [[f"Запись {n}"] for n in (4, 3, 2, 1, 0)]
    first, last = pages[0], pages[-1]
    if postgresql:  # counted to the end of the next page: enough for its link
        assert (first["total"], first["complete"], first["total_exact"]) == (2, 2, False)
        assert first["pages"] == 2
    else:
        assert (first["total"], first["total_exact"]) == (5, True)
    assert (last["total"], last["total_exact"]) == (5, True)
    # The page (20 a page) counts to the end of the next one: 40.
    for number in range(5, 43):
        body = practice_body(title=f"Запись {number}", summary="Субботник во дворе.")
        api.post("/api/v1/practices", body, omsk)
    page = client.get("/search", query_string={"q": "субботники"}).get_data(as_text=True)
    if postgresql:
        assert "Найдено: более 40, страница 1." in page
    else:
        assert "Найдено: 43, страница 1 из 3." in page
