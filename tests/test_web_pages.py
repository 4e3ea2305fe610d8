"""Issue 11, the reader's side of the pages: the header's search box, the current
section, tags as links, similar events, topic cards, numbers, the feeds page and
the feed stylesheet, cities' time zones and the mirror's connection errors in Russian.
All through HTTP, the CLI and the real feed stylesheet (lxml's XSLT)."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from lxml import etree, html
from sqlalchemy import inspect, text

from service.store.models import City, db
from tests.conftest import Api, event_body, practice_body
from tests.test_web_admin import Admin, logged_in
from tests.test_web_reading import page, titles

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = str(ROOT / "service" / "store" / "migrations")
NBSP = "\u00a0"


def current_sections(markup: str) -> list[str]:
    """The header navigation's links marked as the current page."""
    nav = markup.split('<nav aria-label="Разделы">', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'aria-current="page">([^<]+)</a>', nav)


def test_every_page_has_the_search_box_and_marks_its_section(
    api: Api, omsk: str, client: FlaskClient
) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    for path, section in [
        ("/", ["Новое"]),
        ("/cities", ["Города"]),
        ("/cities/omsk", ["Города"]),
        ("/topics", ["Темы"]),
        ("/topics/culture", ["Темы"]),
        ("/overview", ["Картина сети"]),
        ("/feeds", ["Ленты"]),
        (f"/practices/{note['local_id']}", ["Новое"]),
        ("/admin/login", ["Вход"]),
    ]:
        markup = page(client, path)
        assert current_sections(markup) == section, path
        form = re.search(r'<form class="site-search" method="get" action="/search"[^>]*>', markup)
        assert form and 'role="search"' in form.group(0), path
        assert '<input id="site-q" type="search" name="q"' in markup
        assert '<label for="site-q"' in markup
    # The search page has its own, fuller form instead.
    search = page(client, "/search", q="дельфийские игры")
    assert current_sections(search) == ["Поиск"] and "site-search" not in search


def test_the_header_search_box_finds_entries(api: Api, omsk: str, client: FlaskClient) -> None:
    api.post("/api/v1/practices", practice_body(title="Дельфийские игры"), omsk)
    found = page(client, "/search", q="дельфийские игры")
    assert "Дельфийские игры" in re.sub(r"</?mark>", "", found)


def test_tags_are_links_to_the_entries_with_the_tag(
    api: Api, omsk: str, tomsk: str, client: FlaskClient
) -> None:
    tagged = api.post("/api/v1/practices", practice_body(title="С меткой"), omsk).json
    api.post("/api/v1/events", event_body(title="Событие с меткой", tags=["онлайн"]), tomsk)
    api.post("/api/v1/practices", practice_body(title="Без метки", tags=["офлайн"]), omsk)
    # A tag that holds LIKE's wildcards matches only itself.
    api.post("/api/v1/practices", practice_body(title="Проценты", tags=["50%_итог"]), omsk)
    note = page(client, f"/practices/{tagged['local_id']}")
    assert '<a href="/?tag=%D0%BE%D0%BD%D0%BB%D0%B0%D0%B9%D0%BD" rel="tag">онлайн</a>' in note
    listed = page(client, "/", tag="онлайн")
    assert sorted(titles(listed)) == ["С меткой", "Событие с меткой"]
    assert "Записи с меткой «онлайн»" in listed
    assert titles(page(client, "/", tag="50%_итог")) == ["Проценты"]
    assert titles(page(client, "/", tag="50")) == []
    assert titles(page(client, "/", tag="онлайн", city="tomsk")) == ["Событие с меткой"]
    too_long = page(client, "/", status=422, tag="x" * 500)
    assert "Метка" in too_long


def test_an_event_page_shows_similar_events_of_other_cities(
    api: Api, omsk: str, tomsk: str, client: FlaskClient
) -> None:
    mine = api.post("/api/v1/events", event_body(tags=["день города"]), omsk).json
    api.post("/api/v1/events", event_body(title="Омск: ещё одно"), omsk)
    api.post(
        "/api/v1/events",
        event_body(title="Томск: день города", tags=["день города"], location="Томск"),
        tomsk,
    )
    api.post(
        "/api/v1/events",
        event_body(title="Томск: онлайн-фестиваль", topics=["education"], location="Томск"),
        tomsk,
    )
    api.post(
        "/api/v1/events",
        event_body(title="Томск: турнир", topics=["sport"], format="offline", location="Томск"),
        tomsk,
    )
    markup = page(client, f"/events/{mine['local_id']}")
    similar = markup.split("Похожие мероприятия других городов", 1)[1]
    # Same topic, format and tag first; the same format only next; nothing shared: left out.
    assert titles(similar) == ["Томск: день города", "Томск: онлайн-фестиваль"]
    lonely = api.post(
        "/api/v1/events", event_body(title="Одинокое", topics=["ecology"], format="hybrid"), omsk
    )
    assert "Похожих мероприятий в других городах пока нет" in page(
        client, f"/events/{lonely.json['local_id']}"
    )


