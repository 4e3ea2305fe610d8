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
    """One feed: its name, which entries it holds, the page it follows."""

    name: str
    query: FeedQuery
    #: The HTML page with the same entries, if there is one.
    page: str | None
    #: How many published entries it holds (topic feeds), None when not counted.
    count: int | None = None

    @property
    def atom(self) -> str:
        return feed_path(self.query, "atom")

    @property
    def json(self) -> str:
        return feed_path(self.query, "json")


def topic_feed(code: str, name: str) -> FeedRow:
    """The feed of a topic, own and mirrored entries, as its page (which links it)."""
    page = url_for("reading.topic", code=code)
    return FeedRow(f"Тема «{name}»", FeedQuery("network", topic=code), page)


def feed_groups() -> list[tuple[str, str, list[FeedRow]]]:
    """(id, heading, feeds) of every feed this instance publishes."""
    general = [
        FeedRow("Все записи этого сервера", FeedQuery("all"), "/"),
        FeedRow("Записи сети: этого сервера и полученные из других", FeedQuery("network"), None),
    ]
    kinds = [
        FeedRow(KIND_PLURALS[kind.value], FeedQuery("all", kind=kind.value), None) for kind in Kind
    ]
    cities = [
        FeedRow(city.name, FeedQuery("city", city.slug), url_for("reading.city", slug=city.slug))
        for city in local_cities()
    ]
    topics = [
        replace(topic_feed(topic.code, topic.name), count=tally.total)
        for topic, tally in queries.topic_tallies()
    ]
    return [
        ("general", "Общие ленты", general),
        ("kinds", "Только практики или только мероприятия (этого сервера)", kinds),
        ("cities", "Ленты городов этого сервера", cities),
        ("topics", "Ленты тем (записи всех городов сети)", topics),
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
