"""The boundary where remote data comes in: what a fetched feed brings, checked.

:func:`service.mirror.checks.load_record` checks a record of our extension
as another instance published it; an entry of an ordinary feed becomes a generic note of the
feed's city (:func:`feed_city`). :func:`collect` turns the pages read in one
poll (:class:`Page`) into the :class:`Batch` of versions and tombstones that
:func:`feeds.decide.decide` judges; :class:`Head` is what the answer for the
subscription document said besides its body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from feeds import bounds
from feeds.decide import Removal, Version
from feeds.types import ParsedEntry, ParsedFeed, SourceInfo, Tombstone
from feeds.urls import host_of, origin_of, safe_url, slug_from_host
from service.mirror.checks import (
    UNKNOWN_KEY,
    Links,
    RecordError,
    check,
    check_text,
    check_time,
    load_record,
    record_signer,
    tombstone_signer,
)
from service.trust.pins import KeyRing
from service.vocab import Kind

GENERIC_TITLE = "Без названия"
#: Reasons kept per batch (the count is exact).
MAX_PROBLEMS = 100


@dataclass(frozen=True)
class Head:
    """What the answer for the subscription document said, besides its body."""

    url: str
    etag: str | None
    last_modified: str | None
    cache_control: str | None
    retry_after: str | None
    permanent_url: str | None
    #: The ``Link`` header: a WebSub hub and the feed's canonical URL, when advertised.
    link: str | None = None


@dataclass
class Incoming:
    """What the store writes for one version: the record's fields and provenance."""

    data: dict[str, Any]
    #: The feed it was copied from (a relayed record's ``atom:source``, else the delivering feed).
    source: SourceInfo | None
    link: str | None


@dataclass(frozen=True)
class Page:
    """One document of a batch: where it was actually fetched from, and its content."""

    url: str
    feed: ParsedFeed


@dataclass
class Batch:
    versions: list[Version] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)
    #: Reasons of entries and tombstones refused (and parse problems), one per item.
    problems: list[str] = field(default_factory=list)
    #: Entries and tombstones refused by the checks here (not counting parse problems).
    refused: int = 0
    #: Links dropped because they were not absolute http(s) URLs (by the parser and here).
    links_dropped: int = 0
    #: Why, one line per link (the first ones).
    link_reasons: list[str] = field(default_factory=list)
    #: Signed records and tombstones whose key is not known yet: they wait for a later poll.
    waiting: int = 0

    def refuse(self, text: str) -> None:
        self.refused += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text[:500])


def _generic_data(entry: ParsedEntry, city: dict[str, Any]) -> dict[str, Any]:
    """An entry of an ordinary feed as a generic note of the feed's city."""
    when = entry.published or entry.updated
    tags = [t.strip()[: bounds.TAG_MAX] for t in entry.categories if t.strip()]
    return {
        "id": entry.id,
        "kind": Kind.PRACTICE.value,
        "title": entry.title or GENERIC_TITLE,
        "city": city,
        "topics": [],
        "tags": tags[: bounds.MAX_TAGS],
        "year": when.year,
        "summary": entry.summary,
        "published": entry.published,
        "updated": entry.updated,
        "url": safe_url(entry.link),  # safe already (feeds.links, which noted a drop)
        "generic": True,
        "content_html": entry.content_html,
    }


def feed_city(head: ParsedFeed, url: str) -> dict[str, Any]:
    """The city that stands for an ordinary (non-ASDG) feed: named after the feed, per site."""
    host = host_of(head.site_url or url) or host_of(url)
    name = (bounds.BAD_TEXT.sub("", head.title) or host or "Лента")[:200]
    return {
        "slug": slug_from_host(head.site_url or url),
        "name": name,
        "region": None,
        "latitude": None,
        "longitude": None,
    }


def _relayed(entry: ParsedEntry, data: Mapping[str, Any]) -> SourceInfo | None:
    """The feed a relayed entry names as its source: ``atom:source``, else our record's."""
    named = data.get("source") if entry.record is not None else None
    if entry.source is None and isinstance(named, dict):
        return SourceInfo(id=named.get("id"), title=named.get("title"), url=named.get("url"))
    return entry.source


def _name(uid: str) -> str:
    """An id as a refusal reason shows it: printable, bounded."""
    return ascii(uid)[1:-1][:200] if bounds.bad_text(uid) else uid[:200]


def _load(
    entry: ParsedEntry, generic_city: dict[str, Any], now: datetime, links: Links
) -> dict[str, Any]:
    """The data of one entry (our record, else a generic note), checked; raises RecordError."""
    check(not bounds.bad_text(entry.id), "id", "недопустимый символ в поле")
    if entry.record is not None:
        return load_record(entry.record, now, links)
    data = _generic_data(entry, generic_city)
    check_text(data)
    check_time(entry.updated, "updated", now)
    check_time(entry.published, "published", now)
    return data


