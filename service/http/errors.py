"""One place that turns errors into answers.

API and feed URLs get the JSON error shape
``{"code": 422, "status": "...", "message": "...", "errors": {"json": {"field": ["..."]}}}``;
everything else gets a Russian HTML page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from service.errors import AuthError, ServiceError

log = logging.getLogger(__name__)

RUSSIAN_TITLES = {
    400: "Неверный запрос",
    401: "Нужен вход",
    403: "Нет доступа",
    404: "Страница не найдена",
    405: "Метод не поддерживается",
    409: "Конфликт",
    410: "Запись удалена",
    412: "Запись изменилась",
    413: "Слишком большой запрос",
    415: "Неподдерживаемый тип данных",
    422: "Ошибка в данных",
    429: "Слишком много запросов",
    500: "Внутренняя ошибка",
}
RUSSIAN_MESSAGES = {
    400: "Запрос составлен неверно.",
    404: "Такой страницы нет.",
    405: "Этот метод здесь не поддерживается.",
    413: "Тело запроса больше допустимого размера.",
    429: "Слишком много запросов. Подождите немного и повторите.",
    500: "Что-то пошло не так. Мы уже знаем об этом.",
}


def wants_json() -> bool:
    """Machine endpoints: the API, feeds, WebSub (hub and callbacks), health and metrics."""
    return request.path.startswith(
        ("/api/", "/feeds/", "/websub/", "/healthz", "/metrics")
    ) or request.path.endswith(("feed.json", "feed.atom"))


def _answer(
    code: int, name: str, message: str, errors: Any = None, headers: dict[str, str] | None = None
) -> Response | tuple[Any, ...]:
    if wants_json():
        payload: dict[str, Any] = {"code": code, "status": name, "message": message}
        if errors:
            payload["errors"] = errors
        response = jsonify(payload)
        response.status_code = code
    else:
        response = Response(
            render_template(
                "error.html", code=code, title=RUSSIAN_TITLES.get(code, name), message=message
            ),
            status=code,
        )
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def handle_service_error(error: ServiceError) -> Any:
    errors = {"json": {error.field: [error.message]}} if error.field else None
    headers = {"WWW-Authenticate": 'Bearer realm="asdg"'} if isinstance(error, AuthError) else None
    code = error.status_code
    return _answer(code, RUSSIAN_TITLES.get(code, "Error"), error.message, errors, headers)


def handle_http_exception(error: HTTPException) -> Any:
    code = error.code or 500
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if errors:
        fields = sorted({f for loc in errors.values() if isinstance(loc, dict) for f in loc})
        message = "Ошибка в полях: " + ", ".join(fields) if fields else "Ошибка в данных"
    else:
        message = data.get("message") or RUSSIAN_MESSAGES.get(code) or error.description or ""
    headers = dict(data.get("headers") or {})
    return _answer(code, error.name, message, errors, headers)


def handle_unexpected(error: Exception) -> Any:
    log.exception("unexpected error", exc_info=error)
    return handle_http_exception(InternalServerError())


def init_app(app: Flask) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
