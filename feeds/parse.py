"""Read feed documents: bytes in, :class:`feeds.types.ParsedFeed` out.

- **Atom 1.0** (ours or anyone's) is read with lxml and a hardened parser:
  entity resolution, DTD loading and network access are off, and a document
  that declares entities or has an internal DTD subset is refused outright
  (entity bombs, XXE). A bare ``<!DOCTYPE ... PUBLIC ...>`` without an
  internal subset is harmless with DTD loading off and is accepted. lxml is
  used rather than feedparser because feedparser keeps only the last
  ``at:deleted-entry`` and drops ``fh:archive``; we need every tombstone, the
  RFC 5005 links and our ``asdg:record``.
- **JSON Feed 1.0 and 1.1** with ``json``, including our ``_asdg`` objects;
  deletions come in the feed-level ``_asdg.deleted`` list (and, from
  instances before contract v2, as items marked ``_asdg.deleted: true``).
- **RSS 0.9x/1.0/2.0 and Atom 0.3** with feedparser (after the same hardened
  well-formedness check), as generic entries.

Every HTML fragment is sanitized with nh3. Counts and lengths are bounded
(the caller bounds the byte size). An entry without an id gets
``urn:sha256:<hex>`` of its link (or, without a link, of its title and
content); an entry without a date gets the feed's date, or the time of
parsing when the feed has none either. Anything unreadable raises
:class:`feeds.errors.FeedParseError`; a single entry with broken extension
data keeps its generic fields, loses its ``record`` and is named in
``ParsedFeed.problems``. Links are read by :mod:`feeds.links`: only absolute
http(s) URLs are kept, and each link a page would show that was dropped is
noted on its entry or document (``dropped_links``) for the mirror to count.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
from lxml import etree

from feeds import extension as ext
from feeds import html as html_policy
from feeds.errors import FeedParseError
from feeds.extension import AT_NS, ATOM_NS, FH_NS, RECORD, RecordError, read_record
from feeds.extension import read_record_json as _read_record_json
from feeds.links import Drops, alternate, atom_links, feedparser_links, first, nav_url
from feeds.types import LinkKind, ParsedEntry, ParsedFeed, Record, SourceInfo, Tombstone
from feeds.websub import MAX_HUBS, json_hubs

MAX_ENTRIES = 10_000
MAX_TOMBSTONES = 10_000
MAX_ID = 500
MAX_TITLE = 500
MAX_URL = 2000
MAX_SUMMARY = 10_000
MAX_CONTENT = 1_000_000
MAX_NAME = 300
MAX_AUTHORS = 20
MAX_CATEGORIES = 100
MAX_PROBLEMS = 100

A = f"{{{ATOM_NS}}}"

_PARSER_OPTIONS: dict[str, Any] = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    recover=False,
    remove_pis=True,
)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_JSON_FEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.\d+)?/?$")


def sanitize(fragment: str) -> str:
    """Untrusted HTML made safe (:mod:`feeds.html`'s policy), at most ``MAX_CONTENT`` long."""
    return html_policy.sanitize(fragment[:MAX_CONTENT]) if fragment else ""


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment, whitespace collapsed."""
    return html_policy.to_text(fragment[:MAX_CONTENT]) if fragment else ""


def _clip(text: str | None, limit: int) -> str:
    return (text or "").strip()[:limit]


def parse_date(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as aware UTC; None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text[-1:] in "zZ":
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def derived_id(link: str | None, title: str, content: str) -> str:
    """The id of an entry that has none: a hash of its link, else of its text."""
    basis = link or f"{title}\n{content}"
    return "urn:sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def _entry_id(raw: Any, link: str | None, title: str, content: str) -> str:
    """The entry's own id when it has a usable one, else :func:`derived_id`."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raw = ""
    text = str(raw).strip()
    return text if 0 < len(text) <= MAX_ID else derived_id(link, title, content)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(text[:500])


# -- entry point -----------------------------------------------------------------


def parse_feed(body: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse an Atom, JSON Feed or RSS document fetched from ``url``."""
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FeedParseError("Пустой документ вместо ленты")
    media = (content_type or "").split(";")[0].strip().lower()
    if head[:1] in (b"{", b"[") or (media.endswith("json") and head[:1] != b"<"):
        return _parse_json(body, url)
    root = _parse_xml(body)
    if root.tag == f"{A}feed":
        return _parse_atom(root, url)
    if root.tag in ("rss", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF") or (
        isinstance(root.tag, str) and root.tag.endswith("}feed")
    ):
        return _parse_generic(body, root, url)
    raise FeedParseError(f"Документ не является лентой (корневой элемент {str(root.tag)[:80]})")


def _parse_xml(body: bytes) -> etree._Element:
    if _ENTITY_DECL.search(body):
        raise FeedParseError("Документ объявляет XML-сущности: такие ленты не принимаются")
    try:
        root = etree.fromstring(body, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as error:
        raise FeedParseError(f"Документ не является корректным XML: {error}") from error
    except ValueError as error:  # e.g. an encoding lxml does not know
        raise FeedParseError(f"Документ не удалось прочитать: {error}") from error
    # A DOCTYPE that only names an external DTD (old RSS 0.91) is harmless:
    # nothing is loaded. Declarations of an internal subset are refused.
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and (
        any(True for _ in dtd.iterelements()) or any(True for _ in dtd.iterentities())
    ):
        raise FeedParseError("Документ содержит DTD: такие ленты не принимаются")
    return root


# -- Atom ---------------------------------------------------------------------------


def _text_construct(element: etree._Element | None) -> str:
    """Plain text of an Atom text construct (text, html or xhtml)."""
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "html":
        return html_to_text(element.text or "")
    if kind == "xhtml":
        return " ".join("".join(element.itertext()).split())
    return " ".join((element.text or "").split())


def _xhtml_inner(element: etree._Element) -> str:
    div = next((c for c in element if isinstance(c.tag, str)), None)
    if div is None:
        return html.escape(element.text or "")
    copy = etree.fromstring(etree.tostring(div))
    for node in copy.iter():
        if isinstance(node.tag, str) and "}" in node.tag:
            node.tag = node.tag.split("}", 1)[1]
    etree.cleanup_namespaces(copy)
    parts = [html.escape(copy.text or "")]
    parts += [etree.tostring(child, method="html", encoding="unicode") for child in copy]
    return "".join(parts)


def _content_html(element: etree._Element | None) -> str | None:
    """Sanitized HTML of atom:content or atom:summary; None when it has no inline text."""
    if element is None or element.get("src"):
        return None
    kind = element.get("type", "text")
    if kind == "html":
        return sanitize(element.text or "")
    if kind == "xhtml":
        return sanitize(_xhtml_inner(element))
    if kind == "text" or kind.startswith("text/"):
        text = (element.text or "").strip()
        return f"<p>{html.escape(text[:MAX_CONTENT])}</p>" if text else ""
    return None


def _persons(parent: etree._Element, tag: str) -> tuple[str, ...]:
    names = [_clip(p.findtext(f"{A}name"), MAX_NAME) for p in parent.iterchildren(tag)]
    return tuple(n for n in names if n)[:MAX_AUTHORS]


def _source(entry: etree._Element, url: str, drops: Drops) -> SourceInfo | None:
    source = entry.find(f"{A}source")
    if source is None:
        return None
    links = atom_links(source, url, drops, LinkKind.SOURCE, ("self", "alternate"))
    return SourceInfo(
        id=_clip(source.findtext(f"{A}id"), MAX_URL) or None,
        title=_clip(_text_construct(source.find(f"{A}title")), MAX_TITLE) or None,
        url=first(links, "self") or alternate(links),
    )


def _atom_entry(
    element: etree._Element, url: str, fallback: datetime, problems: _Problems
) -> ParsedEntry:
    drops = Drops()
    link = alternate(atom_links(element, url, drops))
    title = _clip(_text_construct(element.find(f"{A}title")), MAX_TITLE)
    summary_element = element.find(f"{A}summary")
    content = _content_html(element.find(f"{A}content"))
    if content is None:
        content = _content_html(summary_element) or ""
    summary = _clip(_text_construct(summary_element), MAX_SUMMARY)
    entry_id = _entry_id(element.findtext(f"{A}id"), link, title, content)
    published = parse_date(element.findtext(f"{A}published"))
    updated = parse_date(element.findtext(f"{A}updated")) or published or fallback
    categories = tuple(
        _clip(c.get("term"), 200) for c in element.iterchildren(f"{A}category") if c.get("term")
    )[:MAX_CATEGORIES]
    record: Record | None = None
    record_element = element.find(RECORD)
    if record_element is not None:
        try:
            record = read_record(record_element)
        except RecordError as error:
            problems.add(f"{entry_id}: расширение asdg не прочитано ({error})")
        else:
            record = _checked_record(record, entry_id, content, problems)
    return ParsedEntry(
        id=entry_id,
        title=title,
        link=link,
        updated=updated,
        published=published,
        content_html=content,
        summary=summary,
        record=record,
        source=_source(element, url, drops),
        authors=_persons(element, f"{A}author"),
        categories=categories,
        dropped_links=drops(),
    )


def _checked_record(
    record: Record, entry_id: str, content: str, problems: _Problems
) -> Record | None:
    if record["id"] != entry_id:
        problems.add(f"{entry_id}: расширение asdg описывает другую запись ({record['id']})")
        return None
    record["content_html"] = content
    return record


def _tombstone(element: etree._Element, url: str, problems: _Problems) -> Tombstone | None:
    ref = _clip(element.get("ref"), MAX_ID + 1)
    when = parse_date(element.get("when"))
    if not ref or len(ref) > MAX_ID or when is None:
        problems.add(f"at:deleted-entry без ref или when пропущен ({ref[:80]})")
        return None
    by = element.find(f"{{{AT_NS}}}by")
    name = _clip(by.findtext(f"{A}name"), MAX_NAME) if by is not None else ""
    link, (signature, key_id) = alternate(atom_links(element, url)), ext.read_signature(element)
    return Tombstone(ref, when, name or None, link, signature, key_id)


def _parse_atom(root: etree._Element, url: str) -> ParsedFeed:
    drops = Drops()
    links = atom_links(root, url, drops, LinkKind.SITE)
    problems = _Problems()
    updated = parse_date(root.findtext(f"{A}updated")) or datetime.now(UTC)
    entries = list(root.iterchildren(f"{A}entry"))
    if len(entries) > MAX_ENTRIES:
        raise FeedParseError(f"В документе больше {MAX_ENTRIES} записей")
    tombstone_elements = list(root.iterchildren(f"{{{AT_NS}}}deleted-entry"))
    if len(tombstone_elements) > MAX_TOMBSTONES:
        raise FeedParseError(f"В документе больше {MAX_TOMBSTONES} удалённых записей")
    tombstones = [_tombstone(t, url, problems) for t in tombstone_elements]
    return ParsedFeed(
        title=_clip(_text_construct(root.find(f"{A}title")), MAX_TITLE),
        feed_id=_clip(root.findtext(f"{A}id"), MAX_URL) or first(links, "self") or url,
        url=url,
        site_url=alternate(links),
        self_url=first(links, "self"),
        prev_archive=first(links, "prev-archive"),
        is_archive=root.find(f"{{{FH_NS}}}archive") is not None,
        entries=tuple(_atom_entry(e, url, updated, problems) for e in entries),
        tombstones=tuple(t for t in tombstones if t is not None),
        format="atom",
        current_url=first(links, "current"),
        next_archive=first(links, "next-archive"),
        problems=tuple(problems.items),
        hubs=tuple(href for href, _ in links.get("hub", []))[:MAX_HUBS],
        keys=ext.read_keys(root),
        dropped_links=drops(),
    )


# -- JSON Feed --------------------------------------------------------------------


def _str(value: Any, limit: int) -> str:
    return _clip(value, limit) if isinstance(value, str) else ""


def _json_authors(item: dict[str, Any]) -> tuple[str, ...]:
    authors = item.get("authors")
    if not isinstance(authors, list):
        single = item.get("author")  # JSON Feed 1.0
        authors = [single] if isinstance(single, dict) else []
    names = [_str(a.get("name"), MAX_NAME) for a in authors if isinstance(a, dict)]
    return tuple(n for n in names if n)[:MAX_AUTHORS]


def _json_entry(
    item: dict[str, Any], url: str, fallback: datetime, problems: _Problems
) -> ParsedEntry:
    drops = Drops()
    link = drops.keep(item.get("url"), url, LinkKind.ENTRY)
    link = drops.keep(item.get("external_url"), url, LinkKind.ENTRY) or link
    title = _str(item.get("title"), MAX_TITLE)
    if isinstance(item.get("content_html"), str):
        content = sanitize(item["content_html"])
    elif isinstance(item.get("content_text"), str) and item["content_text"].strip():
        content = f"<p>{html.escape(item['content_text'][:MAX_CONTENT].strip())}</p>"
    else:
        content = ""
    entry_id = _entry_id(item.get("id"), link, title, content)
    published = parse_date(item.get("date_published"))
    updated = parse_date(item.get("date_modified")) or published or fallback
    tags = item.get("tags")
    categories = (
        tuple(_clip(t, 200) for t in tags if isinstance(t, str))[:MAX_CATEGORIES]
        if (isinstance(tags, list))
        else ()
    )
    record: Record | None = None
    extension = item.get("_asdg")
    if isinstance(extension, dict) and "kind" in extension:
        try:
            record = _read_record_json(extension)
        except RecordError as error:
            problems.add(f"{entry_id}: расширение _asdg не прочитано ({error})")
        else:
            record = _checked_record(record, entry_id, content, problems)
    source = None
    relayed = record.get("source") if record is not None else None
    if isinstance(relayed, dict):  # its url is checked with the record's (asdg:url)
        source = SourceInfo(
            id=relayed.get("id"), title=relayed.get("title"), url=relayed.get("url")
        )
    return ParsedEntry(
        id=entry_id,
        title=title,
        link=link,
        updated=updated,
        published=published,
        content_html=content,
        summary=html_to_text(_str(item.get("summary"), MAX_SUMMARY)),
        record=record,
        source=source,
        authors=_json_authors(item),
        categories=categories,
        dropped_links=drops(),
    )


def _json_tombstone(raw: Any, problems: _Problems) -> Tombstone | None:
    """One element of the feed-level ``_asdg.deleted`` list: ``{"id", "when", "by"}``."""
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    when = parse_date(raw.get("when")) if isinstance(raw, dict) else None
    if not isinstance(raw_id, str) or not raw_id.strip() or len(raw_id) > MAX_ID or when is None:
        problems.add("удалённая запись без id или when пропущена")
        return None
    by = _str(raw.get("by"), MAX_NAME) or None
    signature, key_id = ext.json_signature(raw)
    return Tombstone(raw_id.strip(), when, by, None, signature, key_id)


def _legacy_json_tombstone(item: dict[str, Any], problems: _Problems) -> Tombstone | None:
    """A deletion as an item with ``_asdg.deleted: true`` (instances before contract v2)."""
    meta = item["_asdg"]
    when = meta.get("when") or item.get("date_modified")
    return _json_tombstone({"id": item.get("id"), "when": when, "by": meta.get("by")}, problems)


def _json_tombstones(meta: dict[str, Any], problems: _Problems) -> list[Tombstone]:
    deleted = meta.get("deleted")
    if deleted is None:
        return []
    if not isinstance(deleted, list):
        problems.add("_asdg.deleted не является списком: пропущено")
        return []
    if len(deleted) > MAX_TOMBSTONES:
        raise FeedParseError(f"В документе больше {MAX_TOMBSTONES} удалённых записей")
    found = [_json_tombstone(raw, problems) for raw in deleted]
    return [t for t in found if t is not None]


def _parse_json(body: bytes, url: str) -> ParsedFeed:
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise FeedParseError(f"Документ не является корректным JSON: {error}") from error
    if not isinstance(doc, dict) or not isinstance(doc.get("version"), str):
        raise FeedParseError("Документ не является JSON Feed: нет поля version")
    if not _JSON_FEED_VERSION.match(doc["version"]):
        raise FeedParseError(f"Неизвестная версия JSON Feed: {doc['version'][:80]}")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedParseError("В JSON Feed нет списка items")
    if len(items) > MAX_ENTRIES:
        raise FeedParseError(f"В документе больше {MAX_ENTRIES} записей")
    extension = doc.get("_asdg")
    meta: dict[str, Any] = extension if isinstance(extension, dict) else {}
    problems = _Problems()
    fallback = datetime.now(UTC)
    entries: list[ParsedEntry] = []
    tombstones = _json_tombstones(meta, problems)
    for item in items:
        if not isinstance(item, dict):
            problems.add("элемент items не является объектом: пропущен")
            continue
        extension = item.get("_asdg")
        if isinstance(extension, dict) and extension.get("deleted") is True:
            tombstone = _legacy_json_tombstone(item, problems)
            if tombstone is not None:
                tombstones.append(tombstone)
        else:
            entries.append(_json_entry(item, url, fallback, problems))
    if len(tombstones) > MAX_TOMBSTONES:
        raise FeedParseError(f"В документе больше {MAX_TOMBSTONES} удалённых записей")
    feed_url = nav_url(doc.get("feed_url"), url)
    drops = Drops()
    return ParsedFeed(
        title=_str(doc.get("title"), MAX_TITLE),
        feed_id=feed_url or url,
        url=url,
        site_url=drops.keep(doc.get("home_page_url"), url, LinkKind.SITE),
        self_url=nav_url(meta.get("self"), url) or feed_url,
        prev_archive=nav_url(doc.get("next_url"), url),
        is_archive=meta.get("archive") is True,
        entries=tuple(entries),
        tombstones=tuple(tombstones),
        format="json",
        current_url=nav_url(meta.get("current"), url),
        problems=tuple(problems.items),
        hubs=tuple(h for h in (nav_url(u, url) for u in json_hubs(doc.get("hubs"))) if h),
        keys=ext.json_keys(meta.get("keys")),
        dropped_links=drops(),
    )


# -- RSS and other XML feeds (feedparser) ----------------------------------------


def _struct_time(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _generic_entry(entry: Any, url: str, fallback: datetime) -> ParsedEntry:
    drops = Drops()
    link = drops.keep(entry.get("link"), url, LinkKind.ENTRY)
    title = _clip(html_to_text(entry.get("title", "")), MAX_TITLE)
    contents = entry.get("content") or []
    raw = contents[0].get("value", "") if contents else entry.get("summary", "")
    content = sanitize(raw or "")
    summary = _clip(html_to_text(entry.get("summary", "")), MAX_SUMMARY)
    entry_id = _entry_id(entry.get("id"), link, title, content)
    # dict.get: feedparser's own get() warns about its updated -> published fallback.
    published = _struct_time(dict.get(entry, "published_parsed"))
    updated = _struct_time(dict.get(entry, "updated_parsed")) or published or fallback
    author = _clip(entry.get("author"), MAX_NAME)
    tags = tuple(_clip(t.get("term"), 200) for t in entry.get("tags") or () if t.get("term"))
    return ParsedEntry(
        id=entry_id,
        title=title,
        link=link,
        updated=updated,
        published=published,
        content_html=content,
        summary=summary,
        record=None,
        source=None,
        authors=(author,) if author else (),
        categories=tags[:MAX_CATEGORIES],
        dropped_links=drops(),
    )


def _parse_generic(body: bytes, root: etree._Element, url: str) -> ParsedFeed:
    # feedparser only ever sees a stream: it never fetches anything itself.
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-location": url},
        sanitize_html=False,  # nh3 does it, faster
        resolve_relative_uris=True,
    )
    if len(parsed.entries) > MAX_ENTRIES:
        raise FeedParseError(f"В документе больше {MAX_ENTRIES} записей")
    feed = parsed.feed
    links = feedparser_links(feed.get("links") or (), url)
    drops = Drops()
    fallback = (
        _struct_time(dict.get(feed, "updated_parsed"))
        or _struct_time(dict.get(feed, "published_parsed"))
        or datetime.now(UTC)
    )
    return ParsedFeed(
        title=_clip(html_to_text(feed.get("title", "")), MAX_TITLE),
        feed_id=_clip(feed.get("id"), MAX_URL) or links.get("self") or url,
        url=url,
        site_url=drops.keep(feed.get("link"), url, LinkKind.SITE),
        self_url=links.get("self"),
        prev_archive=links.get("prev-archive"),
        is_archive=root.find(f".//{{{FH_NS}}}archive") is not None,
        entries=tuple(_generic_entry(e, url, fallback) for e in parsed.entries),
        tombstones=(),
        format="rss",
        current_url=links.get("current"),
        next_archive=links.get("next-archive"),
        hubs=(links["hub"],) if "hub" in links else (),
        dropped_links=drops(),
    )
