"""The reader's pages: the network overview, cities, notes, events, topics, search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from marshmallow import EXCLUDE

from service.entries.filters import EntryFilter
from service.entries.markup import markdown_to_html
from service.entries.rendering import entry_html, event_facts, sections
from service.entries.search import search_entries
from service.entries.service import get_city, get_entry, list_entries
from service.errors import NotFoundError, ValidationError
from service.fields import values_of
from service.http.web import charts, feedlist, queries
from service.http.web.admin import current_principal
from service.http.web.facets import facet_groups
from service.http.web.helpers import PER_PAGE, FilterSchema, load_args
from service.store.models import Entry
from service.vocab import Kind

bp = Blueprint("reading", __name__)


def _list(flt: EntryFilter, page: int) -> Any:
    return list_entries(flt, page=page, per_page=PER_PAGE)


@bp.route("/")
def index() -> str:
    """The newest notes and events of the whole network, with filters."""
    args = load_args(FilterSchema(), request.args)
    page = args.pop("page")
    flt = EntryFilter(**args)
    return render_template(
        "reading/index.html",
        entries=_list(flt, page),
        args=args,
        chosen=flt.chosen,
        facet_groups=facet_groups("reading.index", args, flt),
    )


@bp.route("/cities")
def cities() -> str:
    return render_template("reading/cities.html", tallies=queries.city_tallies())


@bp.route("/cities/<slug>")
def city(slug: str) -> str:
    city = get_city(slug)
    args = load_args(FilterSchema(only=("kind", "page")), request.args)
    entries = _list(EntryFilter(city=city.slug, kind=args.get("kind")), args["page"])
    return render_template(
        "reading/city.html",
        city=city,
        entries=entries,
        args=args,
        topics=[t for t in queries.topic_tallies(city.id) if t[1].total],
        feed_city=city.slug if city.local else None,
    )


def _entry(kind: str, entry_id: int) -> Entry:
    """A published entry, or the logged-in admin's own draft (a preview)."""
    return get_entry(kind, str(entry_id), viewer=current_principal())


def _sections(entry: Entry) -> list[tuple[str, str]]:
    """(heading, HTML) of an entry's sections that have text, in reading order."""
    rendered = [(heading, markdown_to_html(md)) for heading, md in sections(values_of(entry))]
    return [(heading, html) for heading, html in rendered if html]


def _generic_html(entry: Entry) -> str | None:
    """The content of a mirrored entry that came from an ordinary (non-ASDG) feed."""
    if entry.is_generic:
        return entry_html({"generic": True, "content_html": entry.content_html})
    return None


@bp.route("/practices/<int:entry_id>")
def practice(entry_id: int) -> str:
    entry = _entry(Kind.PRACTICE, entry_id)
    return render_template(
        "reading/practice.html",
        entry=entry,
        sections=_sections(entry),
        generic_html=_generic_html(entry),
        events=queries.events_of(entry),
        elsewhere=queries.same_topic_elsewhere(entry),
        feed_city=entry.city.slug if entry.city.local else None,
    )


@bp.route("/events/<int:entry_id>")
def event(entry_id: int) -> str:
    entry = _entry(Kind.EVENT, entry_id)
    return render_template(
        "reading/event.html",
        entry=entry,
        sections=_sections(entry),
        facts=event_facts(values_of(entry)),
        practice=queries.published_entry(entry.related_uid),
        similar=queries.similar_events(entry),
        feed_city=entry.city.slug if entry.city.local else None,
    )


@bp.route("/topics")
def topics() -> str:
    return render_template("reading/topics.html", tallies=queries.topic_tallies())


@bp.route("/topics/<code>")
def topic(code: str) -> str:
    found = queries.get_topic(code)
    if found is None:
        raise NotFoundError(f"Темы «{code}» нет в списке", field="topic")
    args = load_args(FilterSchema(only=("kind", "page")), request.args)
    entries = _list(EntryFilter(topic=(code,), kind=args.get("kind")), args["page"])
    return render_template(
        "reading/topic.html",
        topic=found,
        entries=entries,
        args=args,
        tallies=queries.city_tallies(code),
        feed=feedlist.topic_feed(found.code, found.name),
    )


@bp.route("/search")
def search() -> tuple[str, int]:
    """Search with the list filters and their facets; a bad query is explained on the page.

    Without words but with a filter chosen, the page lists the filtered entries.
    """
    args = load_args(FilterSchema(unknown=EXCLUDE, exclude=("tag",)), request.args)
    page = args.pop("page")
    text = request.args.get("q", "")
    flt = EntryFilter(**args)
    result, listing, error = None, None, None
    if text.strip():
        try:
            result = search_entries(text, flt, page=page, per_page=PER_PAGE)
        except ValidationError as e:
            error = e.message
    elif flt.chosen:
        listing = _list(flt, page)
    html = render_template(
        "reading/search.html",
        q=text,
        result=result,
        listing=listing,
        error=error,
        args=args,
        chosen=flt.chosen,
        reset_url=url_for("reading.search", q=text) if text.strip() else url_for("reading.search"),
        facet_groups=facet_groups("reading.search", args, flt, text if result else None),
    )
    return html, 422 if error else 200


@bp.route("/overview")
def overview() -> str:
    """The picture of the network: who published how much, per year and per topic."""
    counts = charts.published_counts()
    return render_template(
        "reading/overview.html",
        counts=counts,
        by_year=charts.chart(
            counts.by_year,
            "Практики и мероприятия городов по годам",
            lambda city, year: url_for("reading.index", city=city, year=year),
        ),
        by_topic=charts.chart(
            counts.by_topic,
            "Практики и мероприятия городов по темам",
            lambda topic, city: url_for("reading.index", topic=topic, city=city),
        ),
        by_topic_year=charts.chart(
            counts.by_topic_year,
            "Темы по годам: практики и мероприятия всех городов",
            lambda topic, year: url_for("reading.index", topic=topic, year=year),
        ),
    )
