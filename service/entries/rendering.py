"""The HTML that readers see for an entry: sections under Russian headings.

Works on an entry snapshot (see :func:`service.entries.service.snapshot`), so feeds,
archives and pages render the same thing from the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from markupsafe import escape

from service.entries.markup import markdown_to_html, sanitize_html
from service.fields import sections as catalogue_sections
from service.vocab import EventFormat, EventLevel, EventStage, Kind

FORMAT_NAMES = EventFormat.names()
LEVEL_NAMES = EventLevel.names()
MONTHS_NOMINATIVE = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def russian_date(value: date) -> str:
    """``15 марта 2021``."""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def date_range(starts: date, ends: date) -> str:
    """``15 марта 2021``, ``15–16 марта 2021``, ``30 марта — 2 апреля 2021``."""
    if starts == ends:
        return russian_date(starts)
    if (starts.year, starts.month) == (ends.year, ends.month):
        return f"{starts.day}–{russian_date(ends)}"
    if starts.year == ends.year:
        return f"{starts.day} {MONTHS_GENITIVE[starts.month - 1]} — {russian_date(ends)}"
    return f"{russian_date(starts)} — {russian_date(ends)}"


def _as_date(value: object) -> date | None:
    if isinstance(value, date):
        return value
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def event_when(values: Mapping[str, Any]) -> str:
    """When an event is or was, as precisely as known (an entry's or a record's values).

    ``15–16 марта 2021``; ``март 2022``; ``2020 год, даты уточняются``.
    """
    starts, ends = _as_date(values.get("starts_on")), _as_date(values.get("ends_on"))
    year, month = values.get("year"), values.get("month")
    if starts is not None:
        return date_range(starts, ends or starts)
    if isinstance(year, int) and isinstance(month, int) and 1 <= month <= 12:
        return f"{MONTHS_NOMINATIVE[month - 1]} {year}"
    if isinstance(year, int):
        return f"{year} год, даты уточняются"
    return "даты уточняются"


def sections(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(heading, markdown) of a record's Markdown sections, in reading order (may be empty)."""
    kind = data.get("kind") or Kind.PRACTICE.value
    year = data.get("year")
    return [
        (spec.section_heading(year) or "", data.get(spec.name) or "")
        for spec in catalogue_sections(kind)
    ]


def _section(heading: str, markdown: str) -> str:
    html = markdown_to_html(markdown)
    if not html:
        return ""
    return f"<h3>{escape(heading)}</h3>\n{html}"


#: Between groups of digits (Russian style): a no-break space.
DIGIT_GROUP = "\u00a0"


def group_digits(number: int) -> str:
    """``380 000`` (a no-break space between thousands); four digits stay whole: ``1200``."""
    if abs(number) < 10_000:
        return str(number)
    return f"{number:,}".replace(",", DIGIT_GROUP)


def event_facts(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of an event's facts, as pages and feeds show them."""
    facts: list[tuple[str, str]] = [("Когда", event_when(data))]
    if data.get("stage") == EventStage.PLANNED:
        facts.append(("Статус", EventStage.PLANNED.label))
    if data.get("format"):
        facts.append(("Формат", FORMAT_NAMES.get(data["format"], data["format"])))
    if data.get("level"):
        facts.append(("Уровень", LEVEL_NAMES.get(data["level"], data["level"])))
    if data.get("location"):
        facts.append(("Место", data["location"]))
    if data.get("participants") is not None:
        facts.append(("Участников", group_digits(data["participants"])))
    return facts


def entry_html(data: Mapping[str, Any]) -> str:
    """The sanitized HTML body of an entry for feeds and pages."""
    if data.get("generic"):
        return sanitize_html(data.get("content_html") or "")
    parts = [_section(heading, md) for heading, md in sections(data)]
    if data.get("kind") == Kind.EVENT:
        rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in event_facts(data))
        parts.insert(0, f"<dl>{rows}</dl>")
    contact = data.get("contact") or {}
    if any(contact.values()):
        line = ", ".join(escape(v) for v in contact.values() if v)
        parts.append(f"<h3>Контакты</h3>\n<p>{line}</p>")
    return "\n".join(p for p in parts if p)
