"""List filters: what a list or a search shows, as one value rendered to any query.

:class:`EntryFilter` is what the front ends ask for; :func:`conditions` turns
it, with the viewer's :func:`~service.entries.access.visibility`, into
:class:`Conditions`, which :func:`sql` renders for SQLAlchemy and the search
module renders for the FTS5 index. So the access rule and the filters are
written once for lists, counts and full-text search.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Text, cast, false, or_, select

from service.entries.access import Principal, Term, visibility
from service.store.models import City, Entry, Topic, db


@dataclass(frozen=True)
class EntryFilter:
    kind: str | None = None
    city: str | None = None
    topic: str | None = None
    year: int | None = None
    q: str | None = None
    origin: str | None = None
    status: str | None = None
    #: One of the entry's tags, exactly (lists only; search ignores it).
    tag: str | None = None


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
    """Every term of ``all_of`` and at least one of ``visible_if``; ``topic`` if set.

    ``impossible`` when nothing can match (a city that does not exist).
    """

    all_of: tuple[Term, ...]
    visible_if: tuple[Term, ...]
    topic: str | None = None
    impossible: bool = False
    tag: str | None = None


def conditions(flt: EntryFilter, viewer: Principal | None) -> Conditions:
    """The filter's conditions (``flt.q`` excepted: the caller searches)."""
    terms = [Term(name, getattr(flt, name)) for name in ("kind", "origin", "status")]
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
    if found.topic:
        clauses.append(Entry.topics.any(Topic.code == found.topic))
    if found.tag:
        # Tags are a JSON list: the tag's JSON string, quotes included, is in its text.
        text = cast(Entry.tags, Text)
        clauses.append(text.contains(json.dumps(found.tag), autoescape=True))
    return clauses