def test_topics_are_cards_with_counts_and_empty_ones_set_apart(
    api: Api, omsk: str, client: FlaskClient
) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)  # organization-hr, culture
    api.post("/api/v1/events", event_body(), omsk)  # culture
    markup = page(client, "/topics")
    cards = re.findall(
        r'<li class="topic-card">\s*<h2><a href="/topics/([a-z-]+)">.*?</a></h2>\s*'
        r'<p class="topic-count">(.*?)</p>',
        markup,
        re.S,
    )
    assert cards == [("organization-hr", "1 запись"), ("culture", "2 записи")]
    assert "1 практика · 1 мероприятие" in markup
    empty = markup.split("Темы, по которым записей пока нет", 1)[1]
    assert '<a href="/topics/sport">Муниципальный спорт' in empty and "/topics/culture" not in empty
    assert "<table" not in markup


def test_numbers_have_digit_groups(api: Api, omsk: str, client: FlaskClient) -> None:
    big = api.post("/api/v1/events", event_body(participants=380000), omsk).json
    facts = dict(
        re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", page(client, f"/events/{big['local_id']}"))
    )
    assert facts["Участников"] == f"380{NBSP}000"
    feed = client.get("/feeds/all.atom").get_data(as_text=True)
    assert f"<dd>380{NBSP}000</dd>" in feed.replace("&lt;", "<").replace("&gt;", ">")


def test_chart_labels_are_whole_on_wide_screens_and_phones(
    api: Api, omsk: str, client: FlaskClient
) -> None:
    api.post("/api/v1/practices", practice_body(topics=["international", "organization-hr"]), omsk)
    markup = page(client, "/overview")
    wide = re.findall(r'<svg [^>]*class="chart chart-wide".*?</svg>', markup, re.S)
    narrow = re.findall(r'<svg [^>]*class="chart chart-narrow".*?</svg>', markup, re.S)
    assert len(wide) == len(narrow) == 3
    by_topic = wide[1]
    # Two lines of a long label, and the whole label as the row's title.
    lines = re.findall(r"<tspan [^>]*>(.*?)</tspan>", by_topic)
    assert "Внешнеэкономическая и" in lines and "международная деятельность" in lines
    assert "<title>Внешнеэкономическая и международная деятельность</title>" in by_topic
    assert "…" not in by_topic
    # On a phone the label is a line of its own, above the cells, which start at the left.
    phone_lines = re.findall(r"<tspan [^>]*>(.*?)</tspan>", narrow[1])
    assert "Организационная и кадровая работа ОМСУ" in phone_lines
    assert re.search(r'<rect x="8\.0"', narrow[1])
    assert 'width="358"' in narrow[0]  # one year: the phone's width, the legend stacked


def test_mirrored_entries_say_from_another_server(app: Flask, client: FlaskClient) -> None:
    from tests.test_search import add_mirrored

    add_mirrored(app, "Иркутская практика", "Субботники.")
    markup = page(client, "/")
    assert "с другого сервера" in markup and "из другого сервера" not in markup


# -- feeds for people --------------------------------------------------------------------


def test_the_feeds_page_lists_every_feed(api: Api, omsk: str, client: FlaskClient) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    markup = page(client, "/feeds")
    assert "Как подписаться" in markup
    hrefs = set(re.findall(r'href="([^"]+)"', markup))
    for path in [
        "/feeds/all.atom",
        "/feeds/all.json",
        "/feeds/network.atom",
        "/feeds/network.json",
        "/feeds/all.atom?kind=practice",
        "/feeds/all.json?kind=event",
        "/cities/omsk/feed.atom",
        "/cities/omsk/feed.json",
        "/feeds/network.atom?topic=culture",
        "/feeds/network.json?topic=sport",
        "/feeds/opml",
    ]:
        assert path in hrefs, path
        assert client.get(path).status_code == 200, path
    # Topics without entries are there, set apart.
    assert re.search(
        r'<li class="quiet">\s*<span class="feed-name"><a href="/topics/sport">', markup
    )
    # City and topic pages link their feeds, and the feeds page.
    city = page(client, "/cities/omsk")
    assert 'href="/cities/omsk/feed.atom"' in city and 'href="/feeds"' in city
    topic = page(client, "/topics/culture")
    assert 'href="/feeds/network.atom?topic=culture"' in topic
    assert '<link rel="alternate" type="application/atom+xml" title="Тема «Культура»' in topic


