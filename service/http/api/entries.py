"""``/api/v1/practices`` and ``/api/v1/events``: one blueprint factory, two kinds."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from service.entries import service as entries
from service.entries.filters import EntryFilter
from service.http.api.schemas import (
    EntryQuerySchema,
    EventInSchema,
    EventOutSchema,
    PracticeInSchema,
    PracticeOutSchema,
    page_schema,
)
from service.http.api.security import optional_principal, require_principal
from service.store.models import Entry

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def entry_blueprint(
    kind: str, in_schema: type[Any], out_schema: type[Any], title: str
) -> Blueprint:
    plural = f"{kind}s"
    bp = Blueprint(plural, __name__, url_prefix=f"/api/v1/{plural}", description=title)
    partial_schema = in_schema(partial=True)

    @bp.route("")
    class Collection(MethodView):
        @bp.arguments(EntryQuerySchema, location="query")
        @bp.response(200, page_schema(out_schema))
        def get(self, args: dict[str, Any]) -> dict[str, Any]:
            """Список опубликованных записей (с ключом города — и его черновики).

            Отбор: ``city``, ``topic``, ``year``, ``origin``, ``status``; страницы —
            ``page`` и ``per_page``. Новые записи первыми.
            """
            page, per_page = args.pop("page"), args.pop("per_page")
            if args.get("kind", kind) != kind:
                return {"items": [], "page": page, "per_page": per_page, "total": 0, "pages": 1}
            args["kind"] = kind
            result = entries.list_entries(
                EntryFilter(**args), page=page, per_page=per_page, viewer=optional_principal()
            )
            return {
                "items": result.items,
                "page": result.page,
                "per_page": result.per_page,
                "total": result.total,
                "pages": result.pages,
            }

        @bp.arguments(in_schema)
        @bp.response(201, out_schema)
        @bp.doc(security=SECURITY)
        def post(self, data: dict[str, Any]) -> Entry:
            """Создать запись города, которому выдан ключ.

            Ключ оператора указывает город в поле ``city``. Ответ — созданная
            запись с её глобальным ``id`` (tag: URI).
            """
            principal = require_principal()
            city = entries.resolve_city(principal, data.pop("city", None))
            return entries.create_entry(kind, data, city=city)

    @bp.route("/<path:entry_id>")
    class Item(MethodView):
        @bp.response(200, out_schema)
        def get(self, entry_id: str) -> Entry:
            """Одна запись по её ``id`` (tag: URI) или местному номеру (``local_id``)."""
            return entries.get_entry(kind, entry_id, viewer=optional_principal())

        @bp.arguments(in_schema)
        @bp.response(200, out_schema)
        @bp.doc(security=SECURITY)
        def put(self, data: dict[str, Any], entry_id: str) -> Entry:
            """Заменить запись целиком: поля, которых нет в теле, становятся пустыми."""
            return _write(entry_id, data)

        @bp.arguments(partial_schema)
        @bp.response(200, out_schema)
        @bp.doc(security=SECURITY)
        def patch(self, data: dict[str, Any], entry_id: str) -> Entry:
            """Изменить только переданные поля записи."""
            return _write(entry_id, data)

        @bp.response(204)
        @bp.doc(security=SECURITY)
        def delete(self, entry_id: str) -> None:
            """Удалить запись; об удалении опубликованной записи узнают ленты (RFC 6721)."""
            entry = entries.get_entry_for_write(kind, entry_id, require_principal())
            entries.delete_entry(entry)

    def _write(entry_id: str, data: dict[str, Any]) -> Entry:
        principal = require_principal()
        entry = entries.get_entry_for_write(kind, entry_id, principal)
        entries.ensure_same_city(entry, data.pop("city", None), principal)
        return entries.update_entry(entry, data)

    return bp


practices_bp = entry_blueprint(
    "practice", PracticeInSchema, PracticeOutSchema, "Практики: годовые записки подразделений"
)
events_bp = entry_blueprint("event", EventInSchema, EventOutSchema, "Мероприятия и их итоги")
