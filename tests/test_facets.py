"""Facets with counts on the overview and the search page; filter-only search; the new filters."""

from __future__ import annotations

import html as htmllib
import re

from flask import Flask

from tests.conftest import Api, event_body, practice_body
from tests.test_web_reading import page, titles


def facet(html: str, name: str) -> dict[str, tuple[int, str, bool]]:
    """{label: (count, link, chosen)} of one facet of a page."""
    block = re.search(rf"<summary>{name}</summary>(.*?)</details>", html, re.S)
    assert block, name
    out = {}
    for item in re.finditer(
        r'<li( class="chosen")?><a href="([^"]+)"[^>]*>(.*?)</a>\s*'
        r'<span class="facet-count">(\d+)</span>',
        block.group(1),
        re.S,
    ):
        label = re.sub(r"<[^>]+>|[☐☑✓]", "", item.group(3)).strip()
        out[label] = (int(item.group(4)), htmllib.unescape(item.group(2)), bool(item.group(1)))
    return out


def follow(api: Api, url: str) -> str:
    response = api.client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _corpus(api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/events", event_body(title="Онлайн Омск", format="online"), omsk)
    api.post("/api/v1/events", event_body(title="Очно Томск", format="offline"), tomsk)
    api.post(
        "/api/v1/events",
        event_body(title="Смешанно Томск", format="hybrid", topics=["sport"]),
        tomsk,
    )
    api.post("/api/v1/practices", practice_body(title="Практика Омск", topics=["education"]), omsk)


def test_overview_facets_count_and_link(app: Flask, api: Api, omsk: str, tomsk: str) -> None:
    _corpus(api, omsk, tomsk)
    html = page(api.client, "/")
    assert facet(html, "Город") == {
        "Омск": (2, "/?city=omsk", False),
        "Томск": (2, "/?city=tomsk", False),
    }
    formats = facet(html, "Формат")
    assert {k: v[0] for k, v in formats.items()} == {"онлайн": 1, "очно": 1, "смешанный формат": 1}
    # Following a link filters; the facet's own counts stay, the others follow.
    chosen = follow(api, formats["очно"][1])
    assert titles(chosen) == ["Очно Томск"]
    assert facet(chosen, "Формат")["очно"][2] is True
    assert {k: v[0] for k, v in facet(chosen, "Город").items()} == {"Томск": 1}
    # Several topics: any of them; the topic links add and drop one each.
    both = page(api.client, "/", topic=["sport", "education"])
    assert sorted(titles(both)) == ["Практика Омск", "Смешанно Томск"]
    topics = facet(both, "Тема")
    assert topics["Муниципальный спорт и физкультура"][2] and topics["Муниципальное образование"][2]
    assert topics["Муниципальный спорт и физкультура"][1] == "/?topic=education"


def test_filter_only_search_lists_entries(api: Api, omsk: str, tomsk: str) -> None:
    _corpus(api, omsk, tomsk)
    html = page(api.client, "/search", city="tomsk")
    assert sorted(titles(html)) == ["Очно Томск", "Смешанно Томск"]
    assert "Записи по отбору" in html
    # Words and a filter: the filter stays in the form as a hidden field.
    found = page(api.client, "/search", q="праздничные мероприятия", format="online")
    assert titles(found) == ["Онлайн Омск"]
    assert '<input type="hidden" name="format" value="online">' in found
    assert facet(found, "Формат")["онлайн"][0] == 1
    assert page(api.client, "/search").count('<article class="card">') == 0


def test_partial_matches_are_marked_on_the_page(api: Api, omsk: str) -> None:
    complete = event_body(title="Праздник", summary="День города и трансляции.", results="")
    api.post("/api/v1/events", complete, omsk)
    api.post("/api/v1/events", event_body(title="Концерт", summary="Город.", results=""), omsk)
    html = page(api.client, "/search", q="день города трансляции")
    assert titles(html) == ["Праздник", "Концерт"]
    assert html.count("совпадают не все слова") == 1
    assert html.index("совпадают не все слова") > html.index(">Концерт<")
    assert "Найдено: 2 (все слова — в 1)" in html


def test_api_lists_take_several_topics_and_format(api: Api, omsk: str, tomsk: str) -> None:
    _corpus(api, omsk, tomsk)
    listed = api.get("/api/v1/events", topic=["sport", "culture"]).json
    assert listed["total"] == 3
    assert [i["title"] for i in api.get("/api/v1/events", format="hybrid").json["items"]] == [
        "Смешанно Томск"
    ]
    bad = api.get("/api/v1/events", format="radio")
    assert bad.status_code == 422 and "format" in bad.json["errors"]["query"]
    searched = api.get("/api/v1/search", q="мероприятия", topic=["sport", "education"]).json
    assert sorted(i["entry"]["title"] for i in searched["items"]) == [
        "Практика Омск",
        "Смешанно Томск",
    ]
