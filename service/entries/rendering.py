"""The HTML that readers see for an entry: sections under Russian headings.

Works on an entry snapshot (see :func:`service.entries.service.snapshot`), so feeds,
archives and pages render the same thing from the same data.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import escape

from service.entries.markup import markdown_to_html, sanitize_html
from service.vocab import EventFormat, EventLevel

FORMAT_NAMES = EventFormat.names()
LEVEL_NAMES = EventLevel.names()
MONTHS_GENITIVE = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)  # fmt: skip


def russian_date(value: date) -> str:
    """``15 марта 2021``."""
    return f"{value.day} {MONTHS_GENITIVE[value.month - 1]} {value.year}"


def date_range(starts: date, ends: date) -> str:
    if starts == ends:
        return russian_date(starts)
    return f"{russian_date(starts)} — {russian_date(ends)}"


def practice_sections(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(heading, markdown) pairs of a practice note, in reading order."""
    year = data.get("year")
    next_year = year + 1 if isinstance(year, int) else None
    return [
        ("Чем занимается подразделение", data.get("summary") or ""),
        (f"Что удалось сделать в {year} году", data.get("achievements") or ""),
        (f"Задачи на {next_year} год", data.get("plans") or ""),
        ("Какая помощь нужна от АСДГ", data.get("assistance") or ""),
        ("Подробности", data.get("body") or ""),
    ]


def _section(heading: str, markdown: str) -> str:
    html = markdown_to_html(markdown)
    if not html:
        return ""
    return f"<h3>{escape(heading)}</h3>\n{html}"


def _event_facts(data: dict[str, Any]) -> str:
    facts: list[tuple[str, str]] = []
    starts, ends = data.get("starts_on"), data.get("ends_on")
    if starts and ends:
        facts.append(("Даты", date_range(date.fromisoformat(starts), date.fromisoformat(ends))))
    if data.get("format"):
        facts.append(("Формат", FORMAT_NAMES.get(data["format"], data["format"])))
    if data.get("level"):
        facts.append(("Уровень", LEVEL_NAMES.get(data["level"], data["level"])))
    if data.get("location"):
        facts.append(("Место", data["location"]))
    if data.get("participants") is not None:
        facts.append(("Участников", str(data["participants"])))
    rows = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    return f"<dl>{rows}</dl>" if rows else ""


def entry_html(data: dict[str, Any]) -> str:
    """The sanitized HTML body of an entry for feeds and pages."""
    if data.get("generic"):
        return sanitize_html(data.get("content_html") or "")
    if data.get("kind") == "event":
        parts = [
            _event_facts(data),
            _section("О мероприятии", data.get("summary") or ""),
            _section("Итоги", data.get("results") or ""),
        ]
    else:
        parts = [_section(h, md) for h, md in practice_sections(data)]
        contact = data.get("contact") or {}
        if any(contact.values()):
            line = ", ".join(escape(v) for v in contact.values() if v)
            parts.append(f"<h3>Контакты</h3>\n<p>{line}</p>")
    return "\n".join(p for p in parts if p)
