"""Feed routes: Atom and JSON Feed documents, OPML, autodiscovery links, caching.

Routes (contract, section Feeds): ``/feeds/all.{atom,json}``,
``/feeds/network.{atom,json}``, ``/cities/<slug>/feed.{atom,json}``, each with
``?kind=``, ``?topic=`` and ``?page=`` (an RFC 5005 archive page), and
``/feeds/opml``.

Caching. A rendered document is kept in a per-process LRU (bytes, and gzip
bytes once asked for) under its normalised URL. The subscription document is
valid for one *version* of the change log, the newest ``seq``, read from the
database on every request (one indexed query): any write appends a row, so no
worker can serve a document older than the last write. Archive pages that
have their ``next-archive`` never change, so they are cached without a version
and served with a year-long ``Cache-Control``; the newest archive page is
cached per version and revalidated, like the head. ``ETag`` of a head is
``"h<version>-<key hash>"`` (a 304 needs no rendering and no cache), of an
archive page a hash of its bytes; the gzip variant carries ``-gz``.

``Last-Modified`` comes from the data, so every process sends the same: the
stamp of the change-log append that made the document what it is
(:func:`service.entries.feedlog.stamp_of`). HTTP dates have one-second
resolution, so a date is only given out as exact once no write can still add
a row stamped within that second (:data:`SETTLE` after it); until then the
document says a second earlier and ``If-Modified-Since`` never gets a 304.
``If-Modified-Since`` is used only without ``If-None-Match`` and must match
the document's date exactly (like nginx's default), so a client that sends
its own clock's time is not told "not modified" by mistake.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, request
from marshmallow import RAISE, Schema, fields, validate
from marshmallow import ValidationError as SchemaError
from sqlalchemy import select
from werkzeug.http import http_date, parse_date

from feeds.publish import ATOM_TYPE, JSON_TYPE, author_name, render_atom, render_json, render_opml
from feeds.types import FeedDocument, FeedItem, Outline
from feeds.websub import link_header
from service.cities import SLUG
from service.entries import feedlog as history
from service.entries.feedlog import EPOCH, FeedQuery, LogPage, LogState
from service.errors import BadRequestError, NotFoundError
from service.push.settings import HUB_PATH
from service.store.models import City, db
from service.trust.keys import signed, statements
from service.vocab import TOPIC_CODES, TOPICS, Kind

bp = Blueprint("feeds", __name__)

MEDIA_TYPES = {"atom": f"{ATOM_TYPE}; charset=utf-8", "json": f"{JSON_TYPE}; charset=utf-8"}
OPML_TYPE = "text/x-opml; charset=utf-8"
#: The XSLT stylesheet Atom documents name, so a browser shows them as a page
#: (served by :mod:`service.http.web.feedlist`).
FEED_STYLESHEET = "/feeds/feed.xsl"
HEAD_CACHE_CONTROL = "public, no-cache"
ARCHIVE_CACHE_CONTROL = "public, max-age=31536000, immutable"
#: How long after a change-log stamp its second is certainly complete: the
#: second itself plus a margin for the writer's commit.
SETTLE = timedelta(seconds=2)
TOPIC_NAMES = dict(TOPICS)
KIND_TITLES = {Kind.PRACTICE: "практики", Kind.EVENT: "мероприятия"}
SCOPE_TITLES = {"all": "все записи", "network": "записи сети городов"}
PARAMETERS = ("kind", "topic", "page")
#: Upper bound of the per-process document cache (bytes, plain plus gzip).
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024
MAX_MEMO = 1024


# -- request parsing (a marshmallow schema at the boundary) ---------------------------


_short = validate.Length(max=64, error="Слишком длинное значение (не больше {max} символов)")


class FeedArgsSchema(Schema):
    class Meta:
        unknown = RAISE

    kind = fields.String(
        validate=[
            _short,
            validate.OneOf(
                [k.value for k in Kind],
                error="Неизвестный вид записей «{input}»: допустимы {choices}",
            ),
        ]
    )
    topic = fields.String(
        validate=[
            _short,
            validate.OneOf(sorted(TOPIC_CODES), error="Неизвестная тема «{input}»"),
        ]
    )
    page = fields.String(
        validate=validate.Regexp(
            r"^[1-9][0-9]{0,17}$", error="Номер страницы архива — целое число от 1"
        )
    )


_args_schema = FeedArgsSchema()


@dataclass(frozen=True)
class FeedRequest:
    query: FeedQuery
    fmt: str
    page: int | None
    #: The normalised URL path and query: the cache key.
    key: str
    key_hash: str


def feed_path(query: FeedQuery, fmt: str, page: int | None = None) -> str:
    """The canonical path and query string of a feed document."""
    if query.scope == "city":
        path = f"/cities/{query.city}/feed.{fmt}"
    else:
        path = f"/feeds/{query.scope}.{fmt}"
    params = [
        (name, value)
        for name, value in (("kind", query.kind), ("topic", query.topic), ("page", page))
        if value
    ]
    return f"{path}?{urlencode(params)}" if params else path


def feed_url(query: FeedQuery, fmt: str, page: int | None = None) -> str:
    return current_app.config["BASE_URL"] + feed_path(query, fmt, page)


def parse_request(scope: str, city: str | None, fmt: str, args: Any) -> FeedRequest:
    """Check the city slug and the query string (``args``: a MultiDict), normalise them."""
    if city is not None and not _known_slug_shape(city):
        raise NotFoundError(f"Город «{city[:64]}» не найден на этом сервере", field="slug")
    # Other parameters (utm_source, cache busters...) are ignored, and left out
    # of the cache key.
    known = {name: args.getlist(name) for name in PARAMETERS if name in args}
    for name, values in known.items():
        if len(values) > 1:
            raise BadRequestError(f"Параметр «{name}» указан несколько раз", field=name)
    try:
        loaded = _args_schema.load({name: values[0] for name, values in known.items()})
    except SchemaError as error:
        name, messages = next(iter(error.normalized_messages().items()))
        message = messages[0] if isinstance(messages, list) else str(messages)
        raise BadRequestError(message, field=str(name)) from error
    query = FeedQuery(scope=scope, city=city, kind=loaded.get("kind"), topic=loaded.get("topic"))
    page = int(loaded["page"]) if "page" in loaded else None
    key = feed_path(query, fmt, page)
    key_hash = hashlib.blake2b(key.encode(), digest_size=6).hexdigest()
    return FeedRequest(query=query, fmt=fmt, page=page, key=key, key_hash=key_hash)


def _known_slug_shape(slug: str) -> bool:
    return len(slug) <= 64 and SLUG.match(slug) is not None


# -- rendering ----------------------------------------------------------------------


def _title(query: FeedQuery, state: LogState, page: int | None) -> str:
    if query.scope == "city":
        scope_title = state.city_name or query.city or ""
    else:
        scope_title = SCOPE_TITLES[query.scope]
    parts = [current_app.config["INSTANCE_NAME"], scope_title]
    if query.kind:
        parts.append(KIND_TITLES[Kind(query.kind)])
    if query.topic:
        parts.append(f"тема «{TOPIC_NAMES.get(query.topic, query.topic)}»")
    title = " — ".join(parts)
    return f"{title} (архив, страница {page})" if page else title


def _home_url(query: FeedQuery) -> str:
    base = current_app.config["BASE_URL"]
    return f"{base}/cities/{query.city}" if query.scope == "city" else f"{base}/"


def build_document(req: FeedRequest, state: LogState, page: LogPage) -> FeedDocument:
    """The feed document (metadata and items, newest first) of one log page."""
    query, fmt = req.query, req.fmt
    rows = page.rows if page.number is not None else history.newest_rows(page.rows)
    other = "json" if fmt == "atom" else "atom"
    return FeedDocument(
        feed_id=feed_url(query, "atom"),
        title=_title(query, state, page.number),
        self_url=feed_url(query, fmt, page.number),
        current_url=feed_url(query, fmt),
        home_url=_home_url(query),
        updated=max((row.at for row in page.rows), default=EPOCH),
        items=tuple(
            FeedItem(signed(row.data, deleted=row.deleted, at=row.at), row.deleted, row.at)
            for row in reversed(rows)
        ),
        archive_page=page.number,
        prev_archive_url=feed_url(query, fmt, page.prev_page) if page.prev_page else None,
        next_archive_url=feed_url(query, fmt, page.next_page) if page.next_page else None,
        alternates=((feed_url(query, other, page.number), MEDIA_TYPES[other].split(";")[0]),),
        author_name=author_name(state.city_name)
        if query.scope == "city"
        else current_app.config["INSTANCE_NAME"],
        topic_names=TOPIC_NAMES,
        topic_scheme=f"{current_app.config['BASE_URL']}/topics/",
        hub_url=hub_url() if page.number is None else None,
        keys=statements(),
    )


def hub_url() -> str | None:
    """This instance's WebSub hub, which pushes the heads' changes (None when it is off)."""
    config = current_app.config
    return config["BASE_URL"] + HUB_PATH if config["WEBSUB_HUB"] else None


def render(req: FeedRequest, state: LogState) -> tuple[bytes, LogPage]:
    """Read the log page ``req`` asks for and render it: (bytes, the page)."""
    size = current_app.config["FEED_PAGE_SIZE"]
    if req.page is None:
        page = history.read_head(req.query, state, size)
    else:
        page = history.read_archive(req.query, state, size, req.page)
    doc = build_document(req, state, page)
    atom = req.fmt == "atom"
    body = render_atom(doc, stylesheet=FEED_STYLESHEET) if atom else render_json(doc)
    return body, page


def last_modified(stamp: datetime, now: datetime) -> tuple[datetime, bool]:
    """The ``Last-Modified`` of a document dated ``stamp``, and whether it is exact.

    Exact once the stamp's second is over (plus :data:`SETTLE`'s margin): no
    later write can be stamped within it, so the date tells this version from
    every other. Before that a second earlier than any possible date of this
    version, which a revalidation never matches.
    """
    second = stamp.replace(microsecond=0)
    if now >= second + SETTLE:
        return second, True
    return min(second, now.replace(microsecond=0)) - timedelta(seconds=1), False


# -- the document cache ---------------------------------------------------------------


@dataclass
class Rendered:
    body: bytes
    etag: str
    #: The change-log stamp that dates the document (see :func:`last_modified`).
    stamp: datetime
    cache_control: str
    content_type: str
    version: int | None = None
    gz: bytes | None = None
    #: The ``Link`` header of a head: its hub and its canonical URL (WebSub discovery).
    link: str | None = None
    #: Response headers common to both encodings.
    headers: list[tuple[str, str]] = field(init=False)
    _exact: tuple[datetime, str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.headers = [("Cache-Control", self.cache_control), ("Vary", "Accept-Encoding")]
        if self.link:
            self.headers.append(("Link", self.link))

    def modified(self, now: datetime) -> tuple[datetime, str, bool]:
        """``Last-Modified`` as of ``now``: the date, its header value, exact or not."""
        if self._exact is None:
            when, exact = last_modified(self.stamp, now)
            if not exact:
                return when, http_date(when), False
            self._exact = (when, http_date(when))  # exact stays exact
        return *self._exact, True

    def gzipped(self) -> bytes:
        if self.gz is None:
            self.gz = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self.gz

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gz or b"")


class DocumentCache:
    """A small LRU of rendered documents, bounded by bytes; safe across threads."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._docs: OrderedDict[str, Rendered] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.requests: dict[tuple[Any, ...], FeedRequest] = {}

    def get(self, key: str, version: int | None) -> Rendered | None:
        doc = self._docs.get(key)
        if doc is None or doc.version != version:
            return None
        with self._lock:
            if key in self._docs:
                self._docs.move_to_end(key)
        return doc

    def put(self, key: str, doc: Rendered) -> None:
        with self._lock:
            old = self._docs.pop(key, None)
            if old is not None:
                self._bytes -= old.size
            self._docs[key] = doc
            self._bytes += doc.size
            while self._bytes > self.max_bytes and len(self._docs) > 1:
                _, dropped = self._docs.popitem(last=False)
                self._bytes -= dropped.size

    def grew(self, doc: Rendered, before: int) -> None:
        """Account for gzip bytes added to a cached document."""
        with self._lock:
            self._bytes += doc.size - before

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._bytes = 0
            self.requests.clear()


