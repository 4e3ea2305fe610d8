"""SQLAlchemy models: the same tables on SQLite and PostgreSQL.

Models hold data and nothing else: no validation (that is in the marshmallow
schemas at the boundary) and no serialisation (schemas again).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship

from service.store import snapshots
from service.timezones import FALLBACK_ZONE, MAX_ZONE_LENGTH, default_time_zone
from service.vocab import HubState, Kind, Origin, PushState, Status, SubscriptionState


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database.

    SQLite has no time zones: values are stored as naive UTC and come back
    aware, so the rest of the code only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Snapshot(TypeDecorator[dict[str, Any]]):
    """A change-log snapshot, stored compactly (:mod:`service.store.snapshots`).

    Compact UTF-8 JSON compressed with zstd and a dictionary of real records,
    on every database: the Markdown fields and the rendered HTML beside them
    say the same words, which the compressor stores once, so keeping the HTML
    (no rendering when a feed is built) costs little. Smaller than JSONB, whose
    TOAST compression (pglz, lz4) sees one row at a time; nothing queries inside
    snapshots, so nothing is lost. PostgreSQL keeps the bytes out of line
    without compressing them again (migration 0005).
    """

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Any) -> bytes | None:
        return None if value is None else snapshots.pack(value)

    def process_result_value(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        return None if value is None else snapshots.unpack(value)


class PackedText(TypeDecorator[str]):
    """Long text that SQLite stores zstd-compressed (a BLOB), and other databases as text.

    PostgreSQL compresses a long value itself (TOAST); SQLite keeps every byte,
    so there the column holds :func:`service.store.snapshots.compress` of the
    UTF-8 text (the change log's dictionary of real records: a third of the
    bytes). Nothing filters on such a column in SQL; SQL that needs the text
    back on SQLite calls :data:`UNPACK_FUNCTION` (registered on every
    connection by :mod:`service.store.db`): the search index's triggers do. A
    value stored as text still reads (a row not yet converted).
    """

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        return dialect.type_descriptor(LargeBinary() if dialect.name == "sqlite" else Text())

    def process_bind_param(self, value: str | None, dialect: Any) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return snapshots.compress(value.encode())

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        return unpack_text(value)


#: The SQL function (SQLite) that gives a :class:`PackedText` value's text back.
UNPACK_FUNCTION = "asdg_unpack"


def unpack_text(value: Any) -> str | None:
    """A stored :class:`PackedText` value as text, however it was stored."""
    if value is None or isinstance(value, str):
        return value
    return snapshots.decompress(bytes(value)).decode()


#: :func:`unpack_text` for :data:`UNPACK_FUNCTION`: a trigger asks for one row's text
#: several times.
unpack_sql = lru_cache(maxsize=8)(unpack_text)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={datetime: UTCDateTime(), date: Date(), dict[str, Any]: JSON()},
    )


db = SQLAlchemy(model_class=Base)

if TYPE_CHECKING:  # mypy cannot see through flask-sqlalchemy's generated base class
    Model = Base
else:
    Model = db.Model


def _city_zone(context: Any) -> str:
    values = context.get_current_parameters()
    return default_time_zone(values.get("region"), values.get("name"))


class City(Model):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    #: True for cities hosted by this instance; False for cities known from mirrored feeds.
    local: Mapped[bool] = mapped_column(Boolean, default=True)
    #: For mirrored cities: the site of the instance that hosts them.
    instance_url: Mapped[str | None] = mapped_column(String(2000))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    #: The IANA zone admin pages show the city's times in (default: from region or name).
    time_zone: Mapped[str] = mapped_column(
        String(MAX_ZONE_LENGTH), default=_city_zone, server_default=FALLBACK_ZONE
    )


class Topic(Model):
    """A section of the Association's list; the list ships with the service."""

    __tablename__ = "topics"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)


