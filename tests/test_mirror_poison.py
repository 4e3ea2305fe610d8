"""Poison pills and unsafe links in a hostile member's feed, served over real HTTP.

Each bad entry is refused with its reason (counted and shown on the
subscription); the rest of the feed is stored; subscribing and polling never
answer 5xx nor print a traceback; links that are not absolute http(s) URLs
never reach a page.
"""

from __future__ import annotations

import copy
import json
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from feeds.fetch import is_public_address
from feeds.signing import canonical_record, key_id_of, public_text, sign
from service.store.models import Entry, Subscription, db
from tests import test_mirror_api
from tests.conftest import Api, event_body
from tests.feedserver import FeedServer, Instance

SUBS = "/api/v1/subscriptions"
#: The fixture of an instance with two published notes.
source = test_mirror_api.source
ATOM = "http://www.w3.org/2005/Atom"


@pytest.fixture
def mirror(app: Flask) -> Flask:
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_TIMEOUT=5.0)
    return app


def _variant(item: dict[str, Any], n: str, **changes: Any) -> dict[str, Any]:
    """A copy of a JSON Feed item under a new id, with changes to its ``_asdg`` record."""
    out = copy.deepcopy(item)
    out["id"] = out["_asdg"]["id"] = f"{item['id']}-{n}"
    for name, value in changes.items():
        if name == "latitude":
            out["_asdg"]["city"]["latitude"] = value
        elif name == "item_url":
            out["url"] = value
        else:
            out["_asdg"][name] = value
    return out


#: Poison pills: (name, kind of the item copied, changes, a word its refusal reason names).
PILLS = [
    ("lone surrogate", "practice", {"title": "Омск \ud800"}, "недопустимый символ"),
    ("NUL byte", "practice", {"summary": "до\x00после"}, "недопустимый символ"),
    ("31-digit participants", "event", {"participants": 10**30}, "participants"),
    ("400-digit latitude", "practice", {"latitude": int("4" * 400)}, "latitude"),
    ("year 1", "practice", {"published": "0001-01-01T00:00:00+00:00"}, "published"),
    ("year 9999", "practice", {"updated": "9999-12-31T00:00:00+00:00"}, "updated"),
    ("reporting year 9999", "practice", {"year": 9999}, "year"),
    ("event in 2200", "event", {"starts_on": "2200-01-01", "year": 2200}, "year"),
    ("31 tags", "practice", {"tags": [f"t{i}" for i in range(31)]}, "tags"),
]


def resign(doc: dict[str, Any], site: str) -> dict[str, Any]:
    """The document as a hostile member publishes it: every record signed by its own key."""
    key = Ed25519PrivateKey.generate()
    key_id = key_id_of(key.public_key())
    for item in doc["items"]:
        record = {k: v for k, v in item["_asdg"].items() if k not in ("signature", "key_id")}
        item["_asdg"] = {
            **record,
            "signature": sign(key, canonical_record(record)),
            "key_id": key_id,
        }
    statement = {"id": key_id, "public_key": public_text(key.public_key()), "site": site}
    doc["_asdg"]["keys"] = [{**statement, "authority": "source.test"}]
    return doc


def hostile_json(source: Instance, site: str) -> tuple[str, list[str]]:
    """The source's JSON feed with every pill added and one entry with unsafe links."""
    token = source.add_city("tara", "Тара")
    source.api("POST", "/api/v1/events", token, event_body(title="Событие"))
    doc = json.loads(source.app.test_client().get("/feeds/all.json").data)
    by_kind = {item["_asdg"]["kind"]: item for item in doc["items"]}
    pills = [_variant(by_kind[kind], f"pill-{n}", **c) for n, (_, kind, c, _) in enumerate(PILLS)]
    unsafe = _variant(
        by_kind["practice"],
        "unsafe",
        url="javascript:alert(1)",
        item_url="data:text/html,<script>alert(1)</script>",
    )
    doc["items"] += [*pills, unsafe]
    doc["home_page_url"] = "javascript:alert(2)"
    return json.dumps(resign(doc, site), ensure_ascii=True), [unsafe["id"]]


