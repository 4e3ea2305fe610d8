"""Our structured extension: every field of a record, in Atom and in JSON Feed.

One declaration (:data:`COMMON`, :data:`PRACTICE`, :data:`EVENT`) drives both
directions, so the publisher and the parser can never disagree:

- Atom: one ``<asdg:record>`` element per entry in the namespace :data:`NS`,
  with one child element per field (see the README, section "feeds").
- JSON Feed: the item's ``_asdg`` object with the same keys.

The dict on both ends is a :class:`feeds.types.Record`: Markdown
fields stay Markdown (the rendered HTML travels in ``content``/``content_html``).
A field that is None is left out of the XML and comes back as None; an empty
string is an empty element. The optional fields (``source``, ``generic``) come
back only when present.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from lxml import etree

from feeds.bounds import TEXT_MAX
from feeds.signing import MAX_KEY_ID, MAX_SIGNATURE, KeyStatement, read_statement
from feeds.types import Record

#: Our namespace; stable, never changes meaning (a new version gets a new URI).
NS = "https://asdg.example/ns/practice/1.0"
PREFIX = "asdg"
ATOM_NS = "http://www.w3.org/2005/Atom"
#: RFC 5005 (feed history).
FH_NS = "http://purl.org/syndication/history/1.0"
#: RFC 6721 (tombstones).
AT_NS = "http://purl.org/atompub/tombstones/1.0"
XML_NS = "http://www.w3.org/XML/1998/namespace"

RECORD = f"{{{NS}}}record"


class RecordError(ValueError):
    """Extension data that does not fit the declaration (wrong type, too long...)."""


@dataclass(frozen=True)
class Field:
    name: str
    #: "str", "int", "float", "bool", "list" (of str) or "object"
    type: str = "str"
    max_length: int = TEXT_MAX
    #: For lists: the element name of one item (Atom); the JSON key is ``name``.
    item: str | None = None
    children: tuple[Field, ...] = ()
    #: Present only sometimes: absent comes back absent, not None.
    optional: bool = False

    @property
    def tag(self) -> str:
        """The Clark name of the element (of one item, for lists)."""
        return _TAGS[self.item or self.name]


def _s(name: str, max_length: int = TEXT_MAX) -> Field:
    return Field(name, "str", max_length)


CITY = (
    _s("slug", 64),
    _s("name", 200),
    _s("region", 200),
    Field("latitude", "float"),
    Field("longitude", "float"),
)
CONTACT = (_s("name", 300), _s("position", 300), _s("email", 300), _s("phone", 100))
SOURCE = (_s("id", 2000), _s("title", 500), _s("url", 2000))

COMMON: tuple[Field, ...] = (
    _s("id", 500),
    _s("kind", 16),
    _s("title", 500),
    Field("city", "object", children=CITY),
    Field("topics", "list", 64, item="topic"),
    Field("tags", "list", 200, item="tag"),
    Field("year", "int"),
    _s("summary"),
    _s("status", 16),
    _s("published", 64),
    _s("updated", 64),
    _s("url", 2000),
    _s("origin", 16),
    Field("source", "object", children=SOURCE, optional=True),
    Field("generic", "bool", optional=True),
    # The origin's signature (feeds.signing) and the id of its key.
    Field("signature", "str", MAX_SIGNATURE, optional=True),
    Field("key_id", "str", MAX_KEY_ID, optional=True),
)
PRACTICE: tuple[Field, ...] = (
    _s("area", 500),
    _s("achievements"),
    _s("plans"),
    _s("assistance"),
    _s("body"),
    Field("contact", "object", children=CONTACT),
)
EVENT: tuple[Field, ...] = (
    _s("stage", 16),
    Field("month", "int"),
    _s("starts_on", 10),
    _s("ends_on", 10),
    _s("format", 16),
    _s("level", 16),
    _s("location", 500),
    Field("participants", "int"),
    _s("results"),
    _s("related", 500),
)
KINDS: dict[str, tuple[Field, ...]] = {"practice": COMMON + PRACTICE, "event": COMMON + EVENT}


def _names(specs: tuple[Field, ...]) -> set[str]:
    names: set[str] = set()
    for spec in specs:
        names |= {spec.item or spec.name} | _names(spec.children)
    return names


_TAGS = {name: f"{{{NS}}}{name}" for name in _names(COMMON + PRACTICE + EVENT)}
KEY = f"{{{NS}}}key"
SIGNATURE = f"{{{NS}}}signature"
#: At most this many key statements per feed document.
MAX_KEYS = 10
#: At most this many topics or tags per record.
MAX_LIST = 100

#: Characters XML 1.0 cannot carry; dropped on the way out.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """The text without characters that XML 1.0 forbids."""
    return XML_INVALID.sub("", text) if XML_INVALID.search(text) else text


def fields_of(kind: str) -> tuple[Field, ...]:
    try:
        return KINDS[kind]
    except KeyError:
        raise RecordError(f"unknown kind {kind!r}") from None


# -- Atom -------------------------------------------------------------------


def _scalar_text(spec: Field, value: Any) -> str:
    if spec.type == "bool":
        return "true" if value else "false"
    if spec.type == "float":
        return repr(float(value))
    if spec.type == "int":
        return str(int(value))
    return str(value)


def _set_text(element: etree._Element, text: str) -> None:
    try:
        element.text = text
    except ValueError:  # lxml refuses characters XML cannot carry
        element.text = xml_safe(text)


def _write_fields(
    parent: etree._Element, specs: tuple[Field, ...], data: Mapping[str, Any]
) -> None:
    sub = etree.SubElement
    for spec in specs:
        value = data.get(spec.name)
        if value is None:
            continue
        if spec.type == "list":
            for item in value:
                _set_text(sub(parent, spec.tag), str(item))
        elif spec.type == "object":
            _write_fields(sub(parent, spec.tag), spec.children, value)
        else:
            _set_text(sub(parent, spec.tag), _scalar_text(spec, value))


def append_record(parent: etree._Element, data: Mapping[str, Any]) -> etree._Element:
    """Add ``<asdg:record>`` with every field of ``data`` (a snapshot) to ``parent``.

    The ``asdg`` prefix should be declared on an ancestor (the feed root).
    """
    record = etree.SubElement(parent, RECORD)
    _write_fields(record, fields_of(str(data.get("kind"))), data)
    return record


def _check_length(spec: Field, text: str) -> str:
    if len(text) > spec.max_length:
        raise RecordError(f"{spec.name}: longer than {spec.max_length} characters")
    return text


def _parse_scalar(spec: Field, text: str) -> Any:
    text = text.strip() if spec.type != "str" else text
    try:
        if spec.type == "int":
            return int(text)
        if spec.type == "float":
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(text)
            return number
    except ValueError:
        raise RecordError(f"{spec.name}: not a number: {text[:40]!r}") from None
    if spec.type == "bool":
        if text not in ("true", "false", "1", "0"):
            raise RecordError(f"{spec.name}: not true or false: {text[:40]!r}")
        return text in ("true", "1")
    return _check_length(spec, text)


def _read_fields(parent: etree._Element, specs: tuple[Field, ...]) -> dict[str, Any]:
    by_name: dict[str, list[etree._Element]] = {}
    for child in parent:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith(f"{{{NS}}}"):
            by_name.setdefault(tag[len(NS) + 2 :], []).append(child)
    out: dict[str, Any] = {}
    for spec in specs:
        if spec.type == "list":
            items = by_name.get(spec.item or "", [])
            if len(items) > MAX_LIST:
                raise RecordError(f"{spec.name}: more than {MAX_LIST} items")
            out[spec.name] = [_check_length(spec, e.text or "") for e in items]
            continue
        found = by_name.get(spec.name)
        if not found:
            if not spec.optional:
                out[spec.name] = None
            continue
        if len(found) > 1:
            raise RecordError(f"{spec.name}: given more than once")
        element = found[0]
        if spec.type == "object":
            out[spec.name] = _read_fields(element, spec.children)
        else:
            out[spec.name] = _parse_scalar(spec, element.text or "")
    return out


def read_record(record: etree._Element) -> Record:
    """Rebuild the snapshot-shaped dict from an ``<asdg:record>`` element."""
    kind_elements = record.findall(f"{{{NS}}}kind")
    if len(kind_elements) != 1:
        raise RecordError("kind: missing")
    data = _read_fields(record, fields_of((kind_elements[0].text or "").strip()))
    _require(data)
    return cast(Record, data)


def _require(data: Mapping[str, Any]) -> None:
    for name in ("id", "title"):
        if not data.get(name):
            raise RecordError(f"{name}: missing")
    if not isinstance(data.get("city"), dict) or not data["city"].get("slug"):
        raise RecordError("city: missing")


# -- JSON Feed ------------------------------------------------------------------


def _json_fields(specs: tuple[Field, ...], data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        value = data.get(spec.name)
        if spec.optional and value is None:
            continue
        if value is not None and spec.type == "object":
            value = _json_fields(spec.children, value)
        elif value is not None and spec.type == "list":
            value = list(value)
        out[spec.name] = value
    return out


def record_json(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ``_asdg`` object of a JSON Feed item: the declared fields of ``data``."""
    return _json_fields(fields_of(str(data.get("kind"))), data)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "float": (int, float),
    "bool": (bool,),
}