entry_topics = Table(
    "entry_topics",
    Base.metadata,
    Column("entry_id", ForeignKey("entries.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_code", ForeignKey("topics.code"), primary_key=True, index=True),
)


class Entry(Model):
    """A practice note or an event summary, own or mirrored.

    One table for both kinds: they share the city, title, topics, status and
    timestamps, and feeds, search and lists treat them alike. Columns that
    belong to one kind only are NULL for the other.
    """

    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The global tag: URI (RFC 4151); stable across edits, never reused.
    uid: Mapped[str] = mapped_column(String(500), unique=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    year: Mapped[int | None] = mapped_column(Integer, index=True)
    summary: Mapped[str] = mapped_column(PackedText, default="")

    # practice
    area: Mapped[str | None] = mapped_column(String(500))
    achievements: Mapped[str | None] = mapped_column(PackedText)
    plans: Mapped[str | None] = mapped_column(PackedText)
    assistance: Mapped[str | None] = mapped_column(PackedText)
    body: Mapped[str | None] = mapped_column(PackedText)
    contact_name: Mapped[str | None] = mapped_column(String(300))
    contact_position: Mapped[str | None] = mapped_column(String(300))
    contact_email: Mapped[str | None] = mapped_column(String(300))
    contact_phone: Mapped[str | None] = mapped_column(String(100))

    # event
    #: "held" or "planned" (service.vocab.EventStage); NULL for practice notes.
    stage: Mapped[str | None] = mapped_column(String(16))
    #: The month of the event when known (1-12); ``year`` is the event's year.
    month: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    format: Mapped[str | None] = mapped_column(String(16))
    level: Mapped[str | None] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(500))
    participants: Mapped[int | None] = mapped_column(Integer)
    results: Mapped[str | None] = mapped_column(PackedText)
    related_uid: Mapped[str | None] = mapped_column(String(500))

    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT, index=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    published: Mapped[datetime | None] = mapped_column()
    updated: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    # provenance
    origin: Mapped[str] = mapped_column(String(16), default=Origin.LOCAL, index=True)
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL"), index=True
    )
    #: The page of the entry on the instance it comes from (mirrored entries).
    link: Mapped[str | None] = mapped_column(String(2000))
    #: atom:source of a mirrored entry: the feed it came from.
    source_id: Mapped[str | None] = mapped_column(String(2000))
    source_title: Mapped[str | None] = mapped_column(String(500))
    source_url: Mapped[str | None] = mapped_column(String(2000))
    #: Content of a generic (non-ASDG) mirrored entry, sanitized HTML.
    content_html: Mapped[str | None] = mapped_column(PackedText)
    #: A mirrored record's origin signature (base64 Ed25519) and the id of the key that made it;
    #: republished unchanged by this instance's network feeds.
    signature: Mapped[str | None] = mapped_column(String(200))
    key_id: Mapped[str | None] = mapped_column(String(64))

    #: The lemmas of the entry's text and its topic tokens, maintained by
    #: service.entries.search (compressed on SQLite: migration 0013_packed_texts).
    search_text: Mapped[str] = mapped_column(PackedText, default="")

    city: Mapped[City] = relationship(lazy="joined")
    topics: Mapped[list[Topic]] = relationship(
        secondary=entry_topics, lazy="selectin", order_by=Topic.position
    )

    #: SQLite: AUTOINCREMENT, so a deleted entry's number is never given again
    #: (PostgreSQL's sequences never reuse one anyway).
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012

    @property
    def topic_codes(self) -> list[str]:
        return [t.code for t in self.topics]

    @property
    def is_generic(self) -> bool:
        """A mirrored entry of an ordinary (non-ASDG) feed: HTML content, no structure."""
        return self.content_html is not None and self.area is None and self.kind == Kind.PRACTICE


