"""The field catalogue: every field of a practice note and of an event summary, once.

Each :class:`Field` says what a field is (type, bounds, whether it is
Markdown, searchable, required), where it lives (the ``Entry`` column), and
how people see it (the Russian label of the form and the heading of its
section on pages). Everything else is derived from these tuples or checked
against them by a test (``tests/test_fields.py``):

- the API's load and dump schemas (:mod:`service.http.api.schemas`),
- the admin forms (:mod:`service.http.web.forms` and the labels the templates show),
- the snapshot that feeds publish (:mod:`service.entries.changelog`) and what
  :mod:`service.entries.service` and the mirror copy onto an entry,
- the text the search indexes,
- the sections of a page and of a feed entry's HTML (:mod:`service.entries.rendering`),
- the feed extension (:mod:`feeds.extension`, which cannot import the service: a
  test checks that it declares the same fields with the same bounds).

Adding a field here and nowhere else fails that test until every layer has it.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

# The bounds live in feeds.bounds (the mirror checks remote records with them); re-exported.
from feeds.bounds import (
    DATE_MAX as DATE_MAX,
)
from feeds.bounds import (
    DATE_MIN as DATE_MIN,
)
from feeds.bounds import (
    MAX_TAGS as MAX_TAGS,
)
from feeds.bounds import (
    MAX_TOPICS as MAX_TOPICS,
)
from feeds.bounds import (
    PARTICIPANTS_MAX as PARTICIPANTS_MAX,
)
from feeds.bounds import (
    TAG_MAX as TAG_MAX,
)
from feeds.bounds import (
    TEXT_MAX as TEXT_MAX,
)
from feeds.bounds import (
    TIMESTAMP_MIN_YEAR as TIMESTAMP_MIN_YEAR,
)
from feeds.bounds import (
    YEAR_MAX as YEAR_MAX,
)
from feeds.bounds import (
    YEAR_MIN as YEAR_MIN,
)
from feeds.bounds import (
    timestamp_max as timestamp_max,
)
from service.vocab import TOPIC_CODES, Choice, EventFormat, EventLevel, EventStage, Kind

#: The largest local number (of an entry, subscription, token): the id columns are 32-bit
#: integers on PostgreSQL; a larger number names nothing (404).
ID_MAX = 2**31 - 1


class FieldType(enum.StrEnum):
    LINE = "line"  # one line of plain text
    TEXT = "text"  # Markdown (CommonMark), rendered as sanitized HTML
    INT = "int"
    DATE = "date"
    CHOICE = "choice"  # one value of a vocab enum
    EMAIL = "email"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType
    #: The Russian label of the form field (and of the field in error summaries).
    label: str
    required: bool = False
    max_length: int | None = None
    #: Inclusive bounds of a number.
    bounds: tuple[int, int] | None = None
    choices: builtins.type[Choice] | None = None
    #: Searched by the full-text index.
    searchable: bool = False
    #: Heading of the field's section on pages and in feeds (Markdown texts);
    #: ``{year}`` and ``{next_year}`` are the record's year and the one after.
    heading: str | None = None
    #: A hint under the form field.
    help: str = ""
    #: The ``Entry`` attribute when it is not ``name``.
    column: str | None = None

    @property
    def attr(self) -> str:
        return self.column or self.name

    @property
    def markdown(self) -> bool:
        return self.type is FieldType.TEXT

    def section_heading(self, year: object) -> str | None:
        if self.heading is None:
            return None
        year_ = year if isinstance(year, int) else None
        next_year = year_ + 1 if year_ is not None else None
        return self.heading.format(year=year_ or "", next_year=next_year or "")


def _line(name: str, label: str, max_length: int, **kw: object) -> Field:
    return Field(name, FieldType.LINE, label, max_length=max_length, **kw)  # type: ignore[arg-type]


def _text(name: str, label: str, **kw: object) -> Field:
    return Field(name, FieldType.TEXT, label, max_length=TEXT_MAX, searchable=True, **kw)  # type: ignore[arg-type]


#: Fields every kind has besides its catalogue: not plain columns, handled by
#: name in each layer.
COMMON_SPECIAL = ("city", "topics", "tags", "status")

#: The contact of a practice note (``contact`` object; columns ``contact_<name>``).
CONTACT: tuple[Field, ...] = (
    _line("name", "Имя", 300, searchable=True, column="contact_name"),
    _line("position", "Должность", 300, searchable=True, column="contact_position"),
    Field("email", FieldType.EMAIL, "Электронная почта", max_length=300, column="contact_email"),
    _line("phone", "Телефон", 100, column="contact_phone"),
)

PRACTICE: tuple[Field, ...] = (
    _line("title", "Заголовок", 500, required=True, searchable=True),
    _line(
        "area",
        "Направление деятельности",
        500,
        required=True,
        searchable=True,
        help="Например: «Организационная деятельность»",
    ),
    Field(
        "year",
        FieldType.INT,
        "Год",
        required=True,
        bounds=(YEAR_MIN, YEAR_MAX),
        help="Отчётный год",
    ),
    _text(
        "summary",
        "Чем занимается подразделение",
        required=True,
        heading="Чем занимается подразделение",
        help="Основные направления работы",
    ),
    _text(
        "achievements",
        "Что сделано за год",
        heading="Что удалось сделать в {year} году",
        help="Что удалось сделать в отчётном году",
    ),
    _text("plans", "Задачи на следующий год", heading="Задачи на {next_year} год"),
    _text("assistance", "Какая помощь нужна от АСДГ", heading="Какая помощь нужна от АСДГ"),
    _text("body", "Подробности", heading="Подробности"),
)

EVENT: tuple[Field, ...] = (
    _line("title", "Название", 500, required=True, searchable=True),
    Field(
        "stage",
        FieldType.CHOICE,
        "Проведено или запланировано",
        choices=EventStage,
    ),
    Field(
        "year",
        FieldType.INT,
        "Год",
        bounds=(YEAR_MIN, YEAR_MAX),
        help="Обязателен, если даты не указаны",
    ),
    Field("month", FieldType.INT, "Месяц", bounds=(1, 12), help="Если известен только месяц"),
    Field("starts_on", FieldType.DATE, "Начало"),
    Field("ends_on", FieldType.DATE, "Окончание"),
    Field("format", FieldType.CHOICE, "Формат", required=True, choices=EventFormat),
    Field("level", FieldType.CHOICE, "Уровень", required=True, choices=EventLevel),
    _line("location", "Место", 500, required=True, searchable=True),
    Field(
        "participants",
        FieldType.INT,
        "Число участников",
        bounds=(0, PARTICIPANTS_MAX),
    ),
    _text("summary", "О мероприятии", required=True, heading="О мероприятии"),
    _text("results", "Итоги", heading="Итоги"),
    _line("related", "Практика, к которой относится", 500, column="related_uid"),
)

FIELDS: dict[str, tuple[Field, ...]] = {Kind.PRACTICE.value: PRACTICE, Kind.EVENT.value: EVENT}

#: Russian labels of the fields that every kind has besides its catalogue.
COMMON_LABELS = {"topics": "Темы", "tags": "Метки", "status": "Состояние", "city": "Город"}


def fields_of(kind: str) -> tuple[Field, ...]:
    return FIELDS[kind]


def field(kind: str, name: str) -> Field:
    for f in FIELDS[kind]:
        if f.name == name:
            return f
    raise KeyError(name)


def labels(kind: str) -> dict[str, str]:
    """{form field name: Russian label} of a kind's form (contact fields as ``contact_<name>``)."""
    out = {f.name: f.label for f in FIELDS[kind]}
    out.update(COMMON_LABELS)
    if kind == Kind.PRACTICE:
        out.update({f"contact_{f.name}": f.label for f in CONTACT})
    return out


