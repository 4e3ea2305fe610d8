"""Values that cross the feeds package boundary: frozen dataclasses only.

``FeedDocument`` is what :mod:`feeds.publish` renders; ``ParsedFeed`` and its
parts are what :mod:`feeds.parse` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# -- publishing ---------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One row of the change log: an entry snapshot, or a tombstone when ``deleted``."""

    data: Mapping[str, Any]
    deleted: bool
    at: datetime


@dataclass(frozen=True)
class FeedDocument:
    """Everything one feed document (head or archive page) shows.

    URLs are absolute and belong to the format being rendered; ``items`` are
    newest first.
    """

    feed_id: str
    title: str
    self_url: str
    current_url: str
    home_url: str
    updated: datetime
    items: tuple[FeedItem, ...]
    #: None for the subscription document, else the archive page number.
    archive_page: int | None = None
    prev_archive_url: str | None = None
    next_archive_url: str | None = None
    #: Other formats of the same document: (href, media type).
    alternates: tuple[tuple[str, str], ...] = ()
    author_name: str = ""
    topic_names: Mapping[str, str] = field(default_factory=dict)
    #: The atom:category scheme of topic codes.
    topic_scheme: str | None = None
    generator: str = "ASDG practice exchange"


@dataclass(frozen=True)
class Outline:
    """One feed listed in an OPML document."""

    text: str
    xml_url: str
    html_url: str | None = None
    #: The OPML ``type``; readers expect "rss" for any feed format.
    type: str = "rss"


# -- parsing ------------------------------------------------------------------


@dataclass(frozen=True)
class SourceInfo:
    """``atom:source`` of an entry: the feed it was copied from (RFC 4287 4.2.11)."""

    id: str | None
    title: str | None
    url: str | None


@dataclass(frozen=True)
class ParsedEntry:
    id: str
    title: str
    link: str | None
    #: Aware UTC.
    updated: datetime
    published: datetime | None
    #: Sanitized with nh3.
    content_html: str
    #: Plain text.
    summary: str
    #: Our extension rebuilt as a snapshot-shaped dict, or None for ordinary feeds.
    record: dict[str, Any] | None
    source: SourceInfo | None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tombstone:
    """A deleted entry (RFC 6721 ``at:deleted-entry`` or ``_asdg.deleted``)."""

    id: str
    #: Aware UTC.
    when: datetime
    by: str | None = None
    link: str | None = None


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    feed_id: str
    #: Where the document was fetched from.
    url: str
    #: The site the feed belongs to (alternate link / home_page_url).
    site_url: str | None
    #: The document's own URL as it states it (rel="self", or JSON feed_url).
    self_url: str | None
    #: The next older document: Atom ``prev-archive`` or JSON Feed ``next_url``.
    prev_archive: str | None
    #: An RFC 5005 archive document (``fh:archive``, ``_asdg.archive``).
    is_archive: bool
    entries: tuple[ParsedEntry, ...]
    tombstones: tuple[Tombstone, ...]
    #: "atom", "json" or "rss" (anything feedparser reads).
    format: str = "atom"
    #: The subscription document (rel="current"), when stated.
    current_url: str | None = None
    next_archive: str | None = None
    #: Entries skipped or downgraded, with the reason (bad extension data...).
    problems: tuple[str, ...] = ()
