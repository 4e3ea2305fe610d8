"""Bounds on every request's input, checked before any view reads it.

Whatever a client sends, the answer is a 4xx naming the offending part, never
a 500:

- NUL characters and lone surrogates (which no database stores as text:
  PostgreSQL refuses both) in a part of the path (404: it names nothing), a
  query argument, a form field or any string of a JSON body (422), naming it;
- JSON nested deeper than :data:`MAX_DEPTH`: 400 (Python's parser would
  otherwise recurse until it fails);
- integers in a JSON body outside 64 bits (however many digits): 422 naming
  the field;
- numbers in URLs (``/<int:...>``) outside 1..:data:`~service.fields.ID_MAX`, or
  written in other digits than ASCII: 404, as for any number that names nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Flask, abort, request

from service.errors import BadRequestError, NotFoundError, ValidationError
from service.fields import ID_MAX

#: Deepest nesting of arrays and objects a JSON body may have.
MAX_DEPTH = 64
#: The largest integer a JSON body may hold (64 bits; fields have their own bounds).
INT_MAX = 2**63 - 1
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
JSON_TYPES = ("application/json",)
#: Query arguments whose values their service checks itself, with a message in place: the
#: search text (service.entries.search explains a bad one on the search page).
SELF_CHECKED = {"q"}


class _TooLarge:
    """An integer literal beyond 64 bits, kept as its text (never converted)."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _int(digits: str) -> int | _TooLarge:
    if len(digits.lstrip("-")) > 19:
        return _TooLarge(digits)
    value = int(digits)
    return value if -INT_MAX - 1 <= value <= INT_MAX else _TooLarge(digits)


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON text nests arrays and objects deeper than ``limit``."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Every string, key and number of a JSON value, with the path that names it."""
    if isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            yield name, key
            yield from _walk(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]")
    else:
        yield path, value


def _shown(name: str) -> str:
    """A field name safe to echo in a message."""
    return FORBIDDEN.sub("\ufffd", name)[:200] or "json"


def check_json_body() -> None:
    raw = request.get_data(cache=True)
    if not raw:
        return
    if too_deep(raw):
        raise BadRequestError(f"JSON вложен глубже {MAX_DEPTH} уровней", field="json")
    try:
        data = json.loads(raw, parse_int=_int)
    except (ValueError, RecursionError):
        return  # not JSON: the view answers 400 as for any malformed body
    for name, value in _walk(data, ""):
        if isinstance(value, str) and FORBIDDEN.search(value):
            raise ValidationError(
                "Недопустимый символ (NUL или одиночный суррогат UTF-16)", field=_shown(name)
            )
        if isinstance(value, _TooLarge):
            raise ValidationError("Слишком большое число.", field=_shown(name))


def check_request() -> None:
    """The bounds above, for the request being served."""
    for name, value in (request.view_args or {}).items():
        # Werkzeug's int converter also reads other scripts' digits ("١٢"): ASCII only.
        if isinstance(value, int) and (not 0 < value <= ID_MAX or not request.path.isascii()):
            abort(404)
        if isinstance(value, str) and FORBIDDEN.search(value):
            raise NotFoundError("Такого адреса нет (недопустимый символ)", field=name)
    for source, location in ((request.args, "query"), (request.form, "form")):
        for key, values in source.lists():
            for text in (key,) if key in SELF_CHECKED else (key, *values):
                if FORBIDDEN.search(text):
                    raise ValidationError(
                        f"Недопустимый символ (NUL) в параметре {location}", field=_shown(key)
                    )
    if request.mimetype in JSON_TYPES or request.mimetype.endswith("+json"):
        check_json_body()


def init_app(app: Flask) -> None:
    app.before_request(check_request)