def test_poison_pills_are_refused_one_by_one(
    api: Api, mirror: Flask, runner: FlaskCliRunner, source: Instance, server: FeedServer
) -> None:
    body, (unsafe_id,) = hostile_json(source, server.url("").rstrip("/"))
    url = server.add("/hostile.json", body, content_type="application/feed+json")
    operator = api.token(None)
    created = api.post(SUBS, {"url": url}, operator)
    assert created.status_code == 201, created.json

    polled = runner.invoke(args=["mirror", "poll", "--json"])
    assert polled.exit_code == 0, polled.output
    assert "Traceback" not in polled.output
    summary = json.loads(polled.output.strip().splitlines()[-1])
    assert summary["new"] == 4 and summary["errors"] == 0
    assert summary["refused"] == len(PILLS)

    (sub,) = api.get(SUBS, operator).json
    assert sub["state"] == "active" and sub["entries_mirrored"] == 4
    assert sub["refused_count"] == len(PILLS)
    # asdg:url, the item's url and the feed's home page: each counted with its reason
    assert sub["links_dropped"] == 3 and sub["site_url"] is None
    reasons = sub["refusal_reasons"].splitlines()
    dropped = [r for r in reasons if "отброшена ссылка" in r]
    assert sorted(r.split(": отброшена ")[1] for r in dropped) == [
        "ссылка записи: схема «data», а не http или https",
        "ссылка на оригинал (asdg:url): схема «javascript», а не http или https",
        "ссылка на сайт ленты: схема «javascript», а не http или https",
    ]
    for n, (name, _, _, word) in enumerate(PILLS):
        line = next((r for r in reasons if f"-pill-{n}:" in r), "")
        assert word in line, (name, reasons)
    with mirror.app_context():
        unsafe = db.session.scalar(select(Entry).where(Entry.uid == unsafe_id))
        assert unsafe is not None and unsafe.link is None
        stored = {e.uid for e in db.session.scalars(select(Entry))}
        assert not [uid for uid in stored if "-pill-" in uid]
    page = mirror.test_client().get("/").get_data(as_text=True)
    assert "javascript:" not in page and "data:text" not in page
    network = mirror.test_client().get("/feeds/network.atom").get_data(as_text=True)
    assert "javascript:" not in network and "data:text" not in network

    again = runner.invoke(args=["mirror", "poll", "--all", "--json"])
    assert again.exit_code == 0 and "Traceback" not in again.output

    from tests.test_web_admin import logged_in

    manager = logged_in(mirror, api, runner, "omsk", "Омск", instance=True)
    admin_page = manager.client.get("/admin/subscriptions")
    html = admin_page.get_data(as_text=True)
    assert admin_page.status_code == 200 and "Отклонено при последнем опросе" in html
    assert html.count("<li>tag:source.test") >= len(PILLS) and "javascript:" not in html


def test_generic_feeds_with_unsafe_links_and_far_dates(
    api: Api, mirror: Flask, runner: FlaskCliRunner, server: FeedServer
) -> None:
    feed = f"""<?xml version="1.0"?><feed xmlns="{ATOM}"><title>Новости</title><id>urn:x</id>
<link href="javascript:alert(1)"/><updated>2024-01-01T00:00:00Z</updated>
<entry><id>urn:a</id><title>Ссылка-скрипт</title><link href="javascript:alert(3)"/>
<updated>2024-01-01T00:00:00Z</updated></entry>
<entry><id>urn:b</id><title>Из будущего</title><link href="https://news.example/b"/>
<updated>2999-01-01T00:00:00Z</updated></entry>
<entry><id>urn:c</id><title>Обычная</title><link href="https://news.example/c"/>
<updated>2024-01-02T00:00:00Z</updated></entry></feed>"""
    url = server.add("/news.atom", feed)
    nul = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "JSON\u0000",
            "items": [
                {"id": "urn:n1", "title": "нуль\u0000", "date_modified": "2024-01-01T00:00:00Z"},
                {"id": "urn:n2\ud800", "title": "ид", "date_modified": "2024-01-01T00:00:00Z"},
                {"id": "urn:n3", "title": "хорошая", "date_modified": "2024-01-01T00:00:00Z"},
            ],
        }
    )
    json_url = server.add("/nul.json", nul, content_type="application/feed+json")
    operator = api.token(None)
    for feed_url in (url, json_url):
        assert api.post(SUBS, {"url": feed_url}, operator).status_code == 201
    polled = runner.invoke(args=["mirror", "poll", "--json"])
    assert polled.exit_code == 0 and "Traceback" not in polled.output, polled.output
    with mirror.app_context():
        entries = {e.uid: e for e in db.session.scalars(select(Entry))}
        subs = {s.url: s for s in db.session.scalars(select(Subscription))}
        assert set(entries) == {"urn:a", "urn:c", "urn:n3"}, [s.last_error for s in subs.values()]
        assert entries["urn:a"].link is None
        subs = {s.url: s for s in db.session.scalars(select(Subscription))}
        assert subs[url].refused_count == 1 and "updated" in (subs[url].refusal_reasons or "")
        assert subs[url].site_url is None
        assert subs[json_url].refused_count == 2 and subs[json_url].title == "JSON"
    page = mirror.test_client().get("/").get_data(as_text=True)
    assert "javascript:" not in page