class EntryChange(Model):
    """The append-only change log that feeds are built from.

    Every publication, edit of a published entry and deletion appends one row
    with a snapshot of the entry as it was. Feed documents are pages of this
    log, so full archive pages never change (RFC 5005) and deletions are
    announced as tombstones (RFC 6721).
    """

    __tablename__ = "entry_changes"

    seq: Mapped[int] = mapped_column(primary_key=True)
    entry_uid: Mapped[str] = mapped_column(String(500), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    origin: Mapped[str] = mapped_column(String(16))
    #: Topic codes as ",a,b," so a LIKE finds one exactly.
    topic_codes: Mapped[str] = mapped_column(String(2000), default=",")
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The entry as published (fields, rendered HTML), or for a tombstone its city.
    data: Mapped[dict[str, Any]] = mapped_column(Snapshot)

    __table_args__ = (
        Index("ix_entry_changes_city_seq", "city_id", "seq"),
        Index("ix_entry_changes_origin_seq", "origin", "seq"),
    )


class LogStamp(Model):
    """When the change log grew: one row per append, its newest ``seq`` and a time.

    The time is taken after the append's rows are written and is never earlier
    than the previous stamp's, so a feed document's ``Last-Modified`` (the stamp
    of the append that made the document what it is) comes from the data: every
    server process derives the same date.
    """

    __tablename__ = "log_stamps"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    logged: Mapped[datetime] = mapped_column()


class ApiToken(Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: NULL: an operator token (made with ``--all``) that may act for every city.
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_used: Mapped[datetime | None] = mapped_column()
    revoked: Mapped[datetime | None] = mapped_column()

    city: Mapped[City | None] = relationship(lazy="joined")


class AdminUser(Model):
    __tablename__ = "admin_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(300), unique=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    password_hash: Mapped[str] = mapped_column(String(300))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    #: Sessions carry this number; logout and a password change move it on, which
    #: ends every session signed before (the cookie alone cannot be revoked).
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    password_changed: Mapped[datetime | None] = mapped_column()
    #: The instance-admin role: manages instance-wide settings (subscriptions).
    instance_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    city: Mapped[City] = relationship(lazy="joined")


class RateLimit(Model):
    """A rate-limit counter (Flask-Limiter's fixed windows), shared by every process."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer, default=0)
    #: When the window ends, in seconds since the epoch.
    expires: Mapped[float] = mapped_column(Float, index=True)


class Subscription(Model):
    """A remote feed this instance mirrors."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(String(500))
    site_url: Mapped[str | None] = mapped_column(String(2000))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    created: Mapped[datetime] = mapped_column(default=utcnow)
    #: A SubscriptionState: active, gone (410: polling stopped) or error (failing, retried)
    state: Mapped[str] = mapped_column(String(16), default=SubscriptionState.ACTIVE)
    last_poll: Mapped[datetime | None] = mapped_column()
    last_success: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    entries_mirrored: Mapped[int] = mapped_column(Integer, default=0)
    next_poll: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: The complete history (RFC 5005 archives) has been read.
    backfilled: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Work claim: a worker owns the subscription until the lease expires.
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()
    #: The last poll: entries and tombstones refused, their reasons (one a line), links dropped.
    refused_count: Mapped[int] = mapped_column(Integer, default=0)
    refusal_reasons: Mapped[str | None] = mapped_column(Text)
    links_dropped: Mapped[int] = mapped_column(Integer, default=0)
    #: "Poll now" asked at this time and not yet done by the worker.
    poll_requested: Mapped[datetime | None] = mapped_column()
    #: What the running (or last) poll has done so far, in words (the admin page shows it).
    poll_progress: Mapped[str | None] = mapped_column(String(500))
    #: A backfill under way: the next (older) archive page to read; None when none is.
    backfill_cursor: Mapped[str | None] = mapped_column(String(2000))
    backfill_pages: Mapped[int] = mapped_column(Integer, default=0)

    #: Push (WebSub) for this subscription, when its feed advertises a hub.
    push: Mapped[PushSubscription | None] = relationship(
        lazy="selectin", viewonly=True, uselist=False
    )


class SiteKey(Model):
    """A public key pinned for a site (an origin, ``scheme://host[:port]``).

    Records and tombstones of the site apply only with a valid signature of
    one of its keys. ``via`` says how the key was learned: ``subscription``
    (trust on first use of a direct subscription), ``directory`` (an
    operator-imported network directory), ``well-known`` (fetched from the
    site's ``/.well-known/asdg.json`` for a relayed record) or ``rotation``
    (announced by the site, signed by a key pinned before). ``retired``: a
    key the site rotated away from (its old signatures stay valid).
    """

    __tablename__ = "site_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    site: Mapped[str] = mapped_column(String(500), index=True)
    key_id: Mapped[str] = mapped_column(String(64))
    public_key: Mapped[str] = mapped_column(String(100))
    #: The domain of the site's tag: ids (one site's only) and, from a directory, its cities.
    authority: Mapped[str | None] = mapped_column(String(255), index=True)
    cities: Mapped[str | None] = mapped_column(String(2000))
    via: Mapped[str] = mapped_column(String(16))
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="SET NULL")
    )
    created: Mapped[datetime] = mapped_column(default=utcnow)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ux_site_keys_site_key", "site", "key_id", unique=True),)


