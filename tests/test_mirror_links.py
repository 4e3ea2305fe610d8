"""Every link of a hostile feed or OPML file that is not an absolute http(s) URL is dropped,
counted and explained on the subscription (API and admin page), over real HTTP.

The parser notes the links it drops (an entry's alternate link, a relayed
entry's source link, the feed's home page, an OPML ``htmlUrl``); the mirror
counts them with the records' ``asdg:url`` in ``links_dropped`` and gives one
reason a line in ``refusal_reasons``. None of them reaches a page, an admin
page or a feed this instance publishes.
"""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from service.store.models import Entry, Subscription, db
from tests.conftest import Api
from tests.feedserver import FeedServer
from tests.test_web_admin import flashed, logged_in, upload_opml

SUBS = "/api/v1/subscriptions"
ATOM = "http://www.w3.org/2005/Atom"
#: What must never show anywhere.
UNSAFE = ("javascript:", "data:text", "vbscript:")
SCHEME = "а не http или https"


@pytest.fixture
def mirror(app: Flask) -> Flask:
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_TIMEOUT=5.0)
    return app


HOSTILE = f"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="{ATOM}">
<title>Враждебная лента</title><id>urn:hostile</id>
<link rel="alternate" type="text/html" href="data:text/html,&lt;script&gt;alert(2)&lt;/script&gt;"/>
<updated>2024-01-03T00:00:00Z</updated>
<entry><id>urn:a</id><title>Скрипт вместо ссылки</title><link href="javascript:alert(1)"/>
<updated>2024-01-01T00:00:00Z</updated><content>раз</content></entry>
<entry><id>urn:b</id><title>Чужой источник</title><link href="https://news.example/b"/>
<source><id>urn:other</id><title>Другая</title><link rel="self" href="vbscript:msgbox(1)"/></source>
<updated>2024-01-02T00:00:00Z</updated><content>два</content></entry>
<entry><id>urn:c</id><title>Обычная</title><link href="https://news.example/c"/>
<updated>2024-01-03T00:00:00Z</updated><content>три</content></entry>
</feed>"""


def _published(app: Flask) -> list[str]:
    """Everything this instance shows about mirrored entries: pages and published feeds."""
    client = app.test_client()
    with app.app_context():
        entries = list(db.session.scalars(select(Entry)))
        slugs = {e.city.slug for e in entries}
    paths = ["/", "/search?q=", "/feeds/opml", "/cities"]
    paths += [f"/cities/{slug}" for slug in slugs]
    paths += [f"/practices/{e.id}" for e in entries]
    paths += [f"/feeds/network.{fmt}" for fmt in ("atom", "json")]
    paths += [f"/feeds/all.{fmt}" for fmt in ("atom", "json")]
    out = []
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 200, path
        out.append(answer.get_data(as_text=True))
    return out


def test_dropped_feed_links_are_counted_with_their_reasons(
    api: Api, mirror: Flask, runner: FlaskCliRunner, server: FeedServer
) -> None:
    url = server.add("/hostile.atom", HOSTILE)
    operator = api.token(None)
    created = api.post(SUBS, {"url": url}, operator)
    assert created.status_code == 201, created.json
    # subscribing read the feed once: its home page is dropped and counted already
    assert created.json["links_dropped"] == 1 and created.json["site_url"] is None
    assert f"{SCHEME}" in created.json["refusal_reasons"]

    polled = runner.invoke(args=["mirror", "poll"])
    assert polled.exit_code == 0 and "Traceback" not in polled.output, polled.output
    (sub,) = api.get(SUBS, operator).json
    assert sub["state"] == "active" and sub["entries_mirrored"] == 3
    assert sub["refused_count"] == 0 and sub["site_url"] is None
    assert sub["links_dropped"] == 3
    assert sorted(sub["refusal_reasons"].splitlines()) == [
        f"{url}: отброшена ссылка на сайт ленты: схема «data», {SCHEME}",
        f"urn:a: отброшена ссылка записи: схема «javascript», {SCHEME}",
        f"urn:b: отброшена ссылка на источник: схема «vbscript», {SCHEME}",
    ]
    with mirror.app_context():
        links = {e.uid: e.link for e in db.session.scalars(select(Entry))}
        assert db.session.scalar(select(Subscription.site_url)) is None
    assert links == {
        "urn:a": None,
        "urn:b": "https://news.example/b",
        "urn:c": "https://news.example/c",
    }

    manager = logged_in(mirror, api, runner, "omsk", "Омск", instance=True)
    admin = manager.client.get("/admin/subscriptions").get_data(as_text=True)
    assert '<dd class="links-dropped">3 (' in admin
    assert f"<li>urn:a: отброшена ссылка записи: схема «javascript», {SCHEME}</li>" in admin
    for text in [admin, *_published(mirror)]:
        for scheme in UNSAFE:
            assert scheme not in text.lower(), scheme

    # the next poll counts its own drops (the same three), not a running total
    assert runner.invoke(args=["mirror", "poll", "--all"]).exit_code == 0
    assert api.get(SUBS, operator).json[0]["links_dropped"] == 3


def test_opml_html_url_dropped_is_counted_until_the_first_poll(
    api: Api, mirror: Flask, runner: FlaskCliRunner, server: FeedServer
) -> None:
    feed = HOSTILE.replace('href="data:text/html,&lt;script&gt;alert(2)&lt;/script&gt;"',
                           'href="https://news.example/"')  # fmt: skip
    url = server.add("/news.atom", feed)
    opml = (
        f'<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline text="Новости" xmlUrl="{url}" htmlUrl="javascript:alert(1)"/>'
        f'<outline text="Чистая" xmlUrl="{server.url("/none.atom")}" htmlUrl="https://b.example/"/>'
        "</body></opml>"
    ).encode()
    manager = logged_in(mirror, api, runner, "omsk", "Омск", instance=True)
    posted = upload_opml(manager, opml)
    assert "Из OPML добавлено подписок: 2. Отброшено ссылок" in flashed(posted)
    html = posted.get_data(as_text=True)
    assert '<dd class="links-dropped">1 (' in html and "javascript:" not in html
    assert f"отброшена адрес сайта (htmlUrl) из OPML: схема «javascript», {SCHEME}" in html
    operator = api.token(None)
    subs = {s["url"]: s for s in api.get(SUBS, operator).json}
    assert subs[url]["links_dropped"] == 1 and subs[url]["site_url"] is None
    assert "htmlUrl" in subs[url]["refusal_reasons"]
    clean = subs[server.url("/none.atom")]
    assert clean["links_dropped"] == 0 and clean["site_url"] == "https://b.example/"

    assert runner.invoke(args=["mirror", "poll"]).exit_code == 0
    subs = {s["url"]: s for s in api.get(SUBS, operator).json}
    # the poll's own count: the feed's home page is fine, its entries' links are not
    assert subs[url]["site_url"] == "https://news.example/"
    assert subs[url]["links_dropped"] == 2 and "htmlUrl" not in subs[url]["refusal_reasons"]
    admin = manager.client.get("/admin/subscriptions").get_data(as_text=True)
    for text in [admin, *_published(mirror)]:
        for scheme in UNSAFE:
            assert scheme not in text.lower(), scheme
