"""Render feed documents: Atom 1.0 (with feedgen), JSON Feed 1.1 and OPML 2.0.

Input is a :class:`feeds.types.FeedDocument` whose items are change-log rows
(entry snapshots and tombstones), so a document depends on nothing but its
rows: archive pages render to the same bytes forever.

feedgen 1.0 builds the Atom skeleton (feed metadata, entries, categories,
content). What it lacks goes in through its extension classes, which get the
lxml elements before serialisation:

- ``fh:archive`` (RFC 5005) and ``at:deleted-entry`` tombstones (RFC 6721),
  added to the feed element before the entries, where RFC 4287's schema wants
  foreign elements; each namespace is declared only on documents that use it
  (validators warn about unknown namespaces), and tombstones carry no
  ``atom:link`` (feedparser and reader take it as the whole feed's website);
- the entry ``link`` with ``rel`` and ``type`` (feedgen 1.0 writes only
  ``href`` for entry links, its issue 135, and restricts ``rel``, issue 138);
- ``atom:source`` with ``id`` and ``updated`` (feedgen writes only title and
  link; RFC 4287 wants the source feed's id, title and updated);
- our ``asdg:record`` (:mod:`feeds.extension`).

Feed-level links go through feedgen's ``link()``, which keeps every attribute
and accepts ``current``, ``prev-archive`` and ``next-archive``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import quoteattr

from feedgen.entry import FeedEntry
from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feeds.extension import (
    AT_NS,
    FH_NS,
    NS,
    PREFIX,
    append_keys,
    append_record,
    append_signature,
    record_json,
    xml_safe,
)
from feeds.signing import KeyStatement, statement_json
from feeds.types import FeedDocument, FeedItem, Outline

ATOM_TYPE = "application/atom+xml"
JSON_TYPE = "application/feed+json"
HTML_TYPE = "text/html"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
LANGUAGE = "ru"
UNTITLED = "(без названия)"
SUMMARY_LIMIT = 300


def author_name(city_name: str | None) -> str:
    """Who publishes a city's entries: its administration."""
    return f"Администрация г. {city_name}" if city_name else "Администрация города"


def _city_name(data: Mapping[str, Any]) -> str | None:
    city = data.get("city")
    return city.get("name") if isinstance(city, Mapping) else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def plain_summary(markdown: str | None, limit: int = SUMMARY_LIMIT) -> str:
    """The first paragraph of a Markdown text on one line, at most ``limit`` characters."""
    if not markdown:
        return ""
    first = " ".join(markdown.strip().split("\n\n", 1)[0].split())
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + "…"


# -- Atom (feedgen plus extensions) -------------------------------------------------


class _FeedExtension(BaseExtension):  # type: ignore[misc]
    """Feed-level additions: namespaces, the archive marker, tombstones."""

    def __init__(self) -> None:
        self.archive = False
        self.tombstones: list[FeedItem] = []
        self.keys: tuple[KeyStatement, ...] = ()

    def extend_ns(self) -> dict[str, str]:
        namespaces = {PREFIX: NS}
        if self.archive:
            namespaces["fh"] = FH_NS
        if self.tombstones:
            namespaces["at"] = AT_NS
        return namespaces

    def extend_atom(self, feed: etree._Element) -> etree._Element:
        sub = etree.SubElement
        if self.archive:
            sub(feed, f"{{{FH_NS}}}archive")
        for item in self.tombstones:
            data: Mapping[str, Any] = item.data
            element = sub(
                feed, f"{{{AT_NS}}}deleted-entry", ref=xml_safe(str(data["id"])), when=_iso(item.at)
            )
            # feedgen's tree is un-namespaced and serialised under a default
            # xmlns of Atom, so plain names here are Atom elements.
            by = sub(element, f"{{{AT_NS}}}by")
            sub(by, "name").text = xml_safe(author_name(_city_name(data)))
            append_signature(element, data)
        append_keys(feed, self.keys)
        return feed


