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
from typing import Any

from marshmallow import ValidationError as SchemaError
from werkzeug.datastructures import MultiDict

from service.entries.changelog import CONTACT_FIELDS
from service.errors import ValidationError
from service.http.api.schemas import EventInSchema, PracticeInSchema
from service.store.models import Entry
from service.vocab import Kind

#: Text fields as the form names them (the same as the schema's).
TEXT_FIELDS = {
    Kind.PRACTICE: ("title", "area", "summary", "achievements", "plans", "assistance", "body"),
    Kind.EVENT: (
        "title",
        "starts_on",
        "ends_on",
        "format",
        "level",
        "location",
        "summary",
        "results",
    ),
}
NUMBER_FIELDS = {Kind.PRACTICE: ("year",), Kind.EVENT: ("participants",)}
SCHEMAS = {Kind.PRACTICE: PracticeInSchema, Kind.EVENT: EventInSchema}
INTEGER = re.compile(r"[+-]?\d{1,12}")

FormErrors = dict[str, list[str]]


class FormInvalid(Exception):
    """The form's data did not pass validation; ``errors`` by form field."""

    def __init__(self, errors: FormErrors) -> None:
        super().__init__(errors)
        self.errors = errors


def _number(value: str) -> int | str:
    value = value.strip()
    return int(value) if INTEGER.fullmatch(value) else value


def form_data(kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """The form's fields as the API's JSON body would have them."""
    data: dict[str, Any] = {}
    for name in TEXT_FIELDS[kind]:
        value = form.get(name, "")
        if value.strip() or name not in ("starts_on", "ends_on", "format", "level"):
            data[name] = value
    for name in NUMBER_FIELDS[kind]:
        value = form.get(name, "")
        if value.strip():
            data[name] = _number(value)
        elif name == "participants":
            data[name] = None
    data["topics"] = form.getlist("topics")
    data["tags"] = [t.strip() for t in form.get("tags", "").split(",") if t.strip()]
    data["status"] = form.get("status", "draft")
    if kind == Kind.PRACTICE:
        contact = {n: form.get(f"contact_{n}", "").strip() or None for n in CONTACT_FIELDS}
        data["contact"] = contact if any(contact.values()) else None
    else:
        data["related"] = form.get("related", "").strip() or None
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


def validate(kind: str, form: MultiDict[str, str]) -> dict[str, Any]:
    """Validated data for service.entries.service, or :class:`FormInvalid`."""
    try:
        return SCHEMAS[kind]().load(form_data(kind, form))
    except SchemaError as error:
        raise FormInvalid(_flatten(error.messages)) from error


def service_error(error: ValidationError) -> FormInvalid:
    """A rule checked by the service (unknown topic, related note) as a form error."""
    return FormInvalid({error.field or "form": [error.message]})


def entry_form(entry: Entry) -> dict[str, Any]:
    """The form's values for an existing entry, as a browser would send them."""
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS[entry.kind] + NUMBER_FIELDS[entry.kind]:
        value = getattr(entry, name)
        values[name] = "" if value is None else str(value)
    values["topics"] = entry.topic_codes
    values["tags"] = ", ".join(entry.tags or [])
    values["status"] = entry.status
    for name in CONTACT_FIELDS:
        values[f"contact_{name}"] = getattr(entry, f"contact_{name}") or ""
    values["related"] = entry.related_uid or ""
    return values


def typed_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the admin typed, to show again after an error."""
    values: dict[str, Any] = {k: v for k, v in form.items() if k != "topics"}
    values["topics"] = form.getlist("topics")
    return values