def test_atom_feeds_name_the_stylesheet_which_is_served_as_xsl(
    api: Api, omsk: str, client: FlaskClient
) -> None:
    api.post("/api/v1/practices", practice_body(), omsk)
    for path in ["/feeds/all.atom", "/cities/omsk/feed.atom", "/feeds/network.atom?topic=culture"]:
        body = client.get(path).data
        assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n"), path
        assert (
            b'<?xml-stylesheet type="text/xsl" href="/feeds/feed.xsl"?>' in body.split(b"<feed")[0]
        )
    assert b"xml-stylesheet" not in client.get("/feeds/all.json").data
    xsl = client.get("/feeds/feed.xsl")
    assert xsl.status_code == 200 and xsl.mimetype == "text/xsl"
    assert xsl.headers["X-Content-Type-Options"] == "nosniff"
    etree.XSLT(etree.fromstring(xsl.data))  # a valid stylesheet


def test_the_stylesheet_shows_a_feed_as_a_russian_page(
    api: Api, omsk: str, client: FlaskClient
) -> None:
    api.post("/api/v1/practices", practice_body(title="Культура онлайн: Омск, 2021"), omsk)
    api.post("/api/v1/events", event_body(title="День города <онлайн> & «дома»"), omsk)
    transform = etree.XSLT(etree.fromstring(client.get("/feeds/feed.xsl").data))
    result = str(transform(etree.fromstring(client.get("/cities/omsk/feed.atom").data)))
    doc = html.fromstring(result)
    assert doc.get("lang") == "ru"
    assert doc.findtext(".//title").startswith("Лента: ")
    assert doc.xpath("string(//h2[@id='how-title'])") == "Как подписаться"
    assert (
        doc.xpath("string(//code[@class='feed-url'])")
        == "http://test.example/cities/omsk/feed.atom"
    )
    cards = doc.xpath("//article[@class='card']/h3/a")
    assert [a.text for a in cards] == [
        "День города <онлайн> & «дома»",
        "Культура онлайн: Омск, 2021",
    ]
    assert cards[1].get("href").startswith("http://test.example/practices/")
    assert doc.xpath("//a[@href='/feeds']") and not doc.xpath("//*[@style]|//script|//style")
    empty = str(transform(etree.fromstring(client.get("/feeds/network.atom?topic=sport").data)))
    assert "В ленте пока нет записей." in empty


# -- time zones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "name", "zone"),
    [
        ("Омская область", "Омск", "Asia/Omsk"),
        (None, "Новосибирск", "Asia/Novosibirsk"),
        ("Красноярский край", "Норильск", "Asia/Krasnoyarsk"),
        ("Иркутская область", "Братск", "Asia/Irkutsk"),
        ("Хабаровский край", "Хабаровск", "Asia/Vladivostok"),
        ("Приморский край", "Владивосток", "Asia/Vladivostok"),
        ("Томская область", "Томск", "Asia/Tomsk"),
        ("Республика Саха (Якутия)", "Якутск", "Asia/Yakutsk"),
        (None, "Тверь", "Europe/Moscow"),
    ],
)
def test_a_city_gets_the_time_zone_of_its_region(
    app: Flask, runner: Any, region: str | None, name: str, zone: str
) -> None:
    args = ["city", "add", "c", name] + (["--region", region] if region else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert f"часовой пояс {zone}" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(City.time_zone)) == zone


def test_city_add_takes_a_time_zone(app: Flask, runner: Any) -> None:
    ok = runner.invoke(args=["city", "add", "omsk", "Омск", "--time-zone", "Asia/Yekaterinburg"])
    assert ok.exit_code == 0, ok.output
    for bad in ["Mars/Olympus", "../etc/passwd", "x" * 100]:
        result = runner.invoke(args=["city", "add", "tomsk", "Томск", "--time-zone", bad])
        assert result.exit_code != 0 and "Часовой пояс" in result.output, bad
        assert "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalars(db.select(City.slug)).all() == ["omsk"]


