"""The facets of the overview and the search page: links with counts.

Each value of each list filter is a link (no JavaScript needed) to the same
page with that value chosen, or, when it is chosen, with it dropped; topics
add up (``?topic=a&topic=b``). The counts come from
:func:`service.entries.facets.facet_counts`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import url_for

from service.cities import list_cities
from service.entries.facets import FACETS, facet_counts
from service.entries.filters import EntryFilter
from service.http.web import queries
from service.http.web.helpers import ARGUMENT_NAMES, ORIGIN_NAMES
from service.vocab import KIND_PLURALS, EventFormat, EventLevel


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    url: str
    chosen: bool


@dataclass(frozen=True)
class FacetGroup:
    name: str
    label: str
    links: list[FacetLink]


def _values(name: str, counts: dict[Any, int]) -> Iterable[tuple[Any, str]]:
    """(value, Russian name) of a facet, in the order pages list them."""
    if name == "city":
        return [(c.slug, c.name) for c in list_cities()]
    if name == "topic":
        return [(t.code, t.name) for t in queries.all_topics()]
    if name == "year":
        return [(y, str(y)) for y in sorted(counts, reverse=True)]
    names = {
        "kind": KIND_PLURALS,
        "format": EventFormat.names(),
        "level": EventLevel.names(),
        "origin": ORIGIN_NAMES,
    }[name]
    return names.items()


def _toggled(args: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    """The page's arguments with one value chosen, or dropped if it was chosen."""
    out = {k: v for k, v in args.items() if v not in (None, "", [], ())}
    if name == "topic":
        topics = list(out.get("topic", []))
        topics = [t for t in topics if t != value] if value in topics else [*topics, value]
        out["topic"] = topics
    elif out.get(name) == value:
        del out[name]
    else:
        out[name] = value
    return out


def facet_groups(
    endpoint: str, args: dict[str, Any], flt: EntryFilter, text: str | None = None
) -> list[FacetGroup]:
    """Every facet with the values that show something (or are chosen), as links."""
    counts = facet_counts(flt, text=text)
    extra: dict[str, Any] = {"q": text} if text else {}
    groups = []
    for name in FACETS:
        chosen = args.get(name)
        links = []
        for value, label in _values(name, counts[name]):
            on = value in chosen if name == "topic" and chosen else value == chosen
            count = counts[name].get(value, 0)
            if count or on:
                url = url_for(endpoint, **extra, **_toggled(args, name, value))
                links.append(FacetLink(label, count, url, bool(on)))
        if links:
            groups.append(FacetGroup(name, ARGUMENT_NAMES[name], links))
    return groups
