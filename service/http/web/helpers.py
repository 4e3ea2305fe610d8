"""What every page needs: Russian names and dates, links, query arguments, paging."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask import Flask, g, request, url_for
from marshmallow import EXCLUDE, Schema, fields
from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from service.entries.rendering import (
    FORMAT_NAMES,
    LEVEL_NAMES,
    MONTHS_NOMINATIVE,
    date_range,
    event_when,
    group_digits,
    russian_date,
)
from service.entries.snippets import plain_text
from service.errors import ValidationError
from service.fields import TAG_MAX, values_of
from service.http.api.fields import Str, length
from service.http.api.schemas import EntryQuerySchema
from service.store.models import Entry
from service.timezones import local_time, utc_offset
from service.vocab import KIND_PLURALS, EventStage, Kind, Origin, Status

KIND_NAMES = Kind.names()
ORIGIN_NAMES = Origin.names()
STATUS_NAMES = Status.names()
#: Names of query arguments in messages about them.
ARGUMENT_NAMES = {
    "city": "Город",
    "topic": "Тема",
    "year": "Год",
    "kind": "Вид записи",
    "origin": "Откуда",
    "format": "Формат",
    "level": "Уровень",
    "page": "Страница",
    "tag": "Метка",
}
PER_PAGE = 20


class FilterSchema(EntryQuerySchema):
    """The list filters of the pages: the API's, minus what pages do not offer."""

    class Meta:
        unknown = EXCLUDE
        exclude = ("status", "q", "per_page")

    #: A tag's link lists the entries with that tag (lists only, not search).
    tag = Str(validate=length(TAG_MAX))


def load_args(schema: Schema, args: MultiDict[str, str]) -> dict[str, Any]:
    """Query arguments through a schema; empty ones count as absent.

    A list field takes every value of its argument (``?topic=a&topic=b``).
    A bad value becomes a :class:`ValidationError` with a Russian message
    naming the argument, which the error handler shows as a page.
    """
    data: dict[str, Any] = {}
    for name in args:
        values = [v for v in args.getlist(name) if v.strip()]
        if values:
            many = isinstance(schema.fields.get(name), fields.List)
            data[name] = values if many else values[0]
    try:
        return schema.load(data)
    except SchemaError as error:
        assert isinstance(error.messages, dict)
        field, messages = next(iter(error.messages.items()))
        while isinstance(messages, dict):  # a list field: {index: [messages]}
            messages = next(iter(messages.values()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        raise ValidationError(
            f"{ARGUMENT_NAMES.get(field, field)}: {message}", field=field
        ) from error


def rdate(value: date | datetime | None) -> str:
    """``15 марта 2021`` for a date or a (UTC) datetime."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    return russian_date(value)


def admin_zone() -> str | None:
    """The logged-in admin's city's time zone (None on public pages: times in UTC)."""
    admin = g.get("admin")
    return admin.city.time_zone if admin is not None else None


def rdatetime(value: datetime | None) -> str:
    """``15 марта 2021, 16:05 (UTC+6)``: in the admin's city's zone, else in UTC."""
    if value is None:
        return ""
    here = local_time(value, admin_zone())
    return f"{russian_date(here.date())}, {here:%H:%M} ({utc_offset(here.utcoffset())})"


def zone_offset(name: str) -> str:
    """``UTC+6`` for a zone name, now."""
    return utc_offset(local_time(datetime.now(UTC), name).utcoffset())


def now_here() -> str:
    """The time now in the admin's city's zone."""
    return rdatetime(datetime.now(UTC))


def entry_path(entry: Entry) -> str:
    """The entry's page on this site (mirrored entries too)."""
    return url_for(f"reading.{entry.kind}", entry_id=entry.id)


def page_url(number: int) -> str:
    """The current page's URL with another page number, filters kept."""
    args: dict[str, Any] = {
        k: [v for v in vs if v] for k, vs in request.args.lists() if k != "page" and any(vs)
    }
    args.update(request.view_args or {}, page=number)
    return url_for(request.endpoint or "reading.index", **args)


def plural(number: int, one: str, few: str, many: str) -> str:
    """Russian plural: ``plural(5, "практика", "практики", "практик")`` is "5 практик"."""
    n = abs(number)
    if n % 10 == 1 and n % 100 != 11:
        word = one
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = few
    else:
        word = many
    return f"{group_digits(number)} {word}"


def excerpt(markdown: str | None, limit: int = 220) -> str:
    """The beginning of a Markdown text as plain text, cut at a word."""
    text = plain_text(markdown)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def choices(
    items: Iterable[Any], value: str | None = None, text: str | None = None
) -> list[tuple[Any, Any]]:
    """(value, text) pairs for a <select>: attributes of the items, or the items."""
    return [(getattr(i, value) if value else i, getattr(i, text) if text else i) for i in items]


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(
        rdate=rdate, rdatetime=rdatetime, excerpt=excerpt, choices=choices, num=group_digits
    )
    app.jinja_env.globals.update(
        entry_path=entry_path,
        zone_offset=zone_offset,
        now_here=now_here,
        page_url=page_url,
        plural=plural,
        date_range=date_range,
        event_when=lambda entry: event_when(values_of(entry)),
        KIND_NAMES=KIND_NAMES,
        KIND_PLURALS=KIND_PLURALS,
        ORIGIN_NAMES=ORIGIN_NAMES,
        STATUS_NAMES=STATUS_NAMES,
        FORMAT_NAMES=FORMAT_NAMES,
        LEVEL_NAMES=LEVEL_NAMES,
        STAGE_NAMES=EventStage.names(),
        MONTH_CHOICES=[(str(n), name) for n, name in enumerate(MONTHS_NOMINATIVE, 1)],
    )