def test_admin_pages_show_times_in_the_city_time_zone(app: Flask, api: Api, runner: Any) -> None:
    admin: Admin = logged_in(app, api, runner, "khabarovsk", "Хабаровск")
    client = admin.client
    token = api.token("khabarovsk")
    api.post("/api/v1/practices", practice_body(), token)
    settings = page(client, "/admin/city")
    assert current_sections(settings) == ["Кабинет: Хабаровск"]
    assert '<option value="Asia/Vladivostok" selected>Владивосток, Хабаровск (UTC+10)' in settings
    dashboard = page(client, "/admin/")
    assert "(UTC+10)" in dashboard and "UTC)" not in dashboard

    bad = client.post("/admin/city", data={"time_zone": "Asia/Nowhere"})
    assert bad.status_code == 422
    assert "Часовой пояс «Asia/Nowhere» неизвестен" in bad.get_data(as_text=True)
    saved = client.post("/admin/city", data={"time_zone": "Asia/Omsk"}, follow_redirects=True)
    assert "Часовой пояс сохранён: Asia/Omsk." in saved.get_data(as_text=True)
    assert "(UTC+6)" in page(client, "/admin/")
    client.post("/admin/tokens", data={"label": "сайт"})
    assert "(UTC+6)" in page(client, "/admin/tokens")


def test_the_time_zone_migration_keeps_data_and_downgrades(
    app: Flask, api: Api, omsk: str, client: FlaskClient
) -> None:
    revision_file = ROOT / "service/store/migrations/versions/0011_city_time_zone.py"
    found = re.search(r'down_revision = "([^"]+)"', revision_file.read_text())
    assert found
    previous = found.group(1)
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    api.city("khabarovsk", "Хабаровск")
    with app.app_context():
        db.session.execute(text("UPDATE cities SET time_zone = 'Asia/Tokyo' WHERE slug = 'omsk'"))
        db.session.commit()
        downgrade(directory=MIGRATIONS, revision=previous)
        columns = [c["name"] for c in inspect(db.engine).get_columns("cities")]
        assert "time_zone" not in columns
        db.session.commit()
        upgrade(directory=MIGRATIONS)
        rows = db.session.execute(text("SELECT slug, time_zone FROM cities ORDER BY slug"))
        # The zone comes back from the name (the test cities' region says nothing).
        assert rows.all() == [("khabarovsk", "Asia/Vladivostok"), ("omsk", "Asia/Omsk")]
        db.session.commit()
    assert api.get(f"/api/v1/practices/{note['id']}").json["title"] == note["title"]
    assert "Организационная деятельность" in page(client, f"/practices/{note['local_id']}")


# -- the mirror's errors in Russian ------------------------------------------------------


def test_a_refused_connection_is_explained_in_russian(app: Flask, api: Api, runner: Any) -> None:
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_TIMEOUT=5.0)
    admin = logged_in(app, api, runner, "omsk", "Омск", instance=True)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = admin.client.post(
        "/admin/subscriptions", data={"url": f"http://127.0.0.1:{port}/feed.atom"}
    )
    assert response.status_code == 422
    markup = response.get_data(as_text=True)
    assert "Лента недоступна: Ошибка соединения: сервер не принимает соединения" in markup
    assert "Errno" not in markup and "Connection refused" not in markup


# -- the API documentation in Russian -----------------------------------------------------


def _texts(node: Any, where: str = "") -> list[tuple[str, str]]:
    """Every ``summary`` and ``description`` of an OpenAPI document, with where it is."""
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("summary", "description") and isinstance(value, str):
                found.append((f"{where}/{key}", value))
            found += _texts(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _texts(value, f"{where}[{i}]")
    return found


def test_the_api_documentation_is_in_russian(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    texts = _texts(spec)
    assert len(texts) > 100
    english = [(where, t) for where, t in texts if not re.search("[а-яё]", t, re.I)]
    assert english == []
    summaries = [t for where, t in texts if where.endswith("/summary")]
    assert "Список опубликованных записей (с ключом города — и его черновики)." in summaries
    docs = page(client, "/api/v1/docs")
    assert "<h1>Обмен опытом АСДГ: API v1</h1>" in docs
    assert "Создать запись города, которому выдан ключ." in docs
    assert "<code>422</code> — ошибка в данных" in docs and "в строке запроса" in docs