def document_cache(app: Flask | None = None) -> DocumentCache:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache: DocumentCache = app.extensions["feed_cache"]
    return cache


# -- HTTP -----------------------------------------------------------------------------


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    for tag in header.split(","):
        tag = tag.strip()
        tag = tag[2:] if tag.startswith("W/") else tag
        tag = tag.strip('"')
        if tag.removesuffix("-gz") == etag:
            return True
    return False


def _wants_gzip() -> bool:
    header = request.headers.get("Accept-Encoding")
    if not header or ("gzip" not in header and "*" not in header):
        return False
    return request.accept_encodings["gzip"] > 0


def _not_modified(etag: str, cache_control: str, gz: bool) -> Response:
    return Response(
        status=304,
        headers=[
            ("ETag", f'"{etag}-gz"' if gz else f'"{etag}"'),
            ("Cache-Control", cache_control),
            ("Vary", "Accept-Encoding"),
        ],
    )


def _answer(doc: Rendered, inm: str | None, cache: DocumentCache | None = None) -> Response:
    """The document, or 304; ``inm`` is the request's If-None-Match.

    ``cache`` is the cache holding ``doc`` (it accounts for the gzip bytes).
    """
    gz = _wants_gzip()
    modified, modified_header, exact = doc.modified(datetime.now(UTC))
    if inm is not None:
        if _etag_matches(inm, doc.etag):
            return _not_modified(doc.etag, doc.cache_control, gz)
    elif exact:
        ims = request.headers.get("If-Modified-Since")
        if ims and parse_date(ims) == modified:
            return _not_modified(doc.etag, doc.cache_control, gz)
    headers = [*doc.headers, ("Last-Modified", modified_header)]
    if gz:
        before = doc.size
        body = doc.gzipped()
        if cache is not None and doc.size != before:
            cache.grew(doc, before)
        headers += [("ETag", f'"{doc.etag}-gz"'), ("Content-Encoding", "gzip")]
        return Response(body, headers=headers, content_type=doc.content_type)
    headers.append(("ETag", f'"{doc.etag}"'))
    return Response(doc.body, headers=headers, content_type=doc.content_type)


