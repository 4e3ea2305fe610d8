"""``/api/v1/subscriptions``: the feeds this instance mirrors (operator token)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from service.http.api.fields import BaseSchema, Bool, Str, length, not_blank
from service.http.api.security import require_operator
from service.mirror import subscriptions
from service.store.models import Subscription
from service.vocab import Choice, PushState, SubscriptionState

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def _choices(choice: type[Choice], note: str) -> dict[str, Any]:
    """A field's documentation: what it says, then its values with their Russian names."""
    values = ", ".join(f"`{value}` ({name})" for value, name in choice.names().items())
    return {"description": f"{note}: {values}", "enum": list(choice.values())}


bp = Blueprint(
    "subscriptions",
    __name__,
    url_prefix="/api/v1/subscriptions",
    description="Feeds of other instances (or any Atom, RSS or JSON feed) mirrored here",
)


class SubscriptionInSchema(BaseSchema):
    url = Str(
        required=True,
        validate=[length(2000), not_blank],
        metadata={"description": "The feed, or a page that links it (autodiscovery)"},
    )


class SubscriptionDeleteQuerySchema(BaseSchema):
    purge = Bool(
        load_default=False,
        metadata={"description": "Also delete its mirrored entries (with tombstones)"},
    )


class PushOutSchema(BaseSchema):
    state = fields.String(metadata=_choices(PushState, "Push (WebSub) at the feed's hub"))
    hub = fields.String(metadata={"description": "The hub the feed advertises"})
    topic = fields.String(metadata={"description": "The topic subscribed to (rel=self)"})
    expires = fields.DateTime(
        allow_none=True, metadata={"description": "When the hub's lease ends (renewed before)"}
    )
    last_push = fields.DateTime(allow_none=True)
    pushes = fields.Integer(metadata={"description": "Deliveries received"})
    last_error = fields.String(allow_none=True)


class SubscriptionOutSchema(BaseSchema):
    id = fields.Integer()
    url = fields.String()
    title = fields.String(allow_none=True)
    site_url = fields.String(allow_none=True)
    state = fields.String(
        metadata=_choices(SubscriptionState, "Polled, failing (retried with backoff) or gone (410)")
    )
    created = fields.DateTime()
    last_poll = fields.DateTime(allow_none=True)
    last_success = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    failures = fields.Integer(metadata={"description": "Failed polls in a row"})
    entries_mirrored = fields.Integer()
    next_poll = fields.DateTime()
    backfilled = fields.Boolean(metadata={"description": "The archived history has been read"})
    refused_count = fields.Integer(
        metadata={"description": "Entries and deletions the last poll refused (bad fields...)"}
    )
    refusal_reasons = fields.String(
        allow_none=True, metadata={"description": "Why, one entry a line (the first ones)"}
    )
    links_dropped = fields.Integer(
        metadata={"description": "Links of the last poll dropped: not absolute http(s) URLs"}
    )
    poll_requested = fields.DateTime(
        allow_none=True, metadata={"description": "A poll asked for and not yet done"}
    )
    poll_progress = fields.String(
        allow_none=True, metadata={"description": "What the running or last poll has done"}
    )
    backfill_pages = fields.Integer(
        metadata={"description": "Archive pages read by a backfill under way"}
    )
    push = fields.Nested(
        PushOutSchema,
        allow_none=True,
        metadata={"description": "Push (WebSub); null when the feed advertises no hub"},
    )


@bp.route("")
class Subscriptions(MethodView):
    @bp.response(200, SubscriptionOutSchema(many=True))
    @bp.doc(security=SECURITY)
    def get(self) -> list[Subscription]:
        """Every subscription with its status."""
        require_operator()
        return subscriptions.list_subscriptions()

    @bp.arguments(SubscriptionInSchema)
    @bp.response(201, SubscriptionOutSchema)
    @bp.doc(security=SECURITY)
    def post(self, data: dict[str, Any]) -> Subscription:
        """Subscribe: the URL is fetched once to find and check the feed."""
        require_operator()
        return subscriptions.add_subscription(data["url"])


@bp.route("/<int:sub_id>")
class SubscriptionItem(MethodView):
    @bp.arguments(SubscriptionDeleteQuerySchema, location="query")
    @bp.response(204)
    @bp.doc(security=SECURITY)
    def delete(self, args: dict[str, Any], sub_id: int) -> None:
        """Stop mirroring; the mirrored entries stay unless ``purge=true``."""
        require_operator()
        subscriptions.remove_subscription(sub_id, purge=args["purge"])


@bp.route("/<int:sub_id>/poll")
class SubscriptionPoll(MethodView):
    @bp.response(202, SubscriptionOutSchema)
    @bp.doc(security=SECURITY)
    def post(self, sub_id: int) -> Subscription:
        """Poll now: answers at once; the worker (`mirror run`) polls the feed in seconds.

        The subscription comes back with `poll_requested` set; it is cleared
        when the poll is done, and `poll_progress` says what it did.
        """
        require_operator()
        return subscriptions.request_poll(sub_id)
