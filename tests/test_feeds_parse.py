"""feeds.parse on documents of every kind: ordinary Atom, RSS and JSON Feed,
our own extension, several tombstones, and hostile or broken input."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from feeds.errors import FeedParseError
from feeds.extension import NS
from feeds.parse import MAX_ENTRIES, parse_feed
from feeds.publish import render_atom, render_json
from feeds.types import DroppedLink, FeedDocument, FeedItem, LinkFlaw, LinkKind

URL = "https://city.example/feeds/all.atom"
WHEN = datetime(2021, 5, 6, 7, 8, 9, tzinfo=UTC)


def snapshot(n: int, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": f"tag:city.example,2021-05-06:practice/{n}",
        "kind": "practice",
        "title": f"Практика {n}",
        "city": {
            "slug": "omsk",
            "name": "Омск",
            "region": None,
            "latitude": 54.9885,
            "longitude": 73.3242,
        },
        "topics": ["culture"],
        "tags": ["онлайн", "дети"],
        "year": 2020,
        "summary": "Что делаем.\n\n- пункт",
        "status": "published",
        "published": WHEN.isoformat(),
        "updated": WHEN.isoformat(),
        "url": f"https://city.example/practices/{n}",
        "origin": "local",
        "area": "Культура",
        "achievements": "",
        "plans": "Планы",
        "assistance": "Помощь",
        "body": None,
        "contact": {"name": "Иванова", "position": None, "email": "a@b.ru", "phone": None},
        "content_html": "<h3>Чем занимается подразделение</h3>\n<p>Что делаем.</p>",
    }
    data.update(over)
    return data


def event(n: int) -> dict[str, object]:
    data = snapshot(n, kind="event", id=f"tag:city.example,2021-05-06:event/{n}")
    for name in ("area", "achievements", "plans", "assistance", "body", "contact"):
        del data[name]
    data.update(
        stage="held",
        month=3,
        starts_on="2021-03-01",
        ends_on="2021-03-02",
        format="hybrid",
        level="regional",
        location="Омск",
        participants=None,
        results="Итоги",
        related=None,
    )
    return data


def tombstone(n: int) -> FeedItem:
    data = {
        "id": f"tag:city.example,2021-05-06:practice/{n}",
        "kind": "practice",
        "city": {"slug": "omsk", "name": "Омск"},
        "url": f"https://city.example/p/{n}",
        "origin": "local",
        "source": None,
    }
    return FeedItem(data, True, WHEN)


def document(items: tuple[FeedItem, ...], **over: object) -> FeedDocument:
    fields: dict[str, object] = dict(
        feed_id=URL,
        title="Лента",
        self_url=URL,
        current_url=URL,
        home_url="https://city.example/",
        updated=WHEN,
        items=items,
    )
    fields.update(over)
    return FeedDocument(**fields)  # type: ignore[arg-type]


RECORDS = [
    snapshot(1),
    event(2),
    snapshot(
        3,
        origin="mirror",
        source={"id": "https://b.example/f", "title": "Б", "url": None},
        tags=[],
        contact=None,
        body="",
        year=None,
    ),
    snapshot(4, generic=True, title="«Кавычки» & <теги> \"и\" 'апострофы'"),
]


@pytest.mark.parametrize("render", [render_atom, render_json])
def test_our_extension_round_trips_every_field(render: object) -> None:
    items = tuple(FeedItem(r, False, WHEN) for r in RECORDS)
    body = render(document(items))  # type: ignore[operator]
    parsed = parse_feed(body, url=URL)
    assert parsed.problems == ()
    assert [e.record for e in parsed.entries] == RECORDS
    assert parsed.entries[2].source is not None
    assert parsed.entries[2].source.id == "https://b.example/f"
    assert parsed.entries[0].updated == WHEN and parsed.entries[0].published == WHEN
    assert parsed.entries[0].link == "https://city.example/practices/1"
    assert parsed.entries[0].authors == ("Администрация г. Омск",)


@pytest.mark.parametrize("render", [render_atom, render_json])
def test_several_tombstones_in_one_document(render: object) -> None:
    items = (tombstone(1), FeedItem(snapshot(2), False, WHEN), tombstone(3), tombstone(4))
    parsed = parse_feed(render(document(items)), url=URL)  # type: ignore[operator]
    assert [t.id.rsplit("/", 1)[1] for t in parsed.tombstones] == ["1", "3", "4"]
    assert all(t.when == WHEN and t.by == "Администрация г. Омск" for t in parsed.tombstones)
    # No link: readers would take a tombstone's link as the whole feed's website.
    assert all(t.link is None for t in parsed.tombstones)
    assert parsed.site_url == "https://city.example/"
    assert [e.id for e in parsed.entries] == [snapshot(2)["id"]]


@pytest.mark.parametrize("render", [render_atom, render_json])
def test_archive_markers_and_links(render: object) -> None:
    doc = document(
        (),
        archive_page=2,
        self_url=URL + "?page=2",
        prev_archive_url=URL + "?page=1",
        next_archive_url=URL + "?page=3",
    )
    parsed = parse_feed(render(doc), url=URL + "?page=2")  # type: ignore[operator]
    assert parsed.is_archive
    assert parsed.prev_archive == URL + "?page=1"
    assert parsed.current_url == URL
    assert parsed.self_url == URL + "?page=2"
    head = parse_feed(render(document((), prev_archive_url=URL + "?page=1")), url=URL)  # type: ignore[operator]
    assert not head.is_archive and head.prev_archive == URL + "?page=1"


def test_bad_extension_data_is_reported_not_fatal() -> None:
    good = FeedItem(snapshot(1), False, WHEN)
    body = render_json(document((good, FeedItem(snapshot(2), False, WHEN))))
    doc = json.loads(body)
    doc["items"][1]["_asdg"]["year"] = "двадцатый"
    doc["items"][0]["_asdg"]["id"] = "tag:other.example,2021:practice/9"
    parsed = parse_feed(json.dumps(doc).encode(), url=URL)
    assert [e.record for e in parsed.entries] == [None, None]
    assert len(parsed.problems) == 2 and "year" in parsed.problems[1]
    assert parsed.entries[1].title == "Практика 2"  # generic fields survive
    atom = render_atom(document((good,))).replace(b"<asdg:year>2020<", b"<asdg:year>x<")
    parsed_atom = parse_feed(atom, url=URL)
    assert parsed_atom.entries[0].record is None and "year" in parsed_atom.problems[0]


def test_ordinary_atom_feed() -> None:
    body = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/">
  <title type="html">Блог &lt;b&gt;мэрии&lt;/b&gt;</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2021-01-02T03:04:05Z</updated>
  <link rel="alternate" href="/"/>
  <link rel="self" href="feed.atom"/>
  <entry>
    <title>Первая</title>
    <id>urn:uuid:1</id>
    <updated>2021-01-01T10:00:00+07:00</updated>
    <link href="posts/1" xml:base="/2021/"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Текст
      <script>alert(1)</script><a href="javascript:x()" onclick="y()">ссылка</a></p></div>
    </content>
    <author><name>Пресс-служба</name></author>
    <category term="новости"/>
  </entry>
  <entry>
    <title type="text">Без даты и без id</title>
    <link rel="alternate" type="text/html" href="https://blog.example/posts/2"/>
    <summary type="html">&lt;p&gt;Кратко&lt;img src=x onerror=alert(1)&gt;&lt;/p&gt;</summary>
  </entry>
</feed>""".encode()
    parsed = parse_feed(body, url="https://blog.example/feed.atom")
    assert parsed.format == "atom" and parsed.title == "Блог мэрии"
    assert parsed.site_url == "https://blog.example/"
    assert parsed.self_url == "https://blog.example/feed.atom"
    assert parsed.prev_archive is None and not parsed.is_archive
    first, second = parsed.entries
    assert first.link == "https://blog.example/2021/posts/1"
    assert first.updated == datetime(2021, 1, 1, 3, 0, tzinfo=UTC)
    assert "<script" not in first.content_html and "alert" not in first.content_html
    assert "javascript" not in first.content_html and "onclick" not in first.content_html
    assert "<p>Текст" in first.content_html and "ссылка" in first.content_html
    assert first.authors == ("Пресс-служба",) and first.categories == ("новости",)
    assert first.record is None and first.source is None
    assert second.id.startswith("urn:sha256:")
    assert second.updated == datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)  # the feed's date
    assert "onerror" not in second.content_html and second.summary == "Кратко"


