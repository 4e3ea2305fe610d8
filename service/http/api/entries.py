"""``/api/v1/practices`` and ``/api/v1/events``: one blueprint factory, two kinds."""

from __future__ import annotations

from typing import Any

from flask import request
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
#: What a write answers with: the entry and its new entity tag.
Answer = tuple[Entry, int, dict[str, str]]
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "ETag, полученный при чтении записи: изменить, только если запись с тех пор "
    "не менялась (иначе 412)",
}


def _tagged(entry: Entry, status: int = 200) -> Answer:
    return entry, status, {"ETag": entries.etag(entry)}


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
        def post(self, data: dict[str, Any]) -> Answer:
            """Создать запись города, которому выдан ключ.

            Запись — черновик, если не указан ``status``. Ключ оператора
            указывает город в поле ``city``. Ответ — созданная запись с её
            глобальным ``id`` (tag: URI).
            """
            principal = require_principal()
            city = entries.resolve_city(principal, data.pop("city", None))
            return _tagged(entries.create_entry(kind, data, city=city), 201)

    @bp.route("/<path:entry_id>")
    class Item(MethodView):
        @bp.response(200, out_schema)
        def get(self, entry_id: str) -> Answer:
            """Одна запись по её ``id`` (tag: URI) или местному номеру (``local_id``);
            ``ETag`` называет её версию."""
            return _tagged(entries.get_entry(kind, entry_id, viewer=optional_principal()))

        @bp.arguments(in_schema)
        @bp.response(200, out_schema)
        @bp.doc(security=SECURITY, parameters=[IF_MATCH])
        def put(self, data: dict[str, Any], entry_id: str) -> Answer:
            """Заменить запись целиком: обязательные поля нужно передать, необязательные,
            которых нет в теле, становятся пустыми; статус меняется, только если передан
            ``status``."""
            return _tagged(_write(entry_id, data, entries.replace_entry))

        @bp.arguments(partial_schema)
        @bp.response(200, out_schema)
        @bp.doc(security=SECURITY, parameters=[IF_MATCH])
        def patch(self, data: dict[str, Any], entry_id: str) -> Answer:
            """Изменить только переданные поля записи."""
            return _tagged(_write(entry_id, data, entries.update_entry))

        @bp.response(204)
        @bp.doc(security=SECURITY, parameters=[IF_MATCH])
        def delete(self, entry_id: str) -> None:
            """Удалить запись; об удалении опубликованной записи узнают ленты (RFC 6721)."""
            entry = entries.get_entry_for_write(
                kind, entry_id, require_principal(), if_match=request.headers.get("If-Match")
            )
            entries.delete_entry(entry)

    def _write(entry_id: str, data: dict[str, Any], change: Any) -> Entry:
        principal = require_principal()
        if_match = request.headers.get("If-Match")
        entry = entries.get_entry_for_write(kind, entry_id, principal, if_match=if_match)
        entries.ensure_same_city(entry, data.pop("city", None), principal)
        result: Entry = change(entry, data)
        return result

    return bp


practices_bp = entry_blueprint(
    "practice", PracticeInSchema, PracticeOutSchema, "Практики: годовые записки подразделений"
)
events_bp = entry_blueprint("event", EventInSchema, EventOutSchema, "Мероприятия и их итоги")