def _request(scope: str, city: str | None, fmt: str, cache: DocumentCache) -> FeedRequest:
    memo_key = (scope, city, fmt, request.query_string)
    req = cache.requests.get(memo_key)
    if req is None:
        req = parse_request(scope, city, fmt, request.args)
        if len(cache.requests) >= MAX_MEMO:
            cache.requests.clear()
        cache.requests[memo_key] = req
    return req


def _archive(req: FeedRequest, cache: DocumentCache) -> Rendered:
    """An archive page: from the cache, or read and rendered."""
    doc = cache.get(req.key, None)  # a page with its next-archive: it never changes
    if doc is not None:
        return doc
    state = history.log_state(req.query)
    doc = cache.get(req.key, state.version)  # the newest page, as of this version
    if doc is None:
        body, page = render(req, state)
        etag = "a" + hashlib.blake2b(body, digest_size=10).hexdigest()
        doc = Rendered(
            body,
            etag,
            history.stamp_of(page.dated_by),
            ARCHIVE_CACHE_CONTROL if page.settled else HEAD_CACHE_CONTROL,
            MEDIA_TYPES[req.fmt],
            version=None if page.settled else state.version,
        )
        cache.put(req.key, doc)
    return doc


def serve(scope: str, city: str | None, fmt: str) -> Response:
    cache = document_cache()
    req = _request(scope, city, fmt, cache)
    inm = request.headers.get("If-None-Match")
    if req.page is not None:
        return _answer(_archive(req, cache), inm, cache)
    state = history.log_state(req.query)
    etag = f"h{state.version}-{req.key_hash}"
    if inm is not None and _etag_matches(inm, etag):
        return _not_modified(etag, HEAD_CACHE_CONTROL, _wants_gzip())
    doc = cache.get(req.key, state.version)
    if doc is None:
        body, page = render(req, state)
        stamp = history.stamp_of(page.dated_by)
        hub = hub_url()
        link = link_header(hub, feed_url(req.query, fmt)) if hub else None
        doc = Rendered(
            body, etag, stamp, HEAD_CACHE_CONTROL, MEDIA_TYPES[fmt], state.version, link=link
        )
        cache.put(req.key, doc)
    return _answer(doc, inm, cache)


