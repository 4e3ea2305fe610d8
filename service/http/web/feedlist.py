"""The feeds page: every feed of this instance for a person, and the feed stylesheet.

Atom documents name ``/feeds/feed.xsl`` in an ``<?xml-stylesheet?>``
instruction, so a browser that opens a feed shows a Russian page with "how to
subscribe" instead of raw XML (:data:`service.http.feeds.FEED_STYLESHEET`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for

from service.entries.feedlog import FeedQuery
from service.http.feeds import FEED_STYLESHEET, feed_path, local_cities
from service.http.web import queries
from service.vocab import KIND_PLURALS, Kind

bp = Blueprint("feedlist", __name__)

XSL_TYPE = "text/xsl"


@dataclass(frozen=True)
class FeedRow:
    """One feed: its name, its Atom and JSON Feed paths, the page it follows."""

    name: str
    atom: str
    json: str
    page: str | None = None
    count: int | None = None


def feed_row(
    query: FeedQuery, name: str, page: str | None = None, count: int | None = None
) -> FeedRow:
    return FeedRow(name, feed_path(query, "atom"), feed_path(query, "json"), page, count)


def topic_feed(code: str, name: str) -> FeedRow:
    """The feed of every entry on a topic (the topic page links it)."""
    page = url_for("reading.topic", code=code)
    return feed_row(FeedQuery("all", topic=code), f"Тема «{name}»", page)


def feed_groups() -> list[tuple[str, str, list[FeedRow]]]:
    """(id, heading, feeds) of every feed this instance publishes."""
    general = [
        feed_row(FeedQuery("all"), "Все записи: этого сервера и полученные из сети", "/"),
        feed_row(FeedQuery("network"), "Записи сети городов"),
    ]
    kinds = [feed_row(FeedQuery("all", kind=kind.value), KIND_PLURALS[kind.value]) for kind in Kind]
    cities = [
        feed_row(FeedQuery("city", city.slug), city.name, url_for("reading.city", slug=city.slug))
        for city in local_cities()
    ]
    topics = [
        replace(topic_feed(topic.code, topic.name), count=tally.total)
        for topic, tally in queries.topic_tallies()
    ]
    return [
        ("general", "Общие ленты", general),
        ("kinds", "Практики или мероприятия", kinds),
        ("cities", "Ленты городов этого сервера", cities),
        ("topics", "Ленты тем (записи всех городов)", topics),
    ]


@bp.route("/feeds")
def feeds() -> str:
    return render_template(
        "reading/feeds.html",
        groups=feed_groups(),
        base=current_app.config["BASE_URL"],
    )


@bp.route(FEED_STYLESHEET)
def stylesheet() -> Response:
    """The XSLT stylesheet, with an XML media type browsers accept for XSLT."""
    assert current_app.static_folder is not None
    body = (Path(current_app.static_folder) / "feed.xsl").read_bytes()
    response = Response(body, mimetype=XSL_TYPE)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
