"""Load, dump and query schemas of the JSON API (and of the admin forms)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marshmallow import ValidationError, fields, validates_schema

from service.entries.ids import entry_url
from service.fields import (
    CONTACT,
    DATE_MAX,
    DATE_MIN,
    MAX_TAGS,
    MAX_TOPICS,
    TAG_MAX,
    YEAR_MAX,
    YEAR_MIN,
    Field,
    FieldType,
    event_problems,
    fields_of,
    unknown_topics,
)
from service.http.api.fields import (
    BaseSchema,
    Date,
    Email,
    Int,
    List,
    Nested,
    Str,
    date_range,
    int_range,
    length,
    not_blank,
    one_of,
)
from service.store.models import Entry
from service.vocab import TOPIC_CODES, EventFormat, EventLevel, Kind, Origin, Status

KINDS = Kind.values()
STATUSES = Status.values()
ORIGINS = Origin.values()


def _topic_codes(values: list[str]) -> None:
    unknown = unknown_topics(values)
    if unknown:
        raise ValidationError(
            f"Неизвестные коды тем: {', '.join(unknown)}. Список тем: GET /api/v1/topics."
        )


def load_field(spec: Field) -> fields.Field:
    """The marshmallow field that loads a catalogue field from JSON."""
    validators: list[Any] = []
    if spec.max_length is not None:
        validators.append(length(spec.max_length))
    if spec.required and spec.type in (FieldType.LINE, FieldType.TEXT):
        validators.append(not_blank)
    if spec.bounds is not None:
        validators.append(int_range(*spec.bounds))
    if spec.choices is not None:
        validators.append(one_of(spec.choices.values()))
    if spec.type is FieldType.DATE:
        validators.append(date_range(DATE_MIN, DATE_MAX))
    options: dict[str, Any] = {
        "required": spec.required,
        "validate": validators,
        "metadata": {"description": spec.label},
    }
    if not spec.required:
        options["allow_none"] = True
    if spec.type is FieldType.INT:
        return Int(strict=True, **options)
    if spec.type is FieldType.DATE:
        return Date(**options)
    if spec.type is FieldType.EMAIL:
        return Email(**options)
    return Str(**options)


def dump_field(spec: Field) -> fields.Field:
    """The marshmallow field that dumps a catalogue field of an ``Entry``."""
    options: dict[str, Any] = {"allow_none": True, "metadata": {"description": spec.label}}
    if spec.column:
        options["attribute"] = spec.column
    if spec.type is FieldType.INT:
        return fields.Integer(**options)
    if spec.type is FieldType.DATE:
        return fields.Date(**options)
    return fields.String(**options)


def _catalogue_fields(kind: str, make: Any) -> dict[str, fields.Field]:
    return {spec.name: make(spec) for spec in fields_of(kind)}


ContactSchema = BaseSchema.from_dict(
    {spec.name: load_field(spec) for spec in CONTACT}, name="ContactSchema"
)


class EntryInSchema(BaseSchema):
    """Fields both kinds share besides their catalogue (service.fields)."""

    city = Str(
        validate=length(64), metadata={"description": "Код города; по умолчанию — город ключа"}
    )
    topics = List(
        Str(),
        validate=[length(MAX_TOPICS), _topic_codes],
        load_default=list,
        metadata={"description": "Коды тем из GET /api/v1/topics"},
    )
    tags = List(
        Str(validate=[length(TAG_MAX), not_blank]),
        validate=length(MAX_TAGS),
        load_default=list,
        metadata={"description": "Свободные метки"},
    )
    status = Str(
        validate=one_of(STATUSES),
        metadata={
            "description": "draft или published; новая запись — черновик, "
            "при изменении статус меняется, только если указан"
        },
    )


class _PracticeIn(EntryInSchema):
    contact = Nested(ContactSchema, allow_none=True)


class _EventIn(EntryInSchema):
    @validates_schema(skip_on_field_errors=False, pass_original=True)
    def _event_rules(
        self, data: dict[str, Any], original: Any, partial: Any = None, **_: Any
    ) -> None:
        """The cross-field rules of an event (service.fields.event_problems), reported
        with the other errors in one round; for a partial load (PATCH) the service
        checks them on the merged record."""
        if partial or not isinstance(original, dict):
            return
        problems = event_problems(data, failed=[k for k in original if k not in data])
        if problems:
            raise ValidationError(problems)


PracticeInSchema = type(
    "PracticeInSchema", (_PracticeIn,), _catalogue_fields(Kind.PRACTICE, load_field)
)
EventInSchema = type("EventInSchema", (_EventIn,), _catalogue_fields(Kind.EVENT, load_field))
IN_SCHEMAS: dict[str, type[EntryInSchema]] = {
    Kind.PRACTICE.value: PracticeInSchema,
    Kind.EVENT.value: EventInSchema,
}


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


class _EntryOut(BaseSchema):
    id = fields.String(
        attribute="uid", metadata={"description": "Глобальный идентификатор записи (tag: URI)"}
    )
    local_id = fields.Integer(attribute="id")
    kind = fields.String()
    city = fields.Function(lambda e: e.city.slug)
    city_name = fields.Function(lambda e: e.city.name)
    topics = fields.List(fields.String(), attribute="topic_codes")
    tags = fields.List(fields.String())
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


def _shared_fields() -> dict[str, fields.Field]:
    """Catalogue fields both kinds have (title, year, summary), for lists of mixed kinds."""
    event = {spec.name for spec in fields_of(Kind.EVENT)}
    return {s.name: dump_field(s) for s in fields_of(Kind.PRACTICE) if s.name in event}


if TYPE_CHECKING:  # built from the catalogue at run time; mypy sees the base
    EntryOutSchema = _EntryOut
else:
    EntryOutSchema = type("EntryOutSchema", (_EntryOut,), _shared_fields())


class _PracticeOut(EntryOutSchema):
    contact = fields.Method("_contact", allow_none=True)

    def _contact(self, entry: Entry) -> dict[str, Any] | None:
        contact = {spec.name: getattr(entry, spec.attr) for spec in CONTACT}
        return contact if any(contact.values()) else None


PracticeOutSchema = type(
    "PracticeOutSchema", (_PracticeOut,), _catalogue_fields(Kind.PRACTICE, dump_field)
)
EventOutSchema = type(
    "EventOutSchema", (EntryOutSchema,), _catalogue_fields(Kind.EVENT, dump_field)
)


class PageQuerySchema(BaseSchema):
    page = Int(load_default=1, validate=int_range(1, 1_000_000))
    per_page = Int(load_default=20, validate=int_range(1, 100))


class EntryQuerySchema(PageQuerySchema):
    city = Str(validate=length(64))
    topic = List(
        Str(validate=one_of(sorted(TOPIC_CODES), "коды из GET /api/v1/topics")),
        validate=length(MAX_TOPICS),
        metadata={"description": "Код темы; можно несколько (?topic=a&topic=b): любая из них"},
    )
    year = Int(validate=int_range(YEAR_MIN, YEAR_MAX))
    kind = Str(validate=one_of(KINDS))
    q = Str(validate=length(200))
    origin = Str(validate=one_of(ORIGINS))
    status = Str(validate=one_of(STATUSES))
    format = Str(validate=one_of(EventFormat.values()), metadata={"description": "Формат события"})
    level = Str(validate=one_of(EventLevel.values()), metadata={"description": "Уровень события"})


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