class _EntryExtension(BaseEntryExtension):  # type: ignore[misc]
    """Entry-level additions: the full link, atom:source and asdg:record."""

    def __init__(self) -> None:
        self.data: Mapping[str, Any] = {}

    def extend_atom(self, entry: etree._Element) -> etree._Element:
        sub = etree.SubElement
        data = self.data
        if data.get("url"):
            sub(entry, "link", rel="alternate", type=HTML_TYPE, href=xml_safe(data["url"]))
        source = data.get("source")
        if isinstance(source, Mapping) and any(source.values()):
            element = sub(entry, "source")
            if source.get("id"):
                sub(element, "id").text = xml_safe(source["id"])
            if source.get("title"):
                sub(element, "title").text = xml_safe(source["title"])
            # The source feed was updated at least when this version of the entry was.
            sub(element, "updated").text = data["updated"]
            if source.get("url"):
                sub(element, "link", rel="self", href=xml_safe(source["url"]))
        append_record(entry, data)
        return entry


def _atom_entry(fg: FeedGenerator, doc: FeedDocument, data: Mapping[str, Any]) -> None:
    entry: FeedEntry = fg.add_entry(order="append")
    entry.id(xml_safe(str(data["id"])))
    entry.title(xml_safe(data.get("title") or UNTITLED))
    entry.updated(datetime.fromisoformat(data["updated"]))
    published = _when(data.get("published"))
    if published is not None:
        entry.published(published)
    entry.author(name=xml_safe(author_name(_city_name(data))))
    entry.content(xml_safe(data.get("content_html") or ""), type="html")
    summary = plain_summary(data.get("summary"))
    if summary:
        entry.summary(xml_safe(summary))
    categories = [
        {
            "term": xml_safe(code),
            "scheme": doc.topic_scheme,
            "label": xml_safe(doc.topic_names.get(code, code)),
        }
        for code in data.get("topics") or ()
    ]
    categories += [{"term": xml_safe(tag)} for tag in data.get("tags") or ()]
    if categories:
        entry.category(categories)
    entry.asdg.data = data


def render_atom(doc: FeedDocument, *, stylesheet: str | None = None) -> bytes:
    """The Atom 1.0 document (UTF-8 bytes).

    ``stylesheet``, the URL of an XSLT stylesheet, goes into an
    ``<?xml-stylesheet?>`` processing instruction before the root element: a
    browser shows the feed as a page for a person; feed readers and
    validators ignore processing instructions.
    """
    fg = FeedGenerator()
    fg.register_extension("asdg", _FeedExtension, _EntryExtension, atom=True, rss=False)
    fg.id(doc.feed_id)
    fg.title(xml_safe(doc.title))
    fg.updated(doc.updated)
    fg.language(LANGUAGE)
    fg.generator(doc.generator)
    if doc.author_name:
        fg.author(name=xml_safe(doc.author_name))
    fg.link(href=doc.self_url, rel="self", type=ATOM_TYPE)
    if doc.hub_url:
        fg.link(href=doc.hub_url, rel="hub")
    for href, media_type in doc.alternates:
        fg.link(href=href, rel="alternate", type=media_type)
    # The HTML page last: some readers (newsboat) take the last alternate as the website.
    fg.link(href=doc.home_url, rel="alternate", type=HTML_TYPE)
    if doc.archive_page is not None:
        fg.link(href=doc.current_url, rel="current", type=ATOM_TYPE)
    if doc.prev_archive_url:
        fg.link(href=doc.prev_archive_url, rel="prev-archive", type=ATOM_TYPE)
    if doc.next_archive_url:
        fg.link(href=doc.next_archive_url, rel="next-archive", type=ATOM_TYPE)
    fg.asdg.archive = doc.archive_page is not None
    fg.asdg.keys = doc.keys
    for item in doc.items:
        if item.deleted:
            fg.asdg.tombstones.append(item)
        else:
            _atom_entry(fg, doc, item.data)
    body: bytes = fg.atom_str(pretty=False, encoding="UTF-8", xml_declaration=True)
    if stylesheet is None:
        return body
    declaration, end, rest = body.partition(b"?>")
    return declaration + end + _stylesheet_pi(stylesheet) + rest