def scope_feed(scope: str, fmt: str) -> Response:
    return serve(scope, None, fmt)


# One static rule per document (matched faster than converters on the hot path).
for _scope in ("all", "network"):
    for _fmt in ("atom", "json"):
        bp.add_url_rule(
            f"/feeds/{_scope}.{_fmt}",
            f"{_scope}_{_fmt}",
            scope_feed,
            defaults={"scope": _scope, "fmt": _fmt},
        )


@bp.get("/cities/<slug>/feed.<any(atom, json):fmt>")
def city_feed(slug: str, fmt: str) -> Response:
    return serve("city", slug, fmt)


# -- discovery ------------------------------------------------------------------------


def local_cities() -> list[City]:
    """Cities hosted here, by name."""
    return list(db.session.scalars(select(City).where(City.local.is_(True)).order_by(City.name)))


@bp.get("/feeds/opml")
def opml() -> Response:
    """Every feed of this instance as an OPML 2.0 subscription list."""
    name = current_app.config["INSTANCE_NAME"]
    cities = local_cities()
    outlines = [
        Outline(text=link["title"], xml_url=link["href"], html_url=link["html"])
        for city in [None, *cities]
        for link in _links(city)
    ]
    body = render_opml(f"{name}: ленты", outlines, owner=name)
    etag = "o" + hashlib.blake2b(body, digest_size=10).hexdigest()
    # The list changes when a city is added here: dated by the newest one.
    stamp = max((city.created for city in cities), default=EPOCH)
    doc = Rendered(body, etag, stamp, HEAD_CACHE_CONTROL, OPML_TYPE)
    return _answer(doc, request.headers.get("If-None-Match"))