def collect(
    pages: list[Page], sub_url: str, head: ParsedFeed | None = None, keys: KeyRing | None = None
) -> Batch:
    """Every version and tombstone of a batch, as :func:`feeds.decide.decide` wants them.

    ``head`` is the subscription document (default: the first page), which
    names the feed and its city for generic entries. A signed record or
    tombstone is verified with ``keys`` (the poll's key ring) and then comes
    from its signer's site, whichever feed relayed it; an unsigned record
    becomes a generic entry of this feed. An entry that fails a check is
    refused with its reason (:attr:`Batch.problems`); the rest goes on.
    """
    head = head or pages[0].feed
    keys = keys or KeyRing()
    own_source = SourceInfo(
        id=bounds.BAD_TEXT.sub("", head.feed_id),
        title=bounds.BAD_TEXT.sub("", head.title) or None,
        url=head.self_url or sub_url,
    )
    ours = any(e.record is not None for p in [Page(sub_url, head), *pages] for e in p.feed.entries)
    generic_city = feed_city(head, sub_url)
    batch = Batch()
    links = Links()
    now = datetime.now(UTC)
    keys.load(unknown_keys(pages, keys))
    for page in pages:
        page_origin = origin_of(page.url) or origin_of(sub_url) or ""
        batch.problems.extend(page.feed.problems[:MAX_PROBLEMS])
        links.note(page.url, page.feed.dropped_links)
        for entry in page.feed.entries:
            if entry.record is None and ours:
                batch.refuse(f"{_name(entry.id)}: запись без расширения asdg пропущена")
                continue
            try:
                version = _version(entry, generic_city, now, links, keys, page_origin)
            except RecordError as e:
                batch.refuse(f"{_name(entry.id)}: {e}")
                batch.waiting += e.reason == UNKNOWN_KEY
                continue
            if version.payload.source is None:
                version.payload.source = own_source
            links.note(_name(entry.id), entry.dropped_links)
            batch.versions.append(version)
        for tombstone in page.feed.tombstones:
            try:
                batch.removals.append(_removal(tombstone, now, keys))
            except RecordError as e:
                batch.refuse(f"{_name(tombstone.id)}: удаление отклонено: {e}")
                batch.waiting += e.reason == UNKNOWN_KEY
    batch.links_dropped, batch.link_reasons = links.dropped, links.reasons
    return batch


def _version(
    entry: ParsedEntry,
    generic_city: dict[str, Any],
    now: datetime,
    links: Links,
    keys: KeyRing,
    page_origin: str,
) -> Version:
    check(not bounds.bad_text(entry.id), "id", "недопустимый символ в поле")
    raw = entry.record
    if raw is not None and raw.get("signature"):
        check_text(raw)
        key = record_signer(entry.id, raw, keys)
        data = load_record(raw, now, links)
        origin, signed = key.site, True
    else:  # an ordinary feed's entry, or an unsigned record: a generic entry of this feed
        data = _generic_data(entry, generic_city)
        check_text(data)
        check_time(entry.updated, "updated", now)
        check_time(entry.published, "published", now)
        origin, signed = page_origin, False
    link = data.get("url") or links.keep(entry.link)
    incoming = Incoming(data=data, source=_relayed(entry, data) if signed else None, link=link)
    return Version(entry.id, data["updated"], data["city"]["slug"], origin, incoming, signed)


def _removal(tombstone: Tombstone, now: datetime, keys: KeyRing) -> Removal:
    check(not bounds.bad_text(tombstone.id), "id", "недопустимый символ в")
    check(bounds.timestamp_ok(tombstone.when, now), "", "дата вне 1990 — завтра")
    if not tombstone.signature:
        return Removal(tombstone.id, tombstone.when)
    key = tombstone_signer(tombstone, keys)
    signature = (tombstone.signature, key.key_id)
    return Removal(tombstone.id, tombstone.when, key.site, signature)


def unknown_keys(pages: list[Page], keys: KeyRing) -> dict[str, str]:
    """Key ids the pages' signed records and tombstones name that ``keys`` has not loaded,
    each with the site its record names (the relayed source's origin): where to look it up."""
    out: dict[str, str] = {}
    for page in pages:
        fallback = origin_of(page.url) or ""
        for entry in page.feed.entries:
            key_id = entry.record.get("key_id") if entry.record else None
            if isinstance(key_id, str) and key_id not in keys.keys:
                source = entry.source.url if entry.source else None
                named = entry.record.get("source") if entry.record else None
                if source is None and isinstance(named, dict):
                    source = named.get("url")
                out.setdefault(key_id, origin_of(source) or fallback)
        for tombstone in page.feed.tombstones:
            if tombstone.key_id and tombstone.key_id not in keys.keys:
                out.setdefault(tombstone.key_id, fallback)
    return out
