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
from feeds.types import ParsedEntry, ParsedFeed, SourceInfo
from feeds.urls import host_of, origin_of, safe_url, slug_from_host
from service.mirror.checks import Links, RecordError, check, check_text, check_time, load_record
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


@dataclass(frozen=True)
class Incoming:
    """What the store writes for one version: the record's fields and provenance."""

    data: dict[str, Any]
    source: SourceInfo
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
    #: Links dropped because they were not absolute http(s) URLs.
    links_dropped: int = 0

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
        "url": safe_url(entry.link),
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


def _claimed_origin(source: SourceInfo | None, data: dict[str, Any], page_origin: str) -> str:
    """The site a version comes from: the page's, or for a relayed copy, its source's."""
    if source is None:
        return page_origin
    return (
        origin_of(source.url) or origin_of(source.id) or origin_of(data.get("url")) or page_origin
    )


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


def collect(pages: list[Page], sub_url: str, head: ParsedFeed | None = None) -> Batch:
    """Every version and tombstone of a batch, as :func:`feeds.decide.decide` wants them.

    ``head`` is the subscription document (default: the first page), which
    names the feed and its city for generic entries. An entry that fails a
    check is refused with its reason (:attr:`Batch.problems`); the rest of
    the batch goes on.
    """
    head = head or pages[0].feed
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
    for page in pages:
        page_origin = origin_of(page.url) or origin_of(sub_url) or ""
        batch.problems.extend(page.feed.problems[:MAX_PROBLEMS])
        for entry in page.feed.entries:
            if entry.record is None and ours:
                batch.refuse(f"{_name(entry.id)}: запись без расширения asdg пропущена")
                continue
            try:
                data = _load(entry, generic_city, now, links)
            except RecordError as e:
                batch.refuse(f"{_name(entry.id)}: {e}")
                continue
            relayed = _relayed(entry, data)
            raw = entry.record
            origin = page_origin if raw is None else _claimed_origin(relayed, data, page_origin)
            link = data.get("url") or links.keep(entry.link)
            incoming = Incoming(data=data, source=relayed or own_source, link=link)
            batch.versions.append(
                Version(entry.id, data["updated"], data["city"]["slug"], origin, incoming)
            )
        for tombstone in page.feed.tombstones:
            if bounds.bad_text(tombstone.id):
                batch.refuse(f"{_name(tombstone.id)}: недопустимый символ в id удаления")
            elif not bounds.timestamp_ok(tombstone.when, now):
                batch.refuse(f"{_name(tombstone.id)}: дата удаления вне 1990 — завтра")
            else:
                batch.removals.append(Removal(tombstone.id, tombstone.when))
    batch.links_dropped = links.dropped
    return batch