def _links(city: City | None) -> list[dict[str, str]]:
    base = current_app.config["BASE_URL"]
    if city is not None:
        query = FeedQuery("city", city.slug)
        names = [(query, f"{city.name}: записи")]
        home = f"{base}/cities/{city.slug}"
    else:
        names = [(FeedQuery("all"), "Все записи"), (FeedQuery("network"), "Записи сети городов")]
        home = f"{base}/"
    return [
        {
            "title": f"{title} ({label})",
            "href": feed_url(query, fmt),
            "type": MEDIA_TYPES[fmt].split(";")[0],
            "html": home,
        }
        for query, title in names
        for fmt, label in (("atom", "Atom"), ("json", "JSON Feed"))
    ]


def feed_links(city_slug: str | None = None) -> list[dict[str, str]]:
    """Feeds for ``<link rel="alternate">`` in page heads: dicts of title, href, type.

    Every page gets the instance's feeds (all entries in Atom and JSON Feed,
    the network feed in Atom); a page about a city hosted here gets that
    city's two feeds first.
    """
    wanted = {
        feed_url(FeedQuery("all"), "atom"),
        feed_url(FeedQuery("all"), "json"),
        feed_url(FeedQuery("network"), "atom"),
    }
    links = [_public(link) for link in _links(None) if link["href"] in wanted]
    if city_slug is None or not _known_slug_shape(city_slug):
        return links
    city = db.session.scalar(select(City).where(City.slug == city_slug, City.local.is_(True)))
    return ([_public(link) for link in _links(city)] if city is not None else []) + links


def _public(link: dict[str, str]) -> dict[str, str]:
    return {"title": link["title"], "href": link["href"], "type": link["type"]}


def init_app(app: Flask) -> None:
    app.extensions["feed_cache"] = DocumentCache(
        int(app.config.get("FEED_CACHE_BYTES", DEFAULT_CACHE_BYTES))
    )
    app.add_template_global(feed_links)
    app.register_blueprint(bp)