def _check_json(specs: tuple[Field, ...], obj: Any, where: str = "") -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RecordError(f"{where or '_asdg'}: not an object")
    out: dict[str, Any] = {}
    for spec in specs:
        name = f"{where}{spec.name}"
        if spec.name not in obj:
            if not spec.optional:
                out[spec.name] = [] if spec.type == "list" else None
            continue
        value = obj[spec.name]
        if value is None:
            out[spec.name] = [] if spec.type == "list" else None
        elif spec.type == "object":
            out[spec.name] = _check_json(spec.children, value, f"{name}.")
        elif spec.type == "list":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RecordError(f"{name}: not a list of strings")
            if len(value) > MAX_LIST:
                raise RecordError(f"{name}: more than {MAX_LIST} items")
            out[spec.name] = [_check_length(spec, v) for v in value]
        else:
            wrong_bool = isinstance(value, bool) and spec.type != "bool"
            if wrong_bool or not isinstance(value, _JSON_TYPES[spec.type]):
                raise RecordError(f"{name}: not of type {spec.type}")
            if spec.type == "float":
                try:
                    value = float(cast(float, value))
                except OverflowError:  # a 400-digit integer
                    raise RecordError(f"{name}: not a finite number") from None
                if not math.isfinite(value):
                    raise RecordError(f"{name}: not a finite number")
            out[spec.name] = _check_length(spec, value) if spec.type == "str" else value
    return out


