"""Feeds of the demo data: valid Atom and JSON Feed, the content readers see,
filters, mirrored entries with atom:source, OPML and autodiscovery."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from lxml import etree

from feeds.extension import NS
from feeds.parse import parse_feed
from service.cli.commands import load_demo
from service.http.feeds import feed_links
from service.store.models import db
from tests.feedcheck import (
    AT,
    ATOM,
    FH,
    add_mirrored_entry,
    atom_links,
    check_feedparser,
    check_json_feed,
    get_ok,
    validate_atom_files,
    walk,
)

BASE = "http://test.example"
HEADS = ["/feeds/all", "/feeds/network", "/cities/omsk/feed"]
FILTERS = ["", "?kind=practice", "?kind=event", "?topic=culture", "?kind=event&topic=culture"]


@pytest.fixture
def demo(app: Flask) -> Flask:
    with app.app_context():
        assert load_demo(), "the demo loads the Omsk note and its events"
        add_mirrored_entry("Зелёные дворы Барнаула")
    return app


def test_every_demo_feed_is_valid(demo: Flask, client: FlaskClient, tmp_path: Path) -> None:
    demo.config["FEED_PAGE_SIZE"] = 3  # several archive pages from the small demo
    atom_files: list[Path] = []
    documents = 0
    for head in HEADS:
        for query in FILTERS:
            for _, body in walk(client, f"{BASE}{head}.atom{query}"):
                check_feedparser(body)
                path = tmp_path / f"doc{len(atom_files)}.xml"
                path.write_bytes(body)
                atom_files.append(path)
            for url, body in walk(client, f"{BASE}{head}.json{query}"):
                check_json_feed(json.loads(body))
                assert parse_feed(body, url=url).format == "json"
                documents += 1
    validate_atom_files(atom_files)
    assert len(atom_files) == documents > 15


def test_atom_document_has_what_readers_need(demo: Flask, client: FlaskClient) -> None:
    body = get_ok(client, "/feeds/all.atom")
    root = etree.fromstring(body)
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "ru"
    links = atom_links(body)
    assert links["self"] == f"{BASE}/feeds/all.atom"
    assert links["alternate"].startswith(BASE)
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 7  # the note and six events; the mirrored one is not local
    practice = next(e for e in entries if ":practice/" in e.findtext(f"{ATOM}id"))
    html = practice.findtext(f"{ATOM}content")
    for heading in (
        "Что удалось сделать в 2020 году",
        "Задачи на 2021 год",
        "Какая помощь нужна от АСДГ",
    ):
        assert f"<h3>{heading}</h3>" in html
    assert practice.findtext(f"{ATOM}author/{ATOM}name") == "Администрация г. Омск"
    assert practice.find(f"{ATOM}published") is not None
    assert practice.find(f"{ATOM}updated") is not None
    assert practice.findtext(f"{ATOM}summary")
    link = practice.find(f"{ATOM}link")
    assert link.get("rel") == "alternate" and link.get("type") == "text/html"
    assert link.get("href").startswith(BASE + "/practices/")
    terms = {c.get("term"): c.get("label") for c in practice.findall(f"{ATOM}category")}
    assert terms and all(label for label in terms.values())
    event = next(e for e in entries if ":event/" in e.findtext(f"{ATOM}id"))
    event_html = event.findtext(f"{ATOM}content")
    assert "<dt>Когда</dt>" in event_html and "<dt>Формат</dt>" in event_html
    assert "<dt>Уровень</dt>" in event_html
    assert "<script" not in html and "<script" not in event_html


def test_json_feed_document(demo: Flask, client: FlaskClient) -> None:
    doc = json.loads(get_ok(client, "/cities/omsk/feed.json"))
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["language"] == "ru"
    assert doc["feed_url"] == f"{BASE}/cities/omsk/feed.json"
    assert doc["home_page_url"] == f"{BASE}/cities/omsk"
    assert doc["authors"] == [{"name": "Администрация г. Омск"}]
    assert len(doc["items"]) == 7
    for item in doc["items"]:
        assert item["url"].startswith(BASE)
        assert item["content_html"] and item["_asdg"]["city"]["slug"] == "omsk"
        assert item["authors"] == [{"name": "Администрация г. Омск"}]
        assert item["date_modified"] >= item["date_published"]


def test_filters_select_kind_topic_and_city(demo: Flask, client: FlaskClient) -> None:
    def ids(url: str) -> list[str]:
        return [
            i["_asdg"]["kind"] + ":" + ",".join(i["_asdg"]["topics"])
            for i in json.loads(get_ok(client, url))["items"]
        ]

    assert all(i.startswith("event:") for i in ids("/feeds/all.json?kind=event"))
    assert [i.split(":")[0] for i in ids("/feeds/all.json?kind=practice")] == ["practice"]
    culture = ids("/feeds/all.json?topic=culture")
    assert culture and all("culture" in i.split(":")[1].split(",") for i in culture)
    assert ids("/feeds/all.json?topic=elections") == []
    combined = ids("/feeds/all.json?kind=practice&topic=culture")
    assert all(i.startswith("practice:") for i in combined)


def test_network_feed_carries_mirrored_entries_with_source(
    demo: Flask, client: FlaskClient
) -> None:
    root = etree.fromstring(get_ok(client, "/feeds/network.atom"))
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 8
    mirrored = [e for e in entries if e.find(f"{ATOM}source") is not None]
    assert len(mirrored) == 1
    source = mirrored[0].find(f"{ATOM}source")
    assert source.findtext(f"{ATOM}id") == "https://barnaul.example/feeds/all.atom"
    assert source.findtext(f"{ATOM}title") == "Барнаул: все записи"
    assert source.find(f"{ATOM}link").get("href") == "https://barnaul.example/feeds/all.atom"
    assert mirrored[0].find(f"{ATOM}link").get("href") == "https://barnaul.example/practices/7"
    assert mirrored[0].findtext(f"{{{NS}}}record/{{{NS}}}origin") == "mirror"
    # Own feeds hold local entries only; a mirrored city has no feed here.
    assert len(etree.fromstring(get_ok(client, "/feeds/all.atom")).findall(f"{ATOM}entry")) == 7
    assert client.get("/cities/barnaul/feed.atom").status_code == 404


def test_head_without_archives_has_no_history_links(demo: Flask, client: FlaskClient) -> None:
    root = etree.fromstring(get_ok(client, "/feeds/all.atom"))
    assert root.find(f"{FH}archive") is None
    assert "prev-archive" not in atom_links(etree.tostring(root))
    assert root.find(f"{AT}deleted-entry") is None
    assert "next_url" not in json.loads(get_ok(client, "/feeds/all.json"))


def test_opml_lists_every_feed_of_this_instance(demo: Flask, client: FlaskClient) -> None:
    with demo.app_context():
        from service.cities import add_city

        add_city("tomsk", "Томск", "Томская область")
    response = client.get("/feeds/opml")
    assert response.status_code == 200
    assert response.content_type.startswith("text/x-opml")
    root = etree.fromstring(response.data)
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title")
    urls = [o.get("xmlUrl") for o in root.iter("outline")]
    expected = {
        f"{BASE}{path}.{fmt}"
        for fmt in ("atom", "json")
        for path in ("/feeds/all", "/feeds/network", "/cities/omsk/feed", "/cities/tomsk/feed")
    }
    assert set(urls) == expected and len(urls) == len(expected)
    assert not any("barnaul" in url for url in urls)  # mirrored cities have no feed here
    for outline in root.iter("outline"):
        assert outline.get("type") == "rss" and outline.get("text") and outline.get("htmlUrl")
        get_ok(client, outline.get("xmlUrl"))
    etag = response.headers["ETag"]
    assert client.get("/feeds/opml", headers={"If-None-Match": etag}).status_code == 304


def test_feed_links_for_autodiscovery(demo: Flask, client: FlaskClient) -> None:
    with demo.test_request_context():
        links = feed_links()
        city_links = feed_links("omsk")
        assert feed_links("barnaul") == links  # not hosted here: instance feeds only
        html = render_template_string(
            '{% for f in feed_links("omsk") %}<link rel="alternate" type="{{ f.type }}" '
            'title="{{ f.title }}" href="{{ f.href }}">{% endfor %}'
        )
    assert [(link["href"], link["type"]) for link in links] == [
        (f"{BASE}/feeds/all.atom", "application/atom+xml"),
        (f"{BASE}/feeds/all.json", "application/feed+json"),
        (f"{BASE}/feeds/network.atom", "application/atom+xml"),
    ]
    assert [link["href"] for link in city_links[:2]] == [
        f"{BASE}/cities/omsk/feed.atom",
        f"{BASE}/cities/omsk/feed.json",
    ]
    assert all(link["title"] for link in city_links)
    assert 'href="http://test.example/cities/omsk/feed.atom"' in html
    for link in city_links:
        response = client.get(link["href"].removeprefix(BASE))
        assert response.status_code == 200
        assert response.content_type.split(";")[0] == link["type"]


def test_html_pages_link_their_feeds(demo: Flask, client: FlaskClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    head = etree.HTML(page.data).find("head")
    alternates = {
        (link.get("type"), link.get("href"))
        for link in head.iter("link")
        if link.get("rel") == "alternate"
    }
    for path, media_type in (
        ("/feeds/all.atom", "application/atom+xml"),
        ("/feeds/all.json", "application/feed+json"),
        ("/feeds/network.atom", "application/atom+xml"),
    ):
        assert (media_type, BASE + path) in alternates or (media_type, path) in alternates


def test_empty_instance_has_valid_empty_feeds(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    body = get_ok(client, "/feeds/all.atom")
    check_feedparser(body)
    path = tmp_path / "empty.xml"
    path.write_bytes(body)
    validate_atom_files([path])
    doc = json.loads(get_ok(client, "/feeds/network.json"))
    check_json_feed(doc)
    assert doc["items"] == []
    with app.app_context():
        db.session.remove()
