"""Values that cross the feeds package boundary: frozen dataclasses only.

``FeedDocument`` is what :mod:`feeds.publish` renders; ``ParsedFeed`` and its
parts are what :mod:`feeds.parse` returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NotRequired, Required, TypedDict

from feeds.signing import KeyStatement

# -- records: what flows publish -> parse -> mirror ---------------------------


class CityData(TypedDict):
    slug: str
    name: str
    region: NotRequired[str | None]
    latitude: NotRequired[float | None]
    longitude: NotRequired[float | None]


class SourceData(TypedDict):
    """``atom:source`` of a relayed record: the feed it was copied from."""

    id: str | None
    title: str | None
    url: str | None


class ContactData(TypedDict):
    name: str | None
    position: str | None
    email: str | None
    phone: str | None


class Record(TypedDict, total=False):
    """One entry as feeds carry it (our extension), plain JSON values.

    The service's field catalogue (``service.fields``) says which fields each
    kind has; ``tests/test_fields.py`` checks this shape and the extension
    against it. Dates and times are ISO 8601 strings; Markdown fields stay
    Markdown; ``content_html`` is the rendered, sanitized HTML.
    """

    id: Required[str]
    kind: Required[str]
    title: str
    city: CityData
    topics: list[str]
    tags: list[str]
    year: int | None
    summary: str | None
    status: str
    published: str | None
    updated: str
    url: str | None
    origin: str
    source: SourceData | None
    generic: bool
    content_html: str
    #: The origin's signature (base64 Ed25519, feeds.signing) and its key's id.
    signature: str | None
    key_id: str | None
    # practice notes
    area: str | None
    achievements: str | None
    plans: str | None
    assistance: str | None
    body: str | None
    contact: ContactData | None
    # event summaries
    stage: str | None
    month: int | None
    starts_on: str | None
    ends_on: str | None
    format: str | None
    level: str | None
    location: str | None
    participants: int | None
    results: str | None
    related: str | None


class TombstoneData(TypedDict, total=False):
    """What a deletion says of the deleted entry."""

    id: Required[str]
    kind: str
    city: CityData
    url: str | None
    origin: str
    source: SourceData | None
    signature: str | None
    key_id: str | None


# -- publishing ---------------------------------------------------------------


@dataclass(frozen=True)
class FeedItem:
    """One row of the change log: an entry snapshot, or a tombstone when ``deleted``."""

    data: Record | TombstoneData
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
    #: The WebSub hub that pushes this document's changes (subscription documents only).
    hub_url: str | None = None
    generator: str = "ASDG practice exchange"
    #: The publishing site's public key(s) (origin authenticity).
    keys: tuple[KeyStatement, ...] = ()


class LinkKind(StrEnum):
    """Which link of remote input was dropped (see :class:`DroppedLink`)."""

    #: An entry's alternate link (Atom ``link``, JSON Feed ``url``/``external_url``, RSS ``link``).
    ENTRY = "entry"
    #: A record's ``asdg:url`` (``_asdg.url``): the page of the original.
    RECORD = "record"
    #: A relayed entry's source link (``atom:source`` or the record's ``source.url``).
    SOURCE = "source"
    #: The feed's home page (Atom alternate link, JSON ``home_page_url``, RSS ``link``).
    SITE = "site"
    #: An OPML outline's ``htmlUrl``.
    HTML_URL = "html_url"


class LinkFlaw(StrEnum):
    """Why a link was dropped: only absolute http(s) URLs are stored."""

    SCHEME = "scheme"
    #: No host, a bad port, not text.
    MALFORMED = "malformed"
    #: Spaces, control characters or lone surrogates.
    CHARACTERS = "characters"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class DroppedLink:
    """A link of remote input that was not stored, and why."""

    kind: LinkKind
    flaw: LinkFlaw
    #: The scheme it had (lowercase, at most 20 characters), when it had one.
    scheme: str | None = None


@dataclass(frozen=True)
class Outline:
    """One feed listed in an OPML document."""

    text: str
    xml_url: str
    html_url: str | None = None
    #: The OPML ``type``; readers expect "rss" for any feed format.
    type: str = "rss"
    #: Its ``htmlUrl`` when it was dropped (not an absolute http(s) URL).
    dropped_links: tuple[DroppedLink, ...] = ()


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
    #: Our extension rebuilt as a record, or None for ordinary feeds.
    record: Record | None
    source: SourceInfo | None
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: Its links that were not stored (alternate and source links not absolute http(s)).
    dropped_links: tuple[DroppedLink, ...] = ()


@dataclass(frozen=True)
class Tombstone:
    """A deleted entry (RFC 6721 ``at:deleted-entry`` or ``_asdg.deleted``)."""

    id: str
    #: Aware UTC.
    when: datetime
    by: str | None = None
    link: str | None = None
    #: The origin's signature over :func:`feeds.signing.canonical_tombstone`, and its key id.
    signature: str | None = None
    key_id: str | None = None


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
    #: WebSub hubs the document advertises (Atom/RSS rel="hub", JSON Feed ``hubs``).
    hubs: tuple[str, ...] = ()
    #: Key statements the document makes (its site's public keys).
    keys: tuple[KeyStatement, ...] = ()
    #: The document's own links that were not stored (its home page); entries' are on them.
    dropped_links: tuple[DroppedLink, ...] = ()
