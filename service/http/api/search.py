"""``/api/v1/search``: full-text search over own and mirrored entries."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields

from service.entries.filters import EntryFilter
from service.entries.search import MAX_QUERY_LENGTH, search_entries
from service.http.api.fields import BaseSchema, Str, length, not_blank
from service.http.api.schemas import EntryOutSchema, EntryQuerySchema
from service.http.api.security import optional_principal

bp = Blueprint("search", __name__, url_prefix="/api/v1", description="Полнотекстовый поиск")


class SearchQuerySchema(EntryQuerySchema):
    q = Str(
        required=True,
        validate=[length(MAX_QUERY_LENGTH), not_blank],
        metadata={"description": "Слова для поиска, в любой форме"},
    )

    class Meta(EntryQuerySchema.Meta):
        exclude = ("status",)


class SearchHitSchema(BaseSchema):
    entry = fields.Nested(EntryOutSchema)
    snippet = fields.String(metadata={"description": "HTML: лучший отрывок, совпадения в <mark>"})
    # Not named ``partial``: that is a marshmallow schema option.
    is_partial = fields.Boolean(
        attribute="partial",
        data_key="partial",
        metadata={"description": "В записи есть только часть слов запроса (такие идут последними)"},
    )


class SearchPageSchema(BaseSchema):
    q = fields.String()
    items = fields.List(fields.Nested(SearchHitSchema))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    complete = fields.Integer(
        metadata={"description": "Сколько найденных записей содержат все слова"}
    )
    total_exact = fields.Boolean(
        metadata={
            "description": "false: записей больше, чем `total` (PostgreSQL считает совпадения "
            "только до 1 000 или до конца следующей страницы); страницы дальше тоже есть"
        }
    )
    pages = fields.Integer()


@bp.route("/search")
class Search(MethodView):
    @bp.arguments(SearchQuerySchema, location="query")
    @bp.response(200, SearchPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Записи этого сервера и полученные из сети, в которых есть слова; лучшие первыми.

        С учётом форм слов: «мероприятие» находит и «мероприятий». Синтаксис
        поиска (кавычки, `*`, `NEAR`, `OR`, скобки) не действует: важны только слова.
        """
        page, per_page, text = args.pop("page"), args.pop("per_page"), args.pop("q")
        result = search_entries(
            text, EntryFilter(**args), page=page, per_page=per_page, viewer=optional_principal()
        )
        return {
            "q": text,
            "items": result.hits,
            "page": result.page.page,
            "per_page": result.page.per_page,
            "total": result.page.total,
            "complete": result.complete,
            "total_exact": result.total_exact,
            "pages": result.page.pages,
        }