def test_opml_html_urls_must_be_http(api: Api, mirror: Flask) -> None:
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head/><body>
<outline text="a" xmlUrl="https://a.example/feed.atom" htmlUrl="javascript:alert(1)"/>
<outline text="b" xmlUrl="https://b.example/feed.atom" htmlUrl="https://b.example/"/>
</body></opml>"""
    from service.mirror import subscriptions

    with mirror.app_context():
        created = {s.url: s.site_url for s in subscriptions.import_opml(opml)}
    assert created == {
        "https://a.example/feed.atom": None,
        "https://b.example/feed.atom": "https://b.example/",
    }


@pytest.mark.parametrize(
    "address",
    ["fec0::1", "192.0.0.8", "192.88.99.1", "224.0.0.1", "ff0e::1", "::ffff:127.0.0.1",
     "64:ff9b::7f00:1", "2002:7f00:1::1", "100.64.0.1", "10.1.2.3", "fe80::1", "fc00::1",
     "169.254.169.254", "0.0.0.0", "::", "2001:db8::1"],
)  # fmt: skip
def test_address_guard_refuses_non_global_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2a00:1450:4001::1", "192.0.0.9"])
def test_address_guard_accepts_global_unicast(address: str) -> None:
    assert is_public_address(address)


UNSAFE_LINKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "ftp://files.example/x",
    "mailto:x@example.org",
    "java\tscript:alert(1)",
    "http://exa mple.org/",
]


def test_no_link_but_http_and_https_reaches_a_page(
    api: Api, mirror: Flask, runner: FlaskCliRunner, server: FeedServer
) -> None:
    entries = "".join(
        f"<entry><id>urn:s{i}</id><title>Ссылка {i}</title><link href={quoteattr(href)}/>"
        f"<updated>2024-01-0{1 + i % 9}T00:00:00Z</updated></entry>"
        for i, href in enumerate(UNSAFE_LINKS)
    )
    good = '<entry><id>urn:ok</id><title>Хорошая</title><link href="https://x.example/ok"/>'
    feed = (
        f'<?xml version="1.0"?><feed xmlns="{ATOM}"><title>Ссылки</title><id>urn:f</id>'
        f"<updated>2024-01-01T00:00:00Z</updated>{entries}{good}"
        "<updated>2024-01-01T00:00:00Z</updated></entry></feed>"
    )
    assert (
        api.post(SUBS, {"url": server.add("/links.atom", feed)}, api.token(None)).status_code == 201
    )
    assert runner.invoke(args=["mirror", "poll"]).exit_code == 0
    with mirror.app_context():
        links = {e.uid: e.link for e in db.session.scalars(select(Entry))}
    assert links.pop("urn:ok") == "https://x.example/ok"
    assert len(links) == len(UNSAFE_LINKS) and set(links.values()) == {None}
    client = mirror.test_client()
    pages = [client.get("/").get_data(as_text=True)]
    pages += [
        client.get(f"/feeds/network.{fmt}").get_data(as_text=True) for fmt in ("atom", "json")
    ]
    for text in pages:
        for scheme in ("javascript:", "vbscript:", "data:text", "file:", "ftp:", "mailto:x@"):
            assert scheme not in text.lower(), scheme
