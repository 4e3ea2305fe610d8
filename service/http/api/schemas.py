"""Load, dump and query schemas of the JSON API (and of the admin forms)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validates_schema

from service.entries.changelog import CONTACT_FIELDS
from service.entries.ids import entry_url
from service.http.api.fields import (
    BaseSchema,
    Date,
    Email,
    Int,
    List,
    Nested,
    Str,
    int_range,
    length,
    not_blank,
    one_of,
)
from service.store.models import Entry
from service.vocab import TOPIC_CODES, EventFormat, EventLevel, Kind, Origin, Status

TEXT_MAX = 100_000
FORMATS = EventFormat.values()
LEVELS = EventLevel.values()
KINDS = Kind.values()
STATUSES = Status.values()
ORIGINS = Origin.values()


def _topic_codes(values: list[str]) -> None:
    unknown = [v for v in values if v not in TOPIC_CODES]
    if unknown:
        raise ValidationError(
            f"Неизвестные коды тем: {', '.join(unknown)}. Список тем: GET /api/v1/topics."
        )


def title_field() -> Str:
    return Str(required=True, validate=[length(500), not_blank])


def text(required: bool = False, max_: int = TEXT_MAX) -> Str:
    if required:
        return Str(required=True, validate=[length(max_), not_blank])
    return Str(validate=length(max_))


class ContactSchema(BaseSchema):
    name = Str(validate=length(300), allow_none=True)
    position = Str(validate=length(300), allow_none=True)
    email = Email(validate=length(300), allow_none=True)
    phone = Str(validate=length(100), allow_none=True)


class EntryInSchema(BaseSchema):
    """Fields both kinds share."""

    city = Str(
        validate=length(64), metadata={"description": "City slug; defaults to the token's city"}
    )
    title = title_field()
    topics = List(Str(), validate=[length(30), _topic_codes], load_default=list)
    tags = List(Str(validate=[length(60), not_blank]), validate=length(30), load_default=list)
    status = Str(validate=one_of(STATUSES), load_default=Status.DRAFT.value)


class PracticeInSchema(EntryInSchema):
    area = text(required=True, max_=500)
    year = Int(required=True, strict=True, validate=int_range(1990, 2100))
    summary = text(required=True)
    achievements = text()
    plans = text()
    assistance = text()
    body = text()
    contact = Nested(ContactSchema, allow_none=True)


class EventInSchema(EntryInSchema):
    starts_on = Date(required=True)
    ends_on = Date(required=True)
    format = Str(required=True, validate=one_of(FORMATS))
    level = Str(required=True, validate=one_of(LEVELS))
    location = text(required=True, max_=500)
    participants = Int(strict=True, allow_none=True, validate=int_range(0, 10_000_000))
    summary = text(required=True)
    results = text()
    related = Str(allow_none=True, validate=length(500))

    @validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            raise ValidationError("Дата окончания раньше даты начала.", field_name="ends_on")


class CitySchema(BaseSchema):
    slug = fields.String()
    name = fields.String()
    region = fields.String(allow_none=True)
    latitude = fields.Float(allow_none=True)
    longitude = fields.Float(allow_none=True)
    local = fields.Boolean()
    instance_url = fields.String(allow_none=True)


class TopicSchema(BaseSchema):
    code = fields.String()
    name = fields.String()


class SourceSchema(BaseSchema):
    id = fields.String(attribute="source_id", allow_none=True)
    title = fields.String(attribute="source_title", allow_none=True)
    url = fields.String(attribute="source_url", allow_none=True)


class EntryOutSchema(BaseSchema):
    id = fields.String(attribute="uid", metadata={"description": "Global tag: URI"})
    local_id = fields.Integer(attribute="id")
    kind = fields.String()
    city = fields.Function(lambda e: e.city.slug)
    city_name = fields.Function(lambda e: e.city.name)
    title = fields.String()
    topics = fields.List(fields.String(), attribute="topic_codes")
    tags = fields.List(fields.String())
    year = fields.Integer(allow_none=True)
    summary = fields.String()
    status = fields.String()
    published = fields.DateTime(allow_none=True)
    updated = fields.DateTime()
    origin = fields.String()
    url = fields.Function(entry_url)
    source = fields.Method("_source", allow_none=True)

    def _source(self, entry: Entry) -> dict[str, Any] | None:
        if entry.origin != Origin.MIRROR:
            return None
        return SourceSchema().dump(entry)


class PracticeOutSchema(EntryOutSchema):
    area = fields.String(allow_none=True)
    achievements = fields.String(allow_none=True)
    plans = fields.String(allow_none=True)
    assistance = fields.String(allow_none=True)
    body = fields.String(allow_none=True)
    contact = fields.Method("_contact", allow_none=True)

    def _contact(self, entry: Entry) -> dict[str, Any] | None:
        contact = {n: getattr(entry, f"contact_{n}") for n in CONTACT_FIELDS}
        return contact if any(contact.values()) else None


class EventOutSchema(EntryOutSchema):
    starts_on = fields.Date(allow_none=True)
    ends_on = fields.Date(allow_none=True)
    format = fields.String(allow_none=True)
    level = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    participants = fields.Integer(allow_none=True)
    results = fields.String(allow_none=True)
    related = fields.String(attribute="related_uid", allow_none=True)


class PageQuerySchema(BaseSchema):
    page = Int(load_default=1, validate=int_range(1, 1_000_000))
    per_page = Int(load_default=20, validate=int_range(1, 100))


class EntryQuerySchema(PageQuerySchema):
    city = Str(validate=length(64))
    topic = Str(validate=one_of(sorted(TOPIC_CODES), "коды из GET /api/v1/topics"))
    year = Int(validate=int_range(1990, 2100))
    kind = Str(validate=one_of(KINDS))
    q = Str(validate=length(200))
    origin = Str(validate=one_of(ORIGINS))
    status = Str(validate=one_of(STATUSES))


def page_schema(item: type[BaseSchema]) -> type[BaseSchema]:
    """A list envelope: ``items`` plus the page numbers."""
    return type(
        f"{item.__name__.removesuffix('Schema')}PageSchema",
        (BaseSchema,),
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
            "pages": fields.Integer(),
        },
    )
