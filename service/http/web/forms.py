"""The admin's entry forms: form fields in, the API's schemas for validation.

A browser sends strings; the API's load schemas (PracticeInSchema,
EventInSchema) expect JSON types. ``form_data`` turns the strings into those
types (numbers, lists, the contact object) and leaves anything it cannot
convert as typed, so the schema rejects it with its own Russian message.
Errors come back keyed by form field name, to be shown next to each field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from service.errors import ValidationError
from service.fields import CONTACT, Field, FieldType, fields_of
from service.http.api.schemas import IN_SCHEMAS
from service.store.models import Entry
from service.vocab import Kind

SCHEMAS = IN_SCHEMAS
INTEGER = re.compile(r"[+-]?\d{1,12}")
#: Choices and dates: an empty form field means "not given".
EMPTY_IS_ABSENT = (FieldType.DATE, FieldType.CHOICE)

FormErrors = dict[str, list[str]]
#: A date is typed as day, month and year (the gov.uk pattern): ``starts_on-day``...
DATE_PARTS = ("day", "month", "year")
DATE_HINT = "Например, 12 06 2022"


class FormInvalid(Exception):
    """The form's data did not pass validation; ``errors`` by form field."""

    def __init__(self, errors: FormErrors) -> None:
        super().__init__(errors)
        self.errors = errors


def _number(value: str) -> int | str:
    value = value.strip()
    return int(value) if INTEGER.fullmatch(value) else value


def _form_value(spec: Field, raw: str) -> Any:
    """A form string as the JSON body would carry it (None: leave the field out)."""
    value = raw.strip()
    if spec.type is FieldType.INT:
        if not value:
            return None if spec.required else _NULL
        return int(value) if INTEGER.fullmatch(value) else value
    if spec.type in EMPTY_IS_ABSENT and not value:
        return None if spec.required else _NULL
    if spec.column == "related_uid":
        return value or _NULL
    return raw


#: A form field left empty that the body sends as JSON null.
_NULL = object()


def form_data(kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the API's JSON body would have them."""
    data: dict[str, Any] = {}
    for spec in fields_of(kind):
        value = _form_value(spec, form.get(spec.name, ""))
        if value is not None:
            data[spec.name] = None if value is _NULL else value
    data["topics"] = form.getlist("topics")
    data["tags"] = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    data["status"] = form.get("status", "draft")
    if kind == Kind.PRACTICE:
        contact = {c.name: form.get(f"contact_{c.name}", "").strip() or None for c in CONTACT}
        data["contact"] = contact if any(contact.values()) else None
    return data


def _flatten(messages: Mapping[str, Any] | list[Any], prefix: str = "") -> FormErrors:
    """marshmallow's nested messages as {form field: [messages]}."""
    if isinstance(messages, list):
        return {prefix or "form": [str(m) for m in messages]}
    out: FormErrors = {}
    for key, value in messages.items():
        # Nested objects name their subfields (contact_email); list items name the list.
        name = f"{prefix}_{key}" if prefix and isinstance(key, str) else prefix or str(key)
        if key == "_schema":
            name = prefix or "form"
        for field, found in _flatten(value, name).items():
            out.setdefault(field, []).extend(found)
    return out


def _date_from_parts(form: MultiDict[str, str], name: str) -> tuple[str | None, str | None]:
    """(ISO date or "" when empty, error) from ``name-day``/``-month``/``-year``;
    ``(None, None)`` when the form has no such parts."""
    keys = [f"{name}-{part}" for part in DATE_PARTS]
    if not any(key in form for key in keys):
        return None, None
    day, month, year = (form.get(key, "").strip() for key in keys)
    if not (day or month or year):
        return "", None
    if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
        return "", f"Введите дату полностью: день, месяц и год цифрами ({DATE_HINT.lower()})."
    try:
        return date(int(year), int(month), int(day)).isoformat(), None
    except ValueError:
        return "", f"Такой даты нет: {day}.{month}.{year}. {DATE_HINT}."


def _with_dates(kind: str, form: MultiDict[str, str]) -> tuple[MultiDict[str, str], FormErrors]:
    """The form with its day/month/year parts read into date fields, and their errors."""
    out = MultiDict(form)
    errors: FormErrors = {}
    for spec in fields_of(kind):
        if spec.type is not FieldType.DATE:
            continue
        value, error = _date_from_parts(form, spec.name)
        if value is not None:
            out[spec.name] = value
        if error:
            errors[spec.name] = [error]
    return out, errors


def validate(kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """Validated data for service.entries.service, or :class:`FormInvalid` with
    every error of the form at once."""
    form, errors = _with_dates(kind, form)
    try:
        data = SCHEMAS[kind]().load(form_data(kind, form))
    except SchemaError as error:
        for name, messages in _flatten(error.messages).items():
            errors.setdefault(name, messages)  # a date's own error says it best
        raise FormInvalid(errors) from error
    if errors:
        raise FormInvalid(errors)
    return data


def service_error(error: ValidationError) -> FormInvalid:
    """A rule checked by the service (unknown topic, related note) as a form error."""
    return FormInvalid({error.field or "form": [error.message]})


def entry_form(entry: Entry) -> dict[str, Any]:
    """The form's values for an existing entry, as a browser would send them."""
    values: dict[str, Any] = {}
    for spec in fields_of(entry.kind):
        value = getattr(entry, spec.attr)
        values[spec.name] = "" if value is None else str(value)
        if spec.type is FieldType.DATE:
            parts = (value.day, value.month, value.year) if value else ("", "", "")
            for part, number in zip(DATE_PARTS, parts, strict=True):
                values[f"{spec.name}-{part}"] = str(number)
    values["topics"] = entry.topic_codes
    values["tags"] = ", ".join(entry.tags or [])
    values["status"] = entry.status
    for spec in CONTACT:
        values[f"contact_{spec.name}"] = getattr(entry, spec.attr) or ""
    return values


def typed_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the admin typed, to show again after an error."""
    values: dict[str, Any] = {k: v for k, v in form.items() if k != "topics"}
    values["topics"] = form.getlist("topics")
    return values
