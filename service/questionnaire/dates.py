"""Months, dates and years named near an event.

Recognised: ``в сентябре``, ``в сентябре 2021 года``, ``в конце мая``,
``12 июня``, ``12 июня 2022 г.``, ``5–7 октября``, ``с 15 по 17 июля``,
``с 1 по 30 сентября``, ``с 28 февраля по 2 марта``, ``12.06.2022``; years as
``в 2023 году``, ``2022 года``. A season (``осенью``, ``летом``) or ``в
течение года`` is time too, but gives no month.

Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

_MONTH_STEMS: Final = (
    "январ", "феврал", "март", "апрел", "ма", "июн",
    "июл", "август", "сентябр", "октябр", "ноябр", "декабр",
)  # fmt: skip
_MONTH_WORD: Final = (
    r"(?P<{name}>январ[яеь]|феврал[яеь]|март[аеь]?|апрел[яеь]|ма[яей]|июн[яеь]|июл[яеь]"
    r"|август[аеь]?|сентябр[яеь]|октябр[яеь]|ноябр[яеь]|декабр[яеь])"
)
_YEAR_AFTER: Final = r"(?:\s+(?P<year>(?:19|20)\d{2})\s*(?:год[а-я]*|г\.?))?"
_RANGE_DASH: Final = r"\s*[–—-]\s*"

_DAY_RANGE: Final = re.compile(
    r"(?<![\w.])(?:с\s+)?(?P<d1>\d{1,2})(?:\s+" + _MONTH_WORD.format(name="m1") + r")?"
    r"(?:" + _RANGE_DASH + r"|\s+по\s+)(?P<d2>\d{1,2})\s+" + _MONTH_WORD.format(name="m2")
    + _YEAR_AFTER,
    re.IGNORECASE,
)  # fmt: skip
_DAY: Final = re.compile(
    r"(?<![\w.–—-])(?P<d1>\d{1,2})\s+" + _MONTH_WORD.format(name="m1") + _YEAR_AFTER,
    re.IGNORECASE,
)
_NUMERIC: Final = re.compile(
    r"(?<![\d.])(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>(?:19|20)\d{2})(?!\d)"
)
_MONTH: Final = re.compile(
    r"(?<!\w)(?:в|во|на|к|конце|начале|середине|течение)\s+(?:(?:первой|второй)\s+половине\s+)?"
    + _MONTH_WORD.format(name="m1")
    + _YEAR_AFTER
    + r"(?!\w)",
    re.IGNORECASE,
)
_YEAR: Final = re.compile(r"(?<![\d–—-])((?:19|20)\d{2})\s*(?:год[а-я]*|г\.)(?!\w)", re.IGNORECASE)
_SEASON: Final = re.compile(
    r"(?<!\w)(?:весной|летом|осенью|зимой|в\s+течение\s+(?:всего\s+)?года|ежемесячно"
    r"|еженедельно|ежегодно|в\s+(?:первом|втором|третьем|четв[её]ртом)\s+квартале"
    r"|в\s+(?:первом|втором)\s+полугодии)(?!\w)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class When:
    """A time named in the text: a month, maybe days, maybe a year."""

    start: int  # where it is in the text
    month: int | None  # the (first) month
    first_day: int | None = None
    last_day: int | None = None
    last_month: int | None = None
    year: int | None = None


def _month(word: str | None) -> int | None:
    if not word:
        return None
    low = word.lower()
    if low.startswith("ма") and not low.startswith("март"):
        return 5
    for number, stem in enumerate(_MONTH_STEMS, start=1):
        if stem != "ма" and low.startswith(stem):
            return number
    return None


def _year(match: re.Match[str]) -> int | None:
    return int(match.group("year")) if match.group("year") else None


def times(text: str) -> list[When]:
    """Every month or date named in ``text``, in order (no overlaps)."""
    found: list[When] = []
    taken: list[tuple[int, int]] = []

    def free(match: re.Match[str]) -> bool:
        return all(match.end() <= a or match.start() >= b for a, b in taken)

    for match in _DAY_RANGE.finditer(text):
        last_month = _month(match.group("m2"))
        first_month = _month(match.group("m1")) or last_month
        found.append(
            When(match.start(), first_month, int(match.group("d1")), int(match.group("d2")),
                 last_month, _year(match))
        )  # fmt: skip
        taken.append(match.span())
    for match in _DAY.finditer(text):
        if free(match):
            month = _month(match.group("m1"))
            day = int(match.group("d1"))
            found.append(When(match.start(), month, day, day, month, _year(match)))
            taken.append(match.span())
    for match in _NUMERIC.finditer(text):
        if free(match) and 1 <= int(match.group("m")) <= 12:
            day, month = int(match.group("d")), int(match.group("m"))
            found.append(When(match.start(), month, day, day, month, int(match.group("y"))))
            taken.append(match.span())
    for match in _MONTH.finditer(text):
        if free(match):
            found.append(When(match.start(), _month(match.group("m1")), year=_year(match)))
            taken.append(match.span())
    return sorted(found, key=lambda when: when.start)


def has_time_words(text: str) -> bool:
    """Whether ``text`` names a time of its own (a month, date or season)."""
    return bool(times(text) or _SEASON.search(text))


def years(text: str) -> list[int]:
    """The years ``text`` names as "2023 году", "2022 года", "2021 г."."""
    return [int(m.group(1)) for m in _YEAR.finditer(text)]


def dates_of(when: When, year: int) -> tuple[date | None, date | None]:
    """The first and last day of ``when`` in ``year`` (``None`` if not a real date)."""
    if when.first_day is None or when.month is None:
        return None, None
    try:
        first = date(year, when.month, when.first_day)
        last = date(year, when.last_month or when.month, when.last_day or when.first_day)
    except ValueError:
        return None, None
    if last < first:
        return None, None
    return first, last