class QuestionnaireImport(Model):
    """A questionnaire read from an upload, kept while its drafts are reviewed.

    ``entry_ids`` are the drafts made from it (the note first); ``flags``
    names, per entry id, the values the reader guessed and the admin has not
    yet reviewed ("topics", "dates", "stage").
    """

    __tablename__ = "questionnaire_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(300))
    format: Mapped[str] = mapped_column(String(16))
    source_text: Mapped[str] = mapped_column(Text)
    entry_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    flags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created: Mapped[datetime] = mapped_column(default=utcnow)

    city: Mapped[City] = relationship(lazy="joined")


class PushSubscription(Model):
    """Push (WebSub) for one of our subscriptions: this instance subscribed at the feed's hub.

    The callback URL is ``BASE_URL/websub/callback/<token>``; the token is
    random (256 bits) and names this row. Removing the subscription removes
    this row, so the hub's next delivery gets 410 Gone and the hub drops it.
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), unique=True
    )
    hub: Mapped[str] = mapped_column(String(2000))
    #: The topic subscribed to: the feed's rel=self URL.
    topic: Mapped[str] = mapped_column(String(2000))
    token: Mapped[str] = mapped_column(String(64), unique=True)
    #: Signs deliveries (X-Hub-Signature); kept across renewals.
    secret: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=PushState.NONE)
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    #: When the hub's lease ends (verified subscriptions).
    expires: Mapped[datetime | None] = mapped_column()
    requested: Mapped[datetime | None] = mapped_column()
    verified: Mapped[datetime | None] = mapped_column()
    #: When to send the next (re)subscription request; None: none needed.
    next_request: Mapped[datetime | None] = mapped_column(index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_push: Mapped[datetime | None] = mapped_column()
    pushes: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()
    created: Mapped[datetime] = mapped_column(default=utcnow)


class HubSubscription(Model):
    """A subscriber of one of this instance's feeds: this instance is its WebSub hub.

    ``delivered_seq`` is the change-log version whose content the subscriber
    has: a worker delivers when the feed has rows after it. A request waiting
    for verification of intent is kept in the ``pending_*`` columns, so a
    verified subscription stays in force while its renewal is checked.
    """

    __tablename__ = "hub_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of topic and callback: the identity of a subscription (WebSub 5.1).
    key: Mapped[str] = mapped_column(String(64), unique=True)
    #: The topic URL as the subscriber gave it (echoed in verifications).
    topic: Mapped[str] = mapped_column(String(2000))
    callback: Mapped[str] = mapped_column(String(2000))
    #: The canonical path of the feed delivered, and its filters (scope, city, kind, topic).
    feed: Mapped[str] = mapped_column(String(500), index=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    secret: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=HubState.PENDING)
    lease_seconds: Mapped[int] = mapped_column(Integer, default=0)
    expires: Mapped[datetime | None] = mapped_column()
    delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    pending_mode: Mapped[str | None] = mapped_column(String(16))
    pending_secret: Mapped[str | None] = mapped_column(String(200))
    pending_lease: Mapped[int | None] = mapped_column(Integer)
    #: Failed attempts in a row (verification or delivery), for the backoff.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_delivery: Mapped[datetime | None] = mapped_column()
    deliveries: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column()
    created: Mapped[datetime] = mapped_column(default=utcnow)