@cache
def searchable(kind: str) -> tuple[Field, ...]:
    """The fields whose text the search indexes (contact fields included for notes)."""
    found = tuple(f for f in FIELDS[kind] if f.searchable)
    return found + tuple(f for f in CONTACT if f.searchable) if kind == Kind.PRACTICE else found


def sections(kind: str) -> tuple[Field, ...]:
    """The Markdown fields shown as sections under a heading, in reading order."""
    return tuple(f for f in FIELDS[kind] if f.heading is not None)


def unknown_topics(codes: Iterable[str]) -> list[str]:
    """The codes that are not in the shipped topic list."""
    return [code for code in codes if code not in TOPIC_CODES]


def event_problems(
    values: Mapping[str, Any], *, failed: Iterable[str] = ()
) -> dict[str, list[str]]:
    """The cross-field rules of an event, on its (loaded or merged) values.

    Dates are optional; when given, they set the year and month. Without a
    start date the year is required. {field: [Russian messages]}, empty if fine.
    ``failed`` names fields given but unreadable (they have their own error):
    the rules that involve them are left out.
    """
    failed = set(failed)
    if failed & {"starts_on", "ends_on", "year", "month"}:
        return {}
    starts, ends = values.get("starts_on"), values.get("ends_on")
    year, month = values.get("year"), values.get("month")
    problems: dict[str, list[str]] = {}
    if ends is not None and starts is None:
        problems["starts_on"] = ["Укажите дату начала (или уберите дату окончания)."]
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts:
        problems["ends_on"] = ["Дата окончания раньше даты начала."]
    if isinstance(starts, date):
        if year is not None and year != starts.year:
            problems["year"] = ["Год не совпадает с датой начала."]
        if month is not None and month != starts.month:
            problems["month"] = ["Месяц не совпадает с датой начала."]
    elif year is None and "starts_on" not in problems:
        problems["year"] = ["Укажите год мероприятия или его даты."]
    return problems


def values_of(entry: Any) -> dict[str, Any]:
    """The catalogue fields of an ``Entry`` (or anything with its columns), by field name."""
    values = {spec.name: getattr(entry, spec.attr) for spec in FIELDS[entry.kind]}
    values["kind"] = entry.kind
    return values
