"""Finding feeds: autodiscovery on HTML pages and OPML subscription lists.

* A page links its feeds with ``<link rel="alternate" type="...">`` in its head
  (the usual autodiscovery). Atom is preferred, then JSON Feed, then RSS:
  Atom carries every tombstone and the RFC 5005 archive links.
* OPML 2.0 lists feeds as ``<outline xmlUrl="...">``, possibly nested. It is
  read with the same hardened XML parser as Atom feeds (no entities, no DTD,
  no network).
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree, html

from feeds.errors import DiscoveryError, FeedParseError
from feeds.parse import _parse_xml as parse_hardened_xml
from feeds.signing import KeyStatement, read_statement
from feeds.types import LinkKind, Outline
from feeds.urls import checked_url, is_http_url, origin_of, resolve

#: Feed media types, best first.
FEED_TYPES = (
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rss+xml",
    "application/rdf+xml",
    "application/xml",
    "text/xml",
)
MAX_OUTLINES = 10_000


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    """True for an HTML page (not a feed document)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media in ("text/html", "application/xhtml+xml"):
        return True
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html"))


def feed_links(page: bytes, base_url: str) -> list[str]:
    """Feed URLs a page announces, best format first, absolute."""
    try:
        document = html.document_fromstring(page)
    except (etree.ParserError, ValueError):
        return []
    found: list[tuple[int, int, str]] = []
    for position, link in enumerate(document.iter("link")):
        rels = (link.get("rel") or "").lower().split()
        media = (link.get("type") or "").split(";")[0].strip().lower()
        href = link.get("href")
        if "alternate" not in rels or media not in FEED_TYPES or not href:
            continue
        url = resolve(base_url, href)
        if is_http_url(url):
            found.append((FEED_TYPES.index(media), position, url))
    return list(dict.fromkeys(url for _, _, url in sorted(found)))


def read_opml(data: bytes) -> list[Outline]:
    """The feeds an OPML document lists, in document order, without repeats."""
    try:
        root = parse_hardened_xml(data)
    except FeedParseError as e:
        raise DiscoveryError(f"Файл OPML не прочитан: {e}") from e
    if root.tag != "opml" or root.find("body") is None:
        raise DiscoveryError("Это не файл OPML: нет элементов opml и body")
    outlines: dict[str, Outline] = {}
    for element in root.find("body").iter("outline"):  # type: ignore[union-attr]
        url = (element.get("xmlUrl") or "").strip()
        if not url:
            continue
        if not is_http_url(url):
            raise DiscoveryError(f"В OPML адрес ленты не http(s): {url[:200]}")
        text = (element.get("title") or element.get("text") or "").strip()[:500]
        html_url, dropped = checked_url(element.get("htmlUrl"), LinkKind.HTML_URL)
        outlines.setdefault(
            url,
            Outline(text, url, html_url, dropped_links=(dropped,) if dropped else ()),
        )
        if len(outlines) > MAX_OUTLINES:
            raise DiscoveryError(f"В OPML больше {MAX_OUTLINES} лент")
    return list(outlines.values())


@dataclass(frozen=True)
class Member:
    """A member instance a network directory lists: its site, key and cities."""

    key: KeyStatement
    site: str
    cities: tuple[str, ...] = ()
    xml_url: str | None = None


def read_directory(data: bytes) -> list[Member]:
    """The members of a network directory: OPML whose outlines carry key attributes.

    ``<outline text="Омск" xmlUrl="..." site="https://omsk.example" keyId="..."
    publicKey="..." authority="omsk.example" cities="omsk tara"/>``; outlines
    without a site and a key are left out.
    """
    try:
        root = parse_hardened_xml(data)
    except FeedParseError as e:
        raise DiscoveryError(f"Файл каталога не прочитан: {e}") from e
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise DiscoveryError("Это не файл OPML: нет элементов opml и body")
    members: list[Member] = []
    for element in body.iter("outline"):
        site = origin_of((element.get("site") or "").strip())
        statement = read_statement(
            {
                "id": (element.get("keyId") or "").strip(),
                "public_key": (element.get("publicKey") or "").strip(),
                "site": site,
                "authority": (element.get("authority") or "").strip() or None,
            }
        )
        if site is None or statement is None:
            continue
        cities = tuple((element.get("cities") or "").split())[:100]
        xml_url = (element.get("xmlUrl") or "").strip()
        members.append(Member(statement, site, cities, xml_url if is_http_url(xml_url) else None))
        if len(members) > MAX_OUTLINES:
            raise DiscoveryError(f"В каталоге больше {MAX_OUTLINES} участников")
    if not members:
        raise DiscoveryError("В каталоге нет участников с ключами (site, keyId, publicKey)")
    return members