def read_record_json(obj: Any) -> Record:
    """Rebuild and check the snapshot-shaped dict from a JSON Feed ``_asdg`` object."""
    if not isinstance(obj, dict) or not isinstance(obj.get("kind"), str):
        raise RecordError("kind: missing")
    data = _check_json(fields_of(obj["kind"]), obj)
    _require(data)
    return cast(Record, data)


# -- keys and tombstone signatures (Atom) ------------------------------------------


def append_keys(feed: etree._Element, keys: tuple[KeyStatement, ...]) -> None:
    """``<asdg:key id=... site=... authority=...>public key</asdg:key>`` per statement."""
    for statement in keys:
        attributes = {k: v for k, v in vars(statement).items() if v and k != "public_key"}
        etree.SubElement(feed, KEY, attributes).text = statement.public_key


def read_keys(feed: etree._Element) -> tuple[KeyStatement, ...]:
    found = (
        read_statement({**dict(e.attrib), "public_key": (e.text or "").strip()})
        for e in feed.iterchildren(KEY)
    )
    return tuple(s for s in found if s is not None)[:MAX_KEYS]


def append_signature(parent: etree._Element, data: Mapping[str, Any]) -> None:
    """A tombstone's ``<asdg:signature key_id=...>``, when it has one."""
    if data.get("signature") and data.get("key_id"):
        element = etree.SubElement(parent, SIGNATURE, key_id=str(data["key_id"]))
        element.text = str(data["signature"])


def read_signature(parent: etree._Element) -> tuple[str | None, str | None]:
    """(signature, key id) of a tombstone element; Nones when unsigned or unreadable."""
    element = parent.find(SIGNATURE)
    if element is None:
        return None, None
    signature, key_id = (element.text or "").strip(), element.get("key_id") or ""
    if not signature or len(signature) > MAX_SIGNATURE or not key_id or len(key_id) > MAX_KEY_ID:
        return None, None
    return signature, key_id


def json_signature(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(signature, key id) of a JSON Feed tombstone."""
    signature, key_id = raw.get("signature"), raw.get("key_id")
    if not isinstance(signature, str) or not isinstance(key_id, str):
        return None, None
    if len(signature) > MAX_SIGNATURE or len(key_id) > MAX_KEY_ID:
        return None, None
    return signature, key_id


def json_keys(raw: Any) -> tuple[KeyStatement, ...]:
    if not isinstance(raw, list):
        return ()
    found = (read_statement(k) for k in raw[:MAX_KEYS] if isinstance(k, dict))
    return tuple(s for s in found if s is not None)
