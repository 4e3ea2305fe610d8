"""Bounds of a record's fields, shared by our API and the mirror (pure constants).

:mod:`service.fields` (the field catalogue) takes its bounds from here, and
the mirror checks every record another instance publishes against the same
numbers (:mod:`service.mirror.records`), so a mirrored entry is never
something our own API would refuse. Also the checks of text that no store
accepts: NUL characters and lone surrogates.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

#: Longest Markdown text, in characters.
TEXT_MAX = 100_000
#: Years a record may speak of (a practice note's reporting year, an event's year).
YEAR_MIN, YEAR_MAX = 1990, 2100
#: Event dates: the same range as years.
DATE_MIN, DATE_MAX = date(YEAR_MIN, 1, 1), date(YEAR_MAX, 12, 31)
#: Publication times (``published``/``updated``) are never before this year, nor after tomorrow.
TIMESTAMP_MIN_YEAR = YEAR_MIN
TIMESTAMP_MIN = datetime(TIMESTAMP_MIN_YEAR, 1, 1, tzinfo=UTC)
PARTICIPANTS_MAX = 10_000_000
MAX_TOPICS, MAX_TAGS, TAG_MAX = 30, 30, 60
LATITUDE_MAX, LONGITUDE_MAX = 90.0, 180.0

#: Text no database stores faithfully: NUL (PostgreSQL refuses it) and lone surrogates.
BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def timestamp_max(today: date) -> date:
    """The latest day a publication time may name: tomorrow (clocks differ a little)."""
    return today + timedelta(days=1)


def timestamp_ok(when: datetime, now: datetime | None = None) -> bool:
    """A publication time between 1990 and the end of tomorrow (UTC)."""
    now = now or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    latest = datetime.combine(timestamp_max(now.date()), datetime.max.time(), tzinfo=UTC)
    return TIMESTAMP_MIN <= when <= latest


def bad_text(value: object) -> bool:
    """True when ``value`` (a str, or lists and dicts of them) holds NUL or a lone surrogate."""
    if isinstance(value, str):
        return BAD_TEXT.search(value) is not None
    if isinstance(value, dict):
        return any(bad_text(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(bad_text(v) for v in value)
    return False