RSS = """<?xml version="1.0" encoding="windows-1251"?>
<rss version="2.0"><channel>
  <title>Новости города</title><link>https://news.example/</link>
  <description>Лента</description>
  <item><title>Субботник &amp; уборка</title><link>/news/1</link>
    <guid>https://news.example/news/1</guid>
    <pubDate>Tue, 02 Mar 2021 10:00:00 +0300</pubDate>
    <description>&lt;p&gt;Приходите&lt;/p&gt;&lt;iframe src="https://evil.example"&gt;&lt;/iframe&gt;</description>
  </item>
  <item><title>Без guid и даты</title><link>https://news.example/news/2</link></item>
</channel></rss>"""


def test_rss_feed_gives_generic_entries() -> None:
    parsed = parse_feed(
        RSS.encode("cp1251"), url="https://news.example/rss", content_type="application/rss+xml"
    )
    assert parsed.format == "rss" and parsed.title == "Новости города"
    assert parsed.site_url == "https://news.example/"
    first, second = parsed.entries
    assert first.id == "https://news.example/news/1"
    assert first.title == "Субботник & уборка"
    assert first.link == "https://news.example/news/1"
    assert first.updated == datetime(2021, 3, 2, 7, 0, tzinfo=UTC)
    assert first.content_html == "<p>Приходите</p>" and first.record is None
    assert second.id.startswith("urn:sha256:") and second.updated.tzinfo is not None
    again = parse_feed(RSS.encode("cp1251"), url="https://news.example/rss")
    assert again.entries[1].id == second.id  # derived ids are stable


