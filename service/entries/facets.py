"""Facets: for each list filter, how many entries each of its values would show.

A facet's counts take every other filter (and the search words) into account
but not its own, so a reader sees what choosing another city or another
year would give; several topics add up (an entry on any of them counts).
The conditions come from :mod:`service.entries.filters`, the same as the
lists' and the search's, so a count is what the link behind it shows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.entries.access import Principal
from service.entries.filters import COLUMN_FILTERS, EntryFilter, conditions, sql
from service.entries.search import matching_ids
from service.store.models import City, Entry, db, entry_topics

#: The facets, in the order pages show them.
FACETS = ("city", "topic", *COLUMN_FILTERS)


def _counts(name: str, where: list[Any]) -> dict[Any, int]:
    count = func.count(Entry.id)
    if name == "city":
        query = select(City.slug, count).join(City, City.id == Entry.city_id).group_by(City.slug)
    elif name == "topic":
        # The topic links of the entries (their ids from the facets index), not a join that
        # reads every entry's row.
        code = entry_topics.c.topic_code
        ids = select(Entry.id).where(*where)
        query = select(code, func.count()).where(entry_topics.c.entry_id.in_(ids))
        return {value: n for value, n in db.session.execute(query.group_by(code))}
    else:
        column: Any = getattr(Entry, name)
        query = select(column, count).where(column.is_not(None)).group_by(column)
    return {value: n for value, n in db.session.execute(query.where(*where))}


def facet_counts(
    flt: EntryFilter, *, text: str | None = None, viewer: Principal | None = None
) -> dict[str, dict[Any, int]]:
    """{facet: {value: entries}} for the entries the filter (and the words, if any) show.

    With words, the entries that have any of them count, as the search lists
    them (partial matches included).
    """
    out = {}
    matching = matching_ids(text, every=False) if text else None  # the words once, not per facet
    for name in FACETS:
        where: list[Any] = sql(conditions(flt.without(name), viewer))
        if matching is not None:
            where.append(Entry.id.in_(matching))
        out[name] = _counts(name, where)
    return out