def _stylesheet_pi(href: str) -> bytes:
    pi = etree.ProcessingInstruction("xml-stylesheet", f'type="text/xsl" href={quoteattr(href)}')
    return b"\n" + etree.tostring(pi, encoding="unicode").encode()


# -- JSON Feed 1.1 ------------------------------------------------------------------


def _json_tombstone(item: FeedItem) -> dict[str, Any]:
    """One deletion in the feed-level ``_asdg.deleted`` list (never an item)."""
    data: Mapping[str, Any] = item.data
    out = {"id": data["id"], "when": _iso(item.at), "by": author_name(_city_name(data))}
    if data.get("signature") and data.get("key_id"):
        out.update(signature=data["signature"], key_id=data["key_id"])
    return out


def _json_item(doc: FeedDocument, item: FeedItem) -> dict[str, Any]:
    data: Mapping[str, Any] = item.data
    out: dict[str, Any] = {
        "id": data["id"],
        "url": data.get("url"),
        "title": data.get("title") or UNTITLED,
        "content_html": data.get("content_html") or "",
    }
    summary = plain_summary(data.get("summary"))
    if summary:
        out["summary"] = summary
    if data.get("published"):
        out["date_published"] = data["published"]
    out["date_modified"] = data["updated"]
    tags = [doc.topic_names.get(code, code) for code in data.get("topics") or ()]
    tags += list(data.get("tags") or ())
    if tags:
        out["tags"] = tags
    out["authors"] = [{"name": author_name(_city_name(data))}]
    out["language"] = LANGUAGE
    out["_asdg"] = record_json(data)
    if out["url"] is None:
        del out["url"]
    return out


def json_dict(doc: FeedDocument) -> dict[str, Any]:
    """The JSON Feed 1.1 document as a dict."""
    meta: dict[str, Any] = {"about": NS, "archive": doc.archive_page is not None}
    if doc.archive_page is not None:
        meta["page"] = doc.archive_page
        meta["self"] = doc.self_url
        meta["current"] = doc.current_url
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": doc.title,
        "home_page_url": doc.home_url,
        "feed_url": doc.current_url,
        "language": LANGUAGE,
    }
    if doc.author_name:
        feed["authors"] = [{"name": doc.author_name}]
    if doc.prev_archive_url:
        # JSON Feed pages run from new to old: next_url is the older page.
        feed["next_url"] = doc.prev_archive_url
    # Deletions are feed-level data: readers would show deleted items as blank entries.
    deleted = [_json_tombstone(item) for item in doc.items if item.deleted]
    if deleted:
        meta["deleted"] = deleted
    if doc.hub_url:
        feed["hubs"] = [{"type": "WebSub", "url": doc.hub_url}]
    if doc.keys:
        meta["keys"] = [statement_json(k) for k in doc.keys]
    feed["_asdg"] = meta
    feed["items"] = [_json_item(doc, item) for item in doc.items if not item.deleted]
    return feed


def render_json(doc: FeedDocument) -> bytes:
    """The JSON Feed 1.1 document (UTF-8 bytes)."""
    return json.dumps(json_dict(doc), ensure_ascii=False, separators=(",", ":")).encode()


# -- OPML 2.0 -----------------------------------------------------------------------


def render_opml(
    title: str,
    outlines: list[Outline],
    *,
    created: datetime | None = None,
    owner: str | None = None,
) -> bytes:
    """An OPML 2.0 subscription list."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = xml_safe(title)
    if created is not None:
        etree.SubElement(head, "dateCreated").text = format_datetime(
            created.astimezone(UTC), usegmt=True
        )
    if owner:
        etree.SubElement(head, "ownerName").text = xml_safe(owner)
    body = etree.SubElement(root, "body")
    for outline in outlines:
        attrs = {
            "type": outline.type,
            "text": xml_safe(outline.text),
            "title": xml_safe(outline.text),
            "xmlUrl": outline.xml_url,
        }
        if outline.html_url:
            attrs["htmlUrl"] = outline.html_url
        etree.SubElement(body, "outline", attrs)
    return etree.tostring(root, encoding="UTF-8", xml_declaration=True)  # type: ignore[no-any-return]
