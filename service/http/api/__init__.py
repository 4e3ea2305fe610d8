"""The JSON API under ``/api/v1``, documented by flask-smorest (OpenAPI 3).

The views' docstrings are the API documentation (OpenAPI ``summary`` and
``description``, shown at ``/api/v1/docs``), so they are written in Russian.
"""

from __future__ import annotations

from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, render_template, request
from flask_smorest import Api

from service.errors import ServiceError
from service.http.api.catalog import bp as catalog_bp
from service.http.api.entries import events_bp, practices_bp
from service.http.api.search import bp as search_bp
from service.http.api.security import BEARER_SCHEME, authenticate_writes
from service.http.api.subscriptions import bp as subscriptions_bp

WRITE_METHODS = {"POST", "PUT", "PATCH"}
DESCRIPTION = (
    "Практики и мероприятия городов Ассоциации сибирских и дальневосточных городов. "
    "Чтение открыто; запись — с ключом города в заголовке Authorization: Bearer <ключ>. "
    "Ошибка — ответ JSON с кодом, сообщением на русском языке и полем, в котором она."
)
#: What the documentation page says about each response code.
RESPONSE_WORDS = {
    "200": "успешно",
    "201": "создано",
    "204": "выполнено, тела нет",
    "304": "не изменилось",
    "400": "неверный запрос",
    "401": "нужен ключ",
    "403": "нет прав",
    "404": "не найдено",
    "409": "конфликт",
    "415": "тело не JSON",
    "422": "ошибка в данных",
    "default": "ошибка (JSON с сообщением)",
}


class UnsupportedMediaType(ServiceError):
    status_code = 415


#: flask-smorest's own components, described in Russian.
COMPONENT_WORDS = {
    ("schemas", "Error"): {
        "code": "Код ответа HTTP",
        "status": "Название ошибки",
        "message": "Сообщение на русском языке",
        "errors": 'Ошибки по полям: {"json": {"поле": ["сообщение"]}}',
    },
    ("schemas", "PaginationMetadata"): {
        "total": "Всего записей",
        "total_pages": "Всего страниц",
        "first_page": "Первая страница",
        "last_page": "Последняя страница",
        "page": "Эта страница",
        "previous_page": "Предыдущая страница",
        "next_page": "Следующая страница",
    },
}


class RussianResponses(BasePlugin):
    """Responses described in Russian, not by HTTP's English phrases."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            for code, response in operation.get("responses", {}).items():
                if isinstance(response, dict) and str(code) in RESPONSE_WORDS:
                    response["description"] = RESPONSE_WORDS[str(code)]


def _russian_components(spec: APISpec) -> None:
    components = spec.components
    for (section, name), words in COMPONENT_WORDS.items():
        properties = getattr(components, section).get(name, {}).get("properties", {})
        for field, text in words.items():
            if field in properties:
                properties[field]["description"] = text
    responses = components.responses
    if "UNPROCESSABLE_ENTITY" in responses:
        responses["UNPROCESSABLE_ENTITY"]["description"] = RESPONSE_WORDS["422"]
    if "DEFAULT_ERROR" in responses:
        responses["DEFAULT_ERROR"]["description"] = RESPONSE_WORDS["default"]


class ServiceApi(Api):
    """flask-smorest's Api, with errors handled by the service's own handler."""

    def _register_error_handlers(self) -> None:  # one handler: service.http.errors
        return None


def _require_json() -> None:
    if (
        request.path.startswith("/api/")
        and request.method in WRITE_METHODS
        and not request.is_json
        and not request.path.endswith("/poll")
    ):
        raise UnsupportedMediaType(
            "Тело запроса должно быть JSON (Content-Type: application/json)",
            field="Content-Type",
        )


docs_bp = Blueprint("api_docs", __name__)


@docs_bp.route("/api/v1/docs")
def docs() -> str:
    """Browsable API documentation, rendered on the server from the OpenAPI document."""
    spec: dict[str, Any] = api.spec.to_dict()
    return render_template("api_docs.html", spec=spec, responses=RESPONSE_WORDS)


api = ServiceApi()


def schema_name(schema: Any) -> str:
    """OpenAPI component names; a PATCH body (partial schema) gets its own."""
    cls = schema if isinstance(schema, type) else type(schema)
    name = cls.__name__.removesuffix("Schema")
    if not isinstance(schema, type) and schema.partial:
        name += "Patch"
    return name


def init_app(app: Flask) -> None:
    api.init_app(
        app,
        spec_kwargs={
            "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
            "extra_plugins": [RussianResponses()],
            "components": {"securitySchemes": {"bearerAuth": BEARER_SCHEME}},
            "info": {"description": DESCRIPTION},
        },
    )
    for bp in (practices_bp, events_bp, catalog_bp):
        api.register_blueprint(bp)
    api.register_blueprint(search_bp)
    api.register_blueprint(subscriptions_bp)
    _russian_components(api.spec)
    app.register_blueprint(docs_bp)
    app.before_request(authenticate_writes)  # 401 before 415 or 422
    app.before_request(_require_json)
