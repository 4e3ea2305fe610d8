"""The boundary where remote data comes in: what a fetched feed brings, checked.

:func:`load_record` checks a record of our extension as another instance
published it; an entry of an ordinary feed becomes a generic note of the
feed's city (:func:`feed_city`). :func:`collect` turns the pages read in one
poll (:class:`Page`) into the :class:`Batch` of versions and tombstones that
:func:`feeds.decide.decide` judges; :class:`Head` is what the answer for the
subscription document said besides its body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from feeds.decide import Removal, Version
from feeds.types import ParsedEntry, ParsedFeed, SourceInfo
from feeds.urls import host_of, origin_of, slug_from_host
from service.cities import SLUG
from service.fields import DATE_MAX, DATE_MIN, YEAR_MAX, YEAR_MIN
from service.vocab import EventFormat, EventLevel, EventStage, Kind

GENERIC_TITLE = "Без названия"
MAX_TAGS, MAX_TAG = 30, 60


class RecordError(ValueError):
    """A mirrored record with a field this instance cannot store; ``field`` names it."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def _when(
    data: dict[str, Any], name: str, parse: Callable[[Any], Any], *, required: bool = False
) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        parsed = parse(value)
    except (TypeError, ValueError):
        raise RecordError(name) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _check(ok: bool, name: str) -> None:
    if not ok:
        raise RecordError(name)


def load_record(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A record of our extension, as another instance published it, ready to store.

    :mod:`feeds.extension` has checked the shape, the types and the lengths
    already; this checks what storing needs on top (dates, the city slug, the
    choices of ``format`` and ``level``, number ranges) and parses the dates.
    It runs for every mirrored entry (a backfill is thousands), so it is a few
    plain checks rather than a marshmallow schema, which cost ~110 us per
    record, a tenth of mirroring one (``bench/mirror_bench.py``).
    """
    data = dict(raw)
    city = data.get("city") or {}
    _check(data.get("kind") in (Kind.PRACTICE, Kind.EVENT), "kind")
    _check(bool(data.get("id")) and bool(data.get("title")), "title")
    _check(bool(SLUG.match(city.get("slug") or "")), "city.slug")
    _check(bool(city.get("name")), "city.name")
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = city.get(name)
        _check(value is None or -limit <= value <= limit, f"city.{name}")
    data["city"] = {
        key: city.get(key) for key in ("slug", "name", "region", "latitude", "longitude")
    }
    # The same ranges as own entries (service.fields): one home for the bounds.
    _check(data.get("year") is None or YEAR_MIN <= data["year"] <= YEAR_MAX, "year")
    _check(data.get("participants") is None or data["participants"] >= 0, "participants")
    _check(data.get("format") in (None, *EventFormat.values()), "format")
    _check(data.get("level") in (None, *EventLevel.values()), "level")
    _check(data.get("stage") in (None, *EventStage.values()), "stage")
    _check(data.get("month") is None or 1 <= data["month"] <= 12, "month")
    data["updated"] = _when(data, "updated", datetime.fromisoformat, required=True)
    data["published"] = _when(data, "published", datetime.fromisoformat)
    data["starts_on"] = _when(data, "starts_on", date.fromisoformat)
    data["ends_on"] = _when(data, "ends_on", date.fromisoformat)
    for name in ("starts_on", "ends_on"):
        _check(data[name] is None or DATE_MIN <= data[name] <= DATE_MAX, name)
    data["topics"] = data.get("topics") or []
    data["tags"] = data.get("tags") or []
    return data


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
    problems: list[str] = field(default_factory=list)


def _generic_data(entry: ParsedEntry, city: dict[str, Any]) -> dict[str, Any]:
    """An entry of an ordinary feed as a generic note of the feed's city."""
    when = entry.published or entry.updated
    tags = [t.strip()[:MAX_TAG] for t in entry.categories if t.strip()][:MAX_TAGS]
    return {
        "id": entry.id,
        "kind": Kind.PRACTICE.value,
        "title": entry.title or GENERIC_TITLE,
        "city": city,
        "topics": [],
        "tags": tags,
        "year": when.year,
        "summary": entry.summary,
        "published": entry.published,
        "updated": entry.updated,
        "url": entry.link,
        "generic": True,
        "content_html": entry.content_html,
    }


def feed_city(head: ParsedFeed, url: str) -> dict[str, Any]:
    """The city that stands for an ordinary (non-ASDG) feed: named after the feed, per site."""
    host = host_of(head.site_url or url) or host_of(url)
    name = (head.title or host or "Лента")[:200]
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


def _relayed(entry: ParsedEntry) -> SourceInfo | None:
    """The feed a relayed entry names as its source: ``atom:source``, else our record's."""
    named = entry.record.get("source") if entry.record is not None else None
    if entry.source is None and isinstance(named, dict):
        return SourceInfo(id=named.get("id"), title=named.get("title"), url=named.get("url"))
    return entry.source


def collect(pages: list[Page], sub_url: str) -> Batch:
    """Every version and tombstone of a batch, as :func:`feeds.decide.decide` wants them."""
    head = pages[0].feed
    own_source = SourceInfo(id=head.feed_id, title=head.title or None, url=head.self_url or sub_url)
    ours = any(e.record is not None for p in pages for e in p.feed.entries)
    generic_city = feed_city(head, sub_url)
    batch = Batch()
    for page in pages:
        page_origin = origin_of(page.url) or origin_of(sub_url) or ""
        batch.problems.extend(page.feed.problems)
        for entry in page.feed.entries:
            if entry.record is None and ours:
                batch.problems.append(f"{entry.id}: запись без расширения asdg пропущена")
                continue
            raw = entry.record
            try:
                data = load_record(raw) if raw is not None else _generic_data(entry, generic_city)
            except RecordError as e:
                batch.problems.append(f"{entry.id}: неверное поле {e.field}")
                continue
            relayed = _relayed(entry)
            origin = page_origin if raw is None else _claimed_origin(relayed, data, page_origin)
            incoming = Incoming(
                data=data, source=relayed or own_source, link=data.get("url") or entry.link
            )
            batch.versions.append(
                Version(entry.id, data["updated"], data["city"]["slug"], origin, incoming)
            )
        batch.removals.extend(Removal(t.id, t.when) for t in page.feed.tombstones)
    return batch
