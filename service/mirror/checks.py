"""The checks every remote entry passes before it is stored: our API's bounds, safe links.

:func:`load_record` checks a record of our extension as another instance
published it, with the bounds of our own API (:mod:`feeds.bounds`, which
:mod:`service.fields` takes its bounds from too); :func:`check_text` and
:func:`check_time` serve generic entries as well. A failed check raises
:class:`RecordError` naming the field: the entry is refused with that reason
and the rest of its feed is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from feeds import bounds
from feeds.signing import authority_of, canonical_record, canonical_tombstone, verify
from feeds.types import DroppedLink, LinkKind, Tombstone
from feeds.urls import checked_url
from service.cities import SLUG
from service.mirror.results import MAX_REASONS, link_reason
from service.trust.pins import KeyRing, Pinned
from service.vocab import EventFormat, EventLevel, EventStage, Kind


class RecordError(ValueError):
    """A mirrored entry this instance refuses to store; ``field`` names the field."""

    def __init__(self, field: str, reason: str = "неверное поле") -> None:
        super().__init__(field)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.reason} {self.field}" if self.field else self.reason


def _when(
    data: dict[str, Any], name: str, parse: Callable[[Any], Any], *, required: bool = False
) -> Any:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        parsed = parse(value)
    except (TypeError, ValueError, OverflowError):
        raise RecordError(name) from None
    if isinstance(parsed, datetime) and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def check(ok: bool, name: str, reason: str = "неверное поле") -> None:
    if not ok:
        raise RecordError(name, reason)


def _in(value: Any, low: Any, high: Any) -> bool:
    return value is None or low <= value <= high


def check_time(when: datetime | None, name: str, now: datetime) -> None:
    """A publication time between 1990 and tomorrow (a far-future date would pin an entry)."""
    check(when is None or bounds.timestamp_ok(when, now), name, "дата вне 1990 — завтра:")


def check_text(data: Mapping[str, Any]) -> None:
    """Refuse NUL characters and lone surrogates in any text of a record."""
    for name, value in data.items():
        check(not bounds.bad_text(value), name, "недопустимый символ в поле")


@dataclass
class Links:
    """URLs of remote input kept only when absolute http(s); the others are counted, with why.

    The parser notes the links it dropped (:attr:`feeds.types.ParsedEntry.dropped_links`,
    :attr:`feeds.types.ParsedFeed.dropped_links`); :meth:`note` counts them here with
    the ones :meth:`keep` drops from records, so a poll counts every link it dropped.
    """

    dropped: int = 0
    #: One line per dropped link (the first :data:`MAX_REASONS`; the count is exact).
    reasons: list[str] = field(default_factory=list)

    def keep(self, url: Any, kind: LinkKind = LinkKind.RECORD, where: str = "") -> str | None:
        safe, dropped = checked_url(url, kind)
        if dropped is not None:
            self.note(where, (dropped,))
        return safe

    def note(self, where: str, dropped: Iterable[DroppedLink]) -> None:
        """Count links dropped from ``where`` (an entry's id, a document's URL)."""
        for link in dropped:
            self.dropped += 1
            if len(self.reasons) < MAX_REASONS:
                self.reasons.append(link_reason(where, link))


def _check_city(city: Mapping[str, Any]) -> dict[str, Any]:
    check(bool(SLUG.match(city.get("slug") or "")), "city.slug")
    check(bool(city.get("name")), "city.name")
    for name, limit in (("latitude", bounds.LATITUDE_MAX), ("longitude", bounds.LONGITUDE_MAX)):
        check(_in(city.get(name), -limit, limit), f"city.{name}")
    return {key: city.get(key) for key in ("slug", "name", "region", "latitude", "longitude")}


def load_record(
    raw: Mapping[str, Any], now: datetime, links: Links | None = None
) -> dict[str, Any]:
    """A record of our extension, as another instance published it, ready to store.

    :mod:`feeds.extension` has checked the shape, the types and the lengths
    already; this checks what storing needs on top, with our API's bounds:
    ``published``/``updated`` between 1990 and tomorrow, event dates
    1990–2100, years, months, participants, coordinates, the city slug, the
    choices, counts of topics and tags, no NUL or lone surrogate anywhere. It
    parses the dates and keeps only http(s) links (``links`` counts the
    others). It runs for every mirrored entry (a backfill is thousands), so
    it is a few plain checks rather than a marshmallow schema, which cost
    ~110 us per record, a tenth of mirroring one (``bench/mirror_bench.py``).
    """
    links = links or Links()
    data = dict(raw)
    check_text(data)
    check(data.get("kind") in (Kind.PRACTICE, Kind.EVENT), "kind")
    check(bool(data.get("id")) and bool(data.get("title")), "title")
    data["city"] = _check_city(data.get("city") or {})
    check(_in(data.get("year"), bounds.YEAR_MIN, bounds.YEAR_MAX), "year")
    check(_in(data.get("participants"), 0, bounds.PARTICIPANTS_MAX), "participants")
    check(data.get("format") in (None, *EventFormat.values()), "format")
    check(data.get("level") in (None, *EventLevel.values()), "level")
    check(data.get("stage") in (None, *EventStage.values()), "stage")
    check(_in(data.get("month"), 1, 12), "month")
    data["updated"] = _when(data, "updated", datetime.fromisoformat, required=True)
    data["published"] = _when(data, "published", datetime.fromisoformat)
    check_time(data["updated"], "updated", now)
    check_time(data["published"], "published", now)
    for name in ("starts_on", "ends_on"):
        data[name] = _when(data, name, date.fromisoformat)
        check(_in(data[name], bounds.DATE_MIN, bounds.DATE_MAX), name)
    data["topics"] = data.get("topics") or []
    data["tags"] = data.get("tags") or []
    check(len(data["topics"]) <= bounds.MAX_TOPICS, "topics")
    check(len(data["tags"]) <= bounds.MAX_TAGS, "tags")
    check(all(len(t) <= bounds.TAG_MAX for t in data["tags"]), "tags")
    where = str(data["id"])
    data["url"] = links.keep(data.get("url"), LinkKind.RECORD, where)
    source = data.get("source")
    if isinstance(source, dict):
        data["source"] = {**source, "url": links.keep(source.get("url"), LinkKind.SOURCE, where)}
    return data


# -- origin signatures ------------------------------------------------------------

UNKNOWN_KEY = "ключ сайта неизвестен"


def signer(
    entry_id: str, message: bytes, signature: str | None, key_id: str | None, keys: KeyRing
) -> Pinned:
    """The pinned key that signed ``message`` (a record or tombstone of ``entry_id``).

    Raises :class:`RecordError` when the key is not pinned (the record waits:
    refused now, accepted once the key is known), the signature is wrong, or
    the id's authority (``tag:`` domain) is not the key's site's.
    """
    key = keys.get(key_id)
    if key is None:
        raise RecordError("", UNKNOWN_KEY)
    if not verify(key.key, message, signature):
        raise RecordError("", "подпись неверна")
    if key.authority is None or authority_of(entry_id) != key.authority:
        raise RecordError("", "id принадлежит другому сайту (не тому, чей ключ подписал запись)")
    return key


def record_signer(entry_id: str, raw: Mapping[str, Any], keys: KeyRing) -> Pinned:
    return signer(entry_id, canonical_record(raw), raw.get("signature"), raw.get("key_id"), keys)


def tombstone_signer(tombstone: Tombstone, keys: KeyRing) -> Pinned:
    message = canonical_tombstone(tombstone.id, tombstone.when)
    return signer(tombstone.id, message, tombstone.signature, tombstone.key_id, keys)