def test_json_feed_1_0_and_others() -> None:
    doc = {
        "version": "https://jsonfeed.org/version/1",
        "title": "Чужая лента",
        "home_page_url": "https://other.example/",
        "next_url": "https://other.example/feed.json?page=2",
        "items": [
            {
                "id": 7,
                "url": "/p/7",
                "content_text": "Текст <b>не HTML</b>",
                "author": {"name": "Автор"},
                "date_modified": "2021-01-01T00:00:00Z",
            },
            {"content_html": "<p>Без id</p><script>x</script>", "title": "Т"},
            "не объект",
        ],
    }
    parsed = parse_feed(json.dumps(doc).encode(), url="https://other.example/feed.json")
    assert (
        parsed.format == "json" and parsed.prev_archive == "https://other.example/feed.json?page=2"
    )
    first, second = parsed.entries
    assert first.id == "7" and first.link == "https://other.example/p/7"
    assert first.content_html == "<p>Текст &lt;b&gt;не HTML&lt;/b&gt;</p>"
    assert first.authors == ("Автор",) and first.record is None
    assert second.id.startswith("urn:sha256:") and second.content_html == "<p>Без id</p>"
    assert len(parsed.problems) == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&lol3;</title></feed>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE feed [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>&xxe;</title></feed>"""
INTERNAL_DTD = b"""<?xml version="1.0"?><!DOCTYPE feed [<!ELEMENT feed ANY>]>
<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>"""
UTF16_BOMB = (
    BILLION_LAUGHS.replace(b'version="1.0"?>', b'version="1.0" encoding="UTF-16"?>')
    .decode()
    .encode("utf-16")
)


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        INTERNAL_DTD,
        UTF16_BOMB,
        b"",
        b"   \n",
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>x</title><entry>",
        b'{"version": "https://jsonfeed.org/version/1.1", "items": [',
        b"<html><body>not a feed</body></html>",
        b"<feed xmlns='http://www.w3.org/2005/Atom'><title>\xff\xfe</title></feed>",
        b"[1, 2]",
        b'{"title": "no version", "items": []}',
        b'{"version": "https://example.com/v9", "items": []}',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}',
        b"\x00\x01binary",
        ("[" * 100_000).encode(),
    ],
    ids=[
        "billion-laughs",
        "xxe",
        "internal-dtd",
        "utf16-entities",
        "empty",
        "blank",
        "truncated-atom",
        "truncated-json",
        "html",
        "bad-utf8",
        "json-array",
        "no-version",
        "bad-version",
        "items-not-list",
        "binary",
        "deep-json",
    ],
)
def test_hostile_or_broken_documents_raise(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, url=URL)


def test_external_doctype_without_subset_is_harmless() -> None:
    body = """<?xml version="1.0"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://127.0.0.1:9/rss.dtd">
<rss version="0.91"><channel><title>Old</title><link>https://old.example/</link>
<description>d</description><language>ru</language>
<item><title>Один</title><link>https://old.example/1</link></item></channel></rss>""".encode()
    parsed = parse_feed(body, url="https://old.example/rss")
    assert [e.title for e in parsed.entries] == ["Один"]


def test_counts_and_lengths_are_bounded() -> None:
    items = [{"id": str(n), "content_text": ""} for n in range(MAX_ENTRIES + 1)]
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": items}
    with pytest.raises(FeedParseError):
        parse_feed(json.dumps(doc).encode(), url=URL)
    long = {
        "id": "i" * 600,
        "title": "Т" * 2000,
        "url": "https://x.example/" + "p" * 3000,
        "content_html": "<p>" + "a" * 2_000_000 + "</p>",
    }
    doc["items"] = [long]
    entry = parse_feed(json.dumps(doc).encode(), url=URL).entries[0]
    assert entry.id.startswith("urn:sha256:") and len(entry.title) == 500
    assert entry.link is None and len(entry.content_html) <= 1_000_010


def test_namespace_is_stable() -> None:
    assert NS == "https://asdg.example/ns/practice/1.0"


def test_characters_xml_cannot_carry_are_dropped_from_atom() -> None:
    record = snapshot(9, title="Заголовок\x0b с\x00 управляющими", plans="a\x01b", tags=["x\x02"])
    parsed = parse_feed(render_atom(document((FeedItem(record, False, WHEN),))), url=URL)
    assert parsed.entries[0].title == "Заголовок с управляющими"
    assert parsed.entries[0].record is not None
    assert parsed.entries[0].record["plans"] == "ab"
    assert parsed.entries[0].record["tags"] == ["x"]
    json_record = parse_feed(render_json(document((FeedItem(record, False, WHEN),))), url=URL)
    assert json_record.entries[0].record is not None
    assert json_record.entries[0].record["plans"] == "a\x01b"  # JSON carries them as they are


_DROPPED_DOCS = {
    "atom": (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title><id>urn:f</id>'
        '<link href="data:text/html,x"/><updated>2024-01-01T00:00:00Z</updated>'
        '<entry><id>urn:e</id><title>e</title><link href="javascript:alert(1)"/>'
        '<link rel="alternate" type="text/html" href="/ok"/>'
        "<updated>2024-01-01T00:00:00Z</updated></entry></feed>"
    ),
    "json": json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "home_page_url": "data:text/html,x",
            "items": [{"id": "urn:e", "url": "javascript:alert(1)", "external_url": "/ok"}],
        }
    ),
    "rss": (
        '<rss version="2.0"><channel><title>t</title><link>data:text/html,x</link>'
        "<item><guid>urn:e</guid><title>e</title><link>javascript:alert(1)</link></item>"
        "</channel></rss>"
    ),
}


