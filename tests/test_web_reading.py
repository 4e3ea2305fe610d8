"""The reader's pages, through HTTP: overview, cities, notes, events, topics, search, chart."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.accounts import create_admin
from service.store.models import City, db
from tests.conftest import Api, event_body, practice_body
from tests.test_search import BAD_QUERIES, add_mirrored


def page(client: FlaskClient, path: str, status: int = 200, **params: Any) -> str:
    response = client.get(path, query_string=params)
    assert response.status_code == status, response.data[:2000]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def titles(html: str) -> list[str]:
    """Titles of the entry cards on a page, in order."""
    return re.findall(r'<article class="card">\s*<h3><a href="[^"]+">(.*?)</a>', html)


def test_overview_lists_own_and_mirrored_entries(
    app: Flask, api: Api, omsk: str, tomsk: str
) -> None:
    api.post("/api/v1/practices", practice_body(title="Омская практика"), omsk)
    api.post("/api/v1/events", event_body(title="Томское мероприятие"), tomsk)
    api.post("/api/v1/practices", practice_body(title="Черновик", status="draft"), omsk)
    add_mirrored(app, "Иркутская практика", "Субботники.")
    html = page(api.client, "/")
    assert titles(html) == ["Томское мероприятие", "Омская практика", "Иркутская практика"]
    assert "<title>Практики и мероприятия городов АСДГ" in html
    assert 'href="/cities/omsk"' in html and "Мероприятие" in html
    assert "с другого сервера" in html


def test_overview_filters(app: Flask, api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/practices", practice_body(title="Омск 2019", year=2019), omsk)
    api.post("/api/v1/practices", practice_body(title="Омск спорт", topics=["sport"]), omsk)
    api.post("/api/v1/events", event_body(title="Томск событие"), tomsk)
    add_mirrored(app, "Иркутск культура", "Театр.", topics=[])
    client = api.client
    assert set(titles(page(client, "/", city="omsk"))) == {"Омск 2019", "Омск спорт"}
    assert titles(page(client, "/", topic="sport")) == ["Омск спорт"]
    assert titles(page(client, "/", kind="event")) == ["Томск событие"]
    assert titles(page(client, "/", year=2019)) == ["Омск 2019"]
    assert titles(page(client, "/", origin="mirror")) == ["Иркутск культура"]
    assert len(titles(page(client, "/", origin="local"))) == 3
    # Empty choices of the filter form mean "all"; unknown arguments are ignored.
    assert len(titles(page(client, "/", city="", topic="", year="", utm="x"))) == 4
    # The chosen topic is marked in its facet, and its link drops it.
    html = page(client, "/", topic="sport")
    assert re.search(r'<li class="chosen"><a href="/" aria-current="true"', html)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "abc"}, "Год: Ожидается целое число."),
        ({"year": "99999"}, "Год: Допустимо от 1990 до 2100."),
        ({"topic": "nope"}, "Тема: Допустимые значения"),
        ({"kind": "blog"}, "Вид записи: Допустимые значения: practice, event."),
        ({"page": "0"}, "Страница: Допустимо от 1"),
        ({"page": "x" * 5000}, "Страница: Ожидается целое число."),
    ],
)
def test_bad_filters_give_a_russian_message(
    client: FlaskClient, params: dict[str, str], message: str
) -> None:
    html = page(client, "/", 422, **params)
    assert message in html and "Ошибка в данных" in html


def test_pages_of_a_long_list(api: Api, omsk: str) -> None:
    for number in range(23):
        api.post("/api/v1/practices", practice_body(title=f"Практика {number}"), omsk)
    first = page(api.client, "/", city="omsk")
    assert len(titles(first)) == 20 and "Страница 1 из 2" in first
    # The link to the next page keeps the filter.
    assert re.search(r'rel="next" href="/\?city=omsk&amp;page=2"', first)
    second = page(api.client, "/", city="omsk", page=2)
    assert titles(second) == ["Практика 2", "Практика 1", "Практика 0"]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert titles(page(api.client, "/", page=50)) == []


def test_practice_page_shows_sections_under_their_questions(api: Api, omsk: str) -> None:
    contact = {
        "name": "Иванова И. И.",
        "position": "начальник отдела",
        "email": "ii@omsk.ru",
        "phone": "+7 3812 00-00-00",
    }
    body = practice_body(contact=contact, body="Подробный **отчёт**.")
    created = api.post("/api/v1/practices", body, omsk).json
    html = page(api.client, f"/practices/{created['local_id']}")
    assert f"<title>{body['title']} — Омск" in html
    sections = re.findall(r"<h2>(.*?)</h2>\s*<div class=\"content\">(.*?)</div>", html, re.S)
    assert [heading for heading, _ in sections] == [
        "Чем занимается подразделение",
        "Что удалось сделать в 2020 году",
        "Задачи на 2021 год",
        "Какая помощь нужна от АСДГ",
        "Подробности",
    ]
    assert "Дельфийские игры" in sections[1][1]
    assert "<li>организация мероприятий</li>" in sections[0][1]
    assert "<strong>отчёт</strong>" in sections[4][1]
    assert "Иванова И. И., начальник отдела" in html and 'href="mailto:ii@omsk.ru"' in html
    assert 'href="/topics/culture">Культура</a>' in html
    assert "Направление: Организационная деятельность" in html


def test_the_same_topic_in_other_cities(app: Flask, api: Api, omsk: str, tomsk: str) -> None:
    mine = api.post("/api/v1/practices", practice_body(title="Омск: культура"), omsk).json
    api.post("/api/v1/practices", practice_body(title="Омск: ещё культура"), omsk)
    api.post("/api/v1/practices", practice_body(title="Томск: культура", topics=["culture"]), tomsk)
    api.post("/api/v1/practices", practice_body(title="Томск: спорт", topics=["sport"]), tomsk)
    api.post("/api/v1/events", event_body(title="Томск: концерт", topics=["culture"]), tomsk)
    add_mirrored(app, "Иркутск: театры", "Театры.", topics=["culture"])
    html = page(api.client, f"/practices/{mine['local_id']}")
    compare = html[html.index("Та же тема в других городах") :]
    hr, culture = compare.split('<h3><a href="/topics/')[1:]
    assert hr.startswith("organization-hr") and "Другие города пока не писали" in hr
    assert culture.startswith("culture") and titles(culture) == [
        "Иркутск: театры",
        "Томск: культура",
    ]


def test_mirrored_entry_names_its_origin(app: Flask, client: FlaskClient) -> None:
    number = add_mirrored(app, "Иркутская практика", "Опыт **Иркутска**.")
    html = page(client, f"/practices/{number}")
    assert 'href="http://irkutsk.example" rel="external">Иркутск (irkutsk.example)</a>' in html
    assert 'href="http://irkutsk.example/feeds/all.atom" rel="external">«Иркутск: практики' in html
    assert f'href="http://irkutsk.example/practices/{number}" rel="external">Оригинал' in html
    assert 'Опубликовано <time datetime="2021-03-15T10:00:00+00:00">15 марта 2021</time>' in html
    assert "Опыт <strong>Иркутска</strong>." in html
    city = page(client, "/cities/irkutsk")
    assert 'с сервера <a href="http://irkutsk.example"' in city
    assert titles(city) == ["Иркутская практика"]


def test_event_page(api: Api, omsk: str) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    event = api.post("/api/v1/events", event_body(related=note["id"]), omsk).json
    html = page(api.client, f"/events/{event['local_id']}")
    assert "<title>День города Омска — Омск" in html
    facts = dict(re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html))
    assert facts["Когда"] == "1–2 августа 2020"
    assert facts["Формат"] == "онлайн" and facts["Уровень"] == "муниципальный"
    assert facts["Участников"] == "1200"
    assert facts["Практика"] == f'<a href="/practices/{note["local_id"]}">{note["title"]}</a>'
    assert "<h2>Итоги</h2>" in html and "Трансляции посмотрели жители" in html
    # The note lists its events.
    assert "День города Омска" in page(api.client, f"/practices/{note['local_id']}")


def test_city_and_topic_pages(api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/practices", practice_body(title="Омск: спорт", topics=["sport"]), omsk)
    api.post("/api/v1/events", event_body(title="Омск: турнир", topics=["sport"]), omsk)
    api.post("/api/v1/practices", practice_body(title="Томск: спорт", topics=["sport"]), tomsk)
    city = page(api.client, "/cities/omsk")
    assert "<title>Омск: практики и мероприятия" in city
    assert set(titles(city)) == {"Омск: спорт", "Омск: турнир"}
    assert titles(page(api.client, "/cities/omsk", kind="event")) == ["Омск: турнир"]
    assert 'href="/?city=omsk&amp;topic=sport">Муниципальный спорт и физкультура</a>' in city
    topic = page(api.client, "/topics/sport")
    assert "<h1>Муниципальный спорт и физкультура</h1>" in topic
    assert len(titles(topic)) == 3
    assert "1 практика, 1 мероприятие" in topic and "1 практика, 0 мероприятий" in topic
    assert titles(page(api.client, "/topics/sport", kind="practice")) == [
        "Томск: спорт",
        "Омск: спорт",
    ]
    assert "Омск" in page(api.client, "/cities") and "Культура" in page(api.client, "/topics")


@pytest.mark.parametrize(
    "path",
    [
        "/cities/nowhere",
        "/cities/..%2F",
        "/practices/999",
        "/events/999",
        "/practices/abc",
        "/topics/nope",
        "/no/such/page",
        "/events/1",
    ],
)
def test_unknown_pages_are_a_russian_404(api: Api, omsk: str, path: str) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)  # number 1 is a practice, not an event
    html = page(api.client, path, 404)
    assert "Страница не найдена" in html or "не найден" in html
    assert '<html lang="ru">' in html


def test_drafts_are_not_public(api: Api, omsk: str) -> None:
    draft = api.post("/api/v1/practices", practice_body(status="draft"), omsk).json
    page(api.client, f"/practices/{draft['local_id']}", 404)
    assert titles(page(api.client, "/")) == []
    assert "Ничего не нашлось" in page(api.client, "/search", q="игры")


def test_every_page_links_its_feeds(app: Flask, api: Api, omsk: str) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    alternate = re.compile(r'<link rel="alternate" type="application/(atom\+xml|feed\+json)"')
    for path in (
        "/",
        "/cities/omsk",
        f"/practices/{note['local_id']}",
        "/topics/culture",
        "/search",
        "/overview",
        "/no/such/page",
    ):
        html = api.client.get(path).get_data(as_text=True)
        assert len(alternate.findall(html)) >= 2, path
    assert "/cities/omsk/feed.atom" in page(api.client, "/cities/omsk").split("</head>")[0]


def test_search_page(app: Flask, api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/practices", practice_body(title="Игры в Омске"), omsk)
    api.post("/api/v1/events", event_body(title="Томские игры", summary="Игра в городки."), tomsk)
    add_mirrored(app, "Иркутск", "Дельфийские игры на Байкале.")
    html = page(api.client, "/search", q="игра")
    assert "<title>«игра» — поиск" in html
    assert "Найдено: 3" in html
    assert "<mark>Игры</mark> в Омске" in html and "<mark>Игра</mark> в городки" in html
    assert 'value="игра"' in html  # the query stays in the box
    filtered = page(api.client, "/search", q="игра", city="tomsk")
    assert titles(filtered) == ["Томские <mark>игры</mark>"]
    assert len(titles(page(api.client, "/search", q="игра", origin="mirror"))) == 1
    assert "Ничего не нашлось" in page(api.client, "/search", q="субботник")
    # Nothing typed yet: the form, no message.
    empty = page(api.client, "/search")
    assert "<form" in empty and 'role="alert"' not in empty


@pytest.mark.parametrize("q", BAD_QUERIES)
def test_bad_queries_on_the_search_page(api: Api, omsk: str, q: str) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    response = api.client.get("/search", query_string={"q": q})
    assert response.status_code in (200, 422)
    html = response.get_data(as_text=True)
    if response.status_code == 422:
        assert 'class="error" role="alert"' in html
    assert '<input type="search" name="q" value="' in html  # the form, ready for another try


def test_text_is_escaped(api: Api, omsk: str) -> None:
    body = practice_body(title="<script>alert(1)</script> Игры", summary="<b>жирный</b> текст")
    note = api.post("/api/v1/practices", body, omsk).json
    for html in (
        page(api.client, f"/practices/{note['local_id']}"),
        page(api.client, "/"),
        page(api.client, "/search", q="игры"),
    ):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html


def test_overview_chart(app: Flask, api: Api, omsk: str, tomsk: str) -> None:
    api.post("/api/v1/practices", practice_body(year=2020), omsk)
    api.post("/api/v1/practices", practice_body(year=2021), omsk)
    api.post("/api/v1/events", event_body(), omsk)  # 2020
    api.post("/api/v1/practices", practice_body(year=2021, topics=["sport"]), tomsk)
    add_mirrored(app, "Иркутск", "Текст.", topics=["sport"])
    html = page(api.client, "/overview")
    assert "<title>Картина сети" in html
    assert "4 практики, 1 мероприятие" in html
    svgs = re.findall(r'<svg [^>]*class="chart chart-wide".*?</svg>', html, re.S)
    assert len(svgs) == 3  # by year, by topic, topics by year; each also laid out for phones
    assert len(re.findall(r'<svg [^>]*class="chart chart-narrow"', html)) == 3
    by_year, by_topic, topic_years = svgs
    assert "<title>Культура, 2020: 1 практика, 1 мероприятие</title>" in topic_years
    assert '<a href="/?topic=sport&amp;year=2021">' in topic_years
    assert "<title>Омск, 2020: 1 практика, 1 мероприятие</title>" in by_year
    assert "<title>Томск, 2021: 1 практика, 0 мероприятий</title>" in by_year
    assert "<title>Иркутск, 2021: 1 практика, 0 мероприятий</title>" in by_year
    assert '<a href="/?city=omsk&amp;year=2020">' in by_year
    assert "<title>Муниципальный спорт и физкультура, Томск: 1 практика" in by_topic
    assert "<title>Культура, Омск: 2 практики, 1 мероприятие</title>" in by_topic
    assert '<a href="/?topic=sport&amp;city=irkutsk">' in by_topic
    # The numbers are also in a table.
    assert '<td class="num">2 / 1</td>' in html


def test_overview_without_entries(client: FlaskClient) -> None:
    assert "Пока нет опубликованных записей" in page(client, "/overview")


def test_admin_previews_own_draft(app: Flask, api: Api, omsk: str) -> None:
    draft = api.post("/api/v1/practices", practice_body(status="draft"), omsk).json
    with app.app_context():
        city = db.session.scalar(db.select(City).where(City.slug == "omsk"))
        assert city is not None
        create_admin("admin@omsk.example", city, "password-omsk-123")
    api.client.post(
        "/admin/login", data={"email": "admin@omsk.example", "password": "password-omsk-123"}
    )
    html = page(api.client, f"/practices/{draft['local_id']}")
    assert "Черновик" in html and "Редактировать" in html
