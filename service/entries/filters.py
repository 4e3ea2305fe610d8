"""List filters: what a list or a search shows, as one value rendered to any query.

:class:`EntryFilter` is what the front ends ask for; :func:`conditions` turns
it, with the viewer's :func:`~service.entries.access.visibility`, into
:class:`Conditions`, which :func:`sql` renders for SQLAlchemy and :func:`fts5`
for the FTS5 index (the tokens of its ``facets`` column, migration
0010_lemma_search). So the access rule and the filters are written once for
lists, counts, facets and full-text search.

Several topics (``?topic=a&topic=b``) mean any of them; every other filter
takes one value, and filters of different names must all hold.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, false, or_, select

from service.entries.access import Principal, Term, visibility
from service.store.models import City, Entry, Topic, db

#: The filters that take one value and are a column of ``entries``, in facet order.
COLUMN_FILTERS = ("kind", "year", "format", "level", "origin")


@dataclass(frozen=True)
class EntryFilter:
    kind: str | None = None
    city: str | None = None
    #: Topic codes: an entry on any of them matches (none: every entry).
    topic: tuple[str, ...] = field(default=())
    year: int | None = None
    q: str | None = None
    origin: str | None = None
    status: str | None = None
    #: One of the entry's tags, exactly (lists only; search ignores it).
    tag: str | None = None
    format: str | None = None
    level: str | None = None

    def __post_init__(self) -> None:
        topics: Any = self.topic
        if isinstance(topics, str):
            topics = (topics,)
        object.__setattr__(self, "topic", tuple(dict.fromkeys(topics or ())))

    def without(self, name: str) -> EntryFilter:
        """The same filter with one of its conditions dropped (for that facet's counts)."""
        cleared: dict[str, Any] = {name: () if name == "topic" else None}
        return replace(self, **cleared)

    @property
    def chosen(self) -> bool:
        """Is any list filter set (``q`` and ``status`` apart)?"""
        return bool(self.city or self.topic or self.year is not None) or any(
            getattr(self, name) for name in ("kind", "origin", "format", "level", "tag")
        )


@dataclass(frozen=True)
class Page:
    items: list[Entry]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Conditions:
    """Every term of ``all_of``, at least one of ``visible_if``, one of ``topics`` if any.

    ``impossible`` when nothing can match (a city that does not exist).
    """

    all_of: tuple[Term, ...]
    visible_if: tuple[Term, ...]
    topics: tuple[str, ...] = ()
    impossible: bool = False
    tag: str | None = None


def conditions(flt: EntryFilter, viewer: Principal | None) -> Conditions:
    """The filter's conditions (``flt.q`` excepted: the caller searches)."""
    terms = [Term(name, getattr(flt, name)) for name in ("kind", "origin", "status")]
    terms += [Term(name, getattr(flt, name)) for name in ("format", "level")]
    terms = [t for t in terms if t.value]
    if flt.year is not None:
        terms.append(Term("year", flt.year))
    impossible = False
    if flt.city:
        city_id = db.session.scalar(select(City.id).where(City.slug == flt.city))
        impossible = city_id is None
        terms.append(Term("city_id", city_id))
    return Conditions(tuple(terms), visibility(viewer), flt.topic, impossible, flt.tag)


def _equals(term: Term) -> ColumnElement[bool]:
    column: Any = getattr(Entry, term.column)
    return column == term.value  # type: ignore[no-any-return]


def sql(found: Conditions) -> list[ColumnElement[bool]]:
    """The conditions as SQLAlchemy ``where`` clauses on ``Entry``."""
    if found.impossible:
        return [false()]
    clauses = [_equals(t) for t in found.all_of]
    clauses.append(or_(*(_equals(t) for t in found.visible_if)))
    if found.topics:
        clauses.append(Entry.topics.any(Topic.code.in_(found.topics)))
    if found.tag:
        # Tags are a JSON list: the tag's JSON string, quotes included, is in its text.
        text = cast(Entry.tags, Text)
        clauses.append(text.contains(json.dumps(found.tag), autoescape=True))
    return clauses


# -- the FTS5 index's facets column -------------------------------------------------

#: Token prefixes of the facets column, one per filtered column (migration 0010_lemma_search).
FACET_PREFIXES = {
    "status": "zs",
    "origin": "zo",
    "kind": "zk",
    "city_id": "zc",
    "year": "zy",
    "format": "zf",
    "level": "zl",
}
TOPIC_PREFIX = "zt"


def facet(name: str, value: object) -> str:
    """The token the index holds for a column value: ``zspublished``, ``zc12``."""
    return f"{FACET_PREFIXES[name]}{'none' if value is None else value}"


def topic_token(code: str) -> str:
    """The token the index holds for a topic: ``ztlandproperty`` (no hyphen: one token)."""
    return TOPIC_PREFIX + code.replace("-", "")


def topic_tokens(codes: Iterable[str]) -> str:
    return " ".join(topic_token(c) for c in codes)


def _token_groups(found: Conditions) -> list[list[str]]:
    """The filter tokens the conditions name: every group must hold, by one of its tokens."""
    groups = [[facet(t.column, t.value)] for t in found.all_of]
    groups.append([facet(t.column, t.value) for t in found.visible_if])
    if found.topics:
        groups.append([topic_token(c) for c in found.topics])
    return groups


def _render(found: Conditions, quote: Any, and_: str, or_: str) -> str:
    """The conditions over the index's filter tokens, each made a term by ``quote``."""
    return and_.join("(" + or_.join(map(quote, g)) + ")" for g in _token_groups(found))


def fts5(found: Conditions) -> str | None:
    """The conditions as an FTS5 expression on the facets column; None when nothing can match."""
    if found.impossible:
        return None
    return "facets : (" + _render(found, lambda t: f'"{t}"', " AND ", " OR ") + ")"


#: What begins a filter lexeme in PostgreSQL's indexed words (``=zspublished``):
#: never the start of a word's lemma, so a text cannot pass for a filter value.
TSVECTOR_FACET_MARK = "="


def facet_lexemes(found: Conditions) -> list[str]:
    """The filter lexemes the conditions name, as PostgreSQL indexes them (``=zspublished``)."""
    return [TSVECTOR_FACET_MARK + t for group in _token_groups(found) for t in group]


def index_query(found: Conditions, term: Callable[[str], str]) -> str | None:
    """The conditions as a boolean query over PostgreSQL's filter lexemes.

    PostgreSQL's counterpart of :func:`fts5` (migrations 0010_lemma_search and
    0014_word_ids put the same lexemes, marked by :data:`TSVECTOR_FACET_MARK`,
    into the GIN-indexed ``search_ids``), so a search filters inside the index;
    ``term`` writes one lexeme as a term of the query (its number there).
    None when nothing can match.
    """
    if found.impossible:
        return None
    return _render(found, lambda t: term(TSVECTOR_FACET_MARK + t), " & ", " | ")
