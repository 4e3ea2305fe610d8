"""The JSON API under ``/api/v1``, documented by flask-smorest (OpenAPI 3)."""

from __future__ import annotations

from typing import Any

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


class UnsupportedMediaType(ServiceError):
    status_code = 415


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
    return render_template("api_docs.html", spec=spec)


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
            "components": {"securitySchemes": {"bearerAuth": BEARER_SCHEME}},
        },
    )
    for bp in (practices_bp, events_bp, catalog_bp):
        api.register_blueprint(bp)
    api.register_blueprint(search_bp)
    api.register_blueprint(subscriptions_bp)
    app.register_blueprint(docs_bp)
    app.before_request(authenticate_writes)  # 401 before 415 or 422
    app.before_request(_require_json)