@pytest.mark.parametrize("fmt", sorted(_DROPPED_DOCS))
def test_dropped_links_are_noted_with_their_kind_and_reason(fmt: str) -> None:
    feed = parse_feed(_DROPPED_DOCS[fmt].encode(), url=URL)
    assert feed.site_url is None
    assert feed.dropped_links == (DroppedLink(LinkKind.SITE, LinkFlaw.SCHEME, "data"),)
    (entry,) = feed.entries
    assert entry.dropped_links == (DroppedLink(LinkKind.ENTRY, LinkFlaw.SCHEME, "javascript"),)
    # a relative link is made absolute, not dropped (RSS has only one link per item)
    assert entry.link == (None if fmt == "rss" else "https://city.example/ok")


def test_links_with_spaces_or_too_long_are_dropped_with_that_reason() -> None:
    long = "https://city.example/" + "a" * 2000
    feed = parse_feed(
        json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "t",
                "home_page_url": "https://exa mple.org/",
                "items": [{"id": "urn:e", "url": long}],
            }
        ).encode(),
        url=URL,
    )
    assert [d.flaw for d in feed.dropped_links] == [LinkFlaw.CHARACTERS]
    assert [d.flaw for d in feed.entries[0].dropped_links] == [LinkFlaw.TOO_LONG]
