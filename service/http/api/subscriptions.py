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
    description="Ленты других серверов (и любые ленты Atom, RSS, JSON Feed), которые читает сервер",
)


class SubscriptionInSchema(BaseSchema):
    url = Str(
        required=True,
        validate=[length(2000), not_blank],
        metadata={"description": "Адрес ленты или страницы, которая на неё ссылается"},
    )


class SubscriptionDeleteQuerySchema(BaseSchema):
    purge = Bool(
        load_default=False,
        metadata={
            "description": "Удалить и полученные из ленты записи (ленты сообщат об удалении)"
        },
    )


class PushOutSchema(BaseSchema):
    state = fields.String(metadata=_choices(PushState, "Push (WebSub) at the feed's hub"))
    hub = fields.String(metadata={"description": "Хаб WebSub, который объявляет лента"})
    topic = fields.String(metadata={"description": "Адрес ленты у хаба (rel=self)"})
    expires = fields.DateTime(
        allow_none=True,
        metadata={"description": "Когда кончается подписка у хаба (продлевается заранее)"},
    )
    last_push = fields.DateTime(allow_none=True)
    pushes = fields.Integer(metadata={"description": "Получено доставок"})
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
    failures = fields.Integer(metadata={"description": "Неудачных опросов подряд"})
    entries_mirrored = fields.Integer()
    next_poll = fields.DateTime()
    backfilled = fields.Boolean(metadata={"description": "История из архива ленты прочитана"})
    refused_count = fields.Integer(
        metadata={"description": "Сколько записей и удалений отклонил последний опрос"}
    )
    refusal_reasons = fields.String(
        allow_none=True,
        metadata={
            "description": "Причины отказа и отброшенных ссылок, по одной на строку (первые)"
        },
    )
    links_dropped = fields.Integer(
        metadata={
            "description": (
                "Отброшенные ссылки (не абсолютные http(s)) последнего опроса "
                "или, до первого опроса, подписки"
            )
        }
    )
    poll_requested = fields.DateTime(
        allow_none=True, metadata={"description": "Запрошен опрос, который ещё не выполнен"}
    )
    poll_progress = fields.String(
        allow_none=True, metadata={"description": "Что сделал идущий или последний опрос"}
    )
    backfill_pages = fields.Integer(
        metadata={"description": "Сколько страниц архива прочитано при загрузке истории"}
    )
    push = fields.Nested(
        PushOutSchema,
        allow_none=True,
        metadata={"description": "Доставка WebSub; null, если лента не объявляет хаб"},
    )


@bp.route("")
class Subscriptions(MethodView):
    @bp.response(200, SubscriptionOutSchema(many=True))
    @bp.doc(security=SECURITY)
    def get(self) -> list[Subscription]:
        """Все подписки и их состояние (нужен ключ оператора)."""
        require_operator()
        return subscriptions.list_subscriptions()

    @bp.arguments(SubscriptionInSchema)
    @bp.response(201, SubscriptionOutSchema)
    @bp.doc(security=SECURITY)
    def post(self, data: dict[str, Any]) -> Subscription:
        """Подписаться: адрес загружается один раз, чтобы найти и проверить ленту."""
        require_operator()
        return subscriptions.add_subscription(data["url"])


@bp.route("/<int:sub_id>")
class SubscriptionItem(MethodView):
    @bp.arguments(SubscriptionDeleteQuerySchema, location="query")
    @bp.response(204)
    @bp.doc(security=SECURITY)
    def delete(self, args: dict[str, Any], sub_id: int) -> None:
        """Отписаться; полученные записи остаются, если не указать ``purge=true``."""
        require_operator()
        subscriptions.remove_subscription(sub_id, purge=args["purge"])


@bp.route("/<int:sub_id>/poll")
class SubscriptionPoll(MethodView):
    @bp.response(
        202, SubscriptionOutSchema, description="Опрос запрошен; подписка с полем `poll_requested`"
    )
    @bp.doc(security=SECURITY)
    def post(self, sub_id: int) -> Subscription:
        """Опросить ленту сейчас: ответ сразу (202), опрос выполняет фоновый процесс
        (`mirror run`) в течение секунд.

        В ответе подписка с полем `poll_requested`; оно очищается, когда опрос
        выполнен, а `poll_progress` говорит, что он сделал.
        """
        require_operator()
        return subscriptions.request_poll(sub_id)
