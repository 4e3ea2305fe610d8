"""WebSub endpoints: the hub of this instance's feeds (``POST /websub/hub``) and the
callbacks of this instance's own push subscriptions (``/websub/callback/<token>``).

A subscription request (WebSub 5.1) is checked here (the form, then the
topic: it must be one of this instance's feeds, by its URL under
``BASE_URL``; archive pages never change and have no subscribers) and
stored; the answer is 202 Accepted at once, and a worker verifies the
subscriber's intent and delivers changes (:mod:`service.push.delivery`).

This module also gives the hub its way to render a feed
(``app.extensions["asdg.render_feed"]``): the document a GET of the topic
returns, through the feed view itself, so a delivery holds exactly what a
poll would read.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

import service.metrics as metrics
from feeds.websub import DENIED, SIGNATURE_HEADER, WebSubError, parse_request
from service.entries import feedlog
from service.entries.feedlog import FeedQuery
from service.errors import BadRequestError, GoneError, NotFoundError, ServiceError
from service.http import feeds
from service.push import hub, subscriber
from service.push.delivery import RENDERER, Content
from service.push.settings import CALLBACK_PATH, HUB_PATH, settings

bp = Blueprint("websub", __name__)

FEED_ENDPOINTS = {
    f"feeds.{scope}_{fmt}" for scope in ("all", "network") for fmt in ("atom", "json")
} | {"feeds.city_feed"}
TOPIC = "hub.topic"


def topic_feed(topic: str) -> tuple[str, FeedQuery]:
    """The canonical path and filters of the feed a topic URL names; 400 if none here."""
    base = current_app.config["BASE_URL"]
    if not topic.startswith(base + "/"):
        raise BadRequestError(
            "hub.topic: этот хаб рассылает только ленты этого сервера "
            f"(адреса, начинающиеся с {base}/)",
            field=TOPIC,
        )
    rest = topic[len(base) :].split("#", 1)[0]
    path, _, query_string = rest.partition("?")
    try:
        endpoint, values = current_app.url_map.bind("hub").match(path, method="GET")
    except HTTPException:
        endpoint, values = "", {}
    if endpoint not in FEED_ENDPOINTS:
        raise BadRequestError("hub.topic: это не лента этого сервера", field=TOPIC)
    args = MultiDict(parse_qsl(query_string, keep_blank_values=True))
    try:
        req = feeds.parse_request(
            values.get("scope", "city"), values.get("slug"), values["fmt"], args
        )
        feedlog.log_state(req.query)  # an unknown city: NotFoundError
    except ServiceError as error:
        raise BadRequestError(f"hub.topic: {error.message}", field=TOPIC) from error
    if req.page is not None:
        raise BadRequestError(
            "hub.topic: страницы архива не меняются; подпишитесь на саму ленту", field=TOPIC
        )
    return req.key, req.query


@bp.post(HUB_PATH)
def hub_endpoint() -> Response:
    """A subscription or unsubscription request (WebSub 5.1): 202, verified later."""
    config = settings()
    if not config.hub_enabled:
        raise NotFoundError("Хаб WebSub на этом сервере выключен (WEBSUB_HUB)")
    try:
        wanted = parse_request(request.form)
    except WebSubError as error:
        hub_request_counted(request.form.get("hub.mode"), "invalid")
        raise BadRequestError(error.message, field=error.field) from error
    try:
        feed, query = topic_feed(wanted.topic)
        hub.receive(wanted, feed, query, config)
    except ServiceError:
        hub_request_counted(wanted.mode, "invalid")
        raise
    hub_request_counted(wanted.mode, "accepted")
    return Response(
        f"Запрос принят ({wanted.mode}); подписчик получит запрос подтверждения.\n",
        status=202,
        content_type="text/plain; charset=utf-8",
    )


def hub_request_counted(mode: str | None, outcome: str) -> None:
    known = mode if mode in ("subscribe", "unsubscribe") else "other"
    metrics.HUB_REQUESTS.labels(mode=known, outcome=outcome).inc()


@bp.get(CALLBACK_PATH + "<token>")
def callback_check(token: str) -> Response:
    """The hub checks a request this instance sent (5.3), or reports a refusal (5.2)."""
    args = request.args
    mode = args.get("hub.mode", "")
    topic = args.get("hub.topic", "")
    if mode == DENIED:
        subscriber.denied(token, topic, args.get("hub.reason", ""))
        return Response("", status=204)
    challenge = subscriber.confirm(
        token, mode, topic, args.get("hub.challenge", ""), args.get("hub.lease_seconds")
    )
    return Response(challenge, content_type="text/plain; charset=utf-8")


@bp.post(CALLBACK_PATH + "<token>")
def callback_delivery(token: str) -> Response:
    """A hub delivers a feed document (7): checked, then stored like a poll's."""
    if not settings().subscribe_enabled:
        raise GoneError("Подписка на доставки выключена (WEBSUB_SUBSCRIBE)", field="token")
    request.max_content_length = int(current_app.config["MIRROR_MAX_FEED_BYTES"])
    received = subscriber.receive(
        token,
        request.get_data(cache=False),
        content_type=request.headers.get("Content-Type"),
        signature=request.headers.get(SIGNATURE_HEADER),
        link=request.headers.get("Link"),
    )
    return Response(f"{received.outcome}\n", status=202, content_type="text/plain")


def render_feed(path: str) -> Content:
    """The document a GET of one of this instance's feeds returns (for deliveries)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with app.test_request_context(
        path, base_url=app.config["BASE_URL"], headers={"Accept-Encoding": "identity"}
    ):
        response = app.full_dispatch_request()
    try:
        if response.status_code != 200:
            raise NotFoundError(f"Лента {path} не отдаётся ({response.status_code})")
        return Content(response.get_data(), response.content_type or "application/octet-stream")
    finally:
        response.close()


def init_app(app: Flask) -> None:
    app.extensions[RENDERER] = render_feed
    app.register_blueprint(bp)
