"""Links of feed documents: read, made absolute, kept only when safe, drops noted.

Every link a page could show (an entry's alternate link, a relayed entry's
source link, the feed's home page) goes through :func:`feeds.urls.checked_url`:
only absolute http(s) URLs are kept, and each one dropped is noted as a
:class:`feeds.types.DroppedLink` (its kind and why), which the parser puts on
the :class:`~feeds.types.ParsedEntry` or :class:`~feeds.types.ParsedFeed` it
belongs to, so that the mirror counts it with its reason. Navigation links
(``self``, archives, hubs) are kept the same way but their drops are not
noted: nothing shows them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

from lxml import etree

from feeds.extension import ATOM_NS, XML_NS
from feeds.types import DroppedLink, LinkKind
from feeds.urls import checked_url, safe_url

A = f"{{{ATOM_NS}}}"
#: rel -> [(absolute href, type)] of a document's or entry's links.
Links = dict[str, list[tuple[str, str | None]]]


class Drops:
    """The links of one entry or document that were dropped, as they are found."""

    def __init__(self) -> None:
        self.items: list[DroppedLink] = []

    def keep(self, value: Any, base: str, kind: LinkKind) -> str | None:
        """``value`` made absolute against ``base`` when it is a safe link, else None (noted)."""
        if isinstance(value, str):
            value = urljoin(base, value.strip()) if value.strip() else None
        url, dropped = checked_url(value, kind)
        if dropped is not None and len(self.items) < MAX_DROPS:
            self.items.append(dropped)
        return url

    def __call__(self) -> tuple[DroppedLink, ...]:
        return tuple(self.items)


#: Drops noted per entry or document (a count beyond it would only repeat the reason).
MAX_DROPS = 20


def nav_url(value: Any, base: str) -> str | None:
    """A navigation link made absolute against ``base``, when safe (drops not noted)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return safe_url(urljoin(base, value.strip()))


def base_of(element: etree._Element, url: str) -> str:
    """The base URI in effect for an element (xml:base on it and its ancestors)."""
    chain = [e.get(f"{{{XML_NS}}}base") for e in (element, *element.iterancestors())]
    base = url
    for value in reversed(chain):
        if value:
            base = urljoin(base, value.strip())
    return base


def atom_links(
    parent: etree._Element,
    url: str,
    drops: Drops | None = None,
    kind: LinkKind = LinkKind.ENTRY,
    shown: tuple[str, ...] = ("alternate",),
) -> Links:
    """rel -> [(absolute href, type)] of the atom:link children; ``url`` is the document's.

    Dropped links of the ``shown`` rels are noted in ``drops`` as ``kind``.
    """
    out: Links = {}
    for link in parent.iterchildren(f"{A}link"):
        rel = link.get("rel") or "alternate"
        base = base_of(link, url)
        if drops is not None and rel in shown:
            href = drops.keep(link.get("href"), base, kind)
        else:
            href = nav_url(link.get("href"), base)
        if href:
            out.setdefault(rel, []).append((href, link.get("type")))
    return out


def alternate(links: Links) -> str | None:
    """The HTML alternate link, else the first alternate link."""
    alternates = links.get("alternate", [])
    for href, media_type in alternates:
        if media_type in (None, "text/html", "application/xhtml+xml"):
            return href
    return alternates[0][0] if alternates else None


def first(links: Links, rel: str) -> str | None:
    found = links.get(rel)
    return found[0][0] if found else None


def feedparser_links(links: Iterable[dict[str, Any]], url: str) -> dict[str, str]:
    """rel -> first absolute href of feedparser's ``links`` (navigation: drops not noted)."""
    out: dict[str, str] = {}
    for link in links:
        href = nav_url(link.get("href"), url)
        if href:
            out.setdefault(link.get("rel") or "alternate", href)
    return out
