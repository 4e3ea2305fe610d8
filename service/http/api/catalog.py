"""``/api/v1/cities`` and ``/api/v1/topics``."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from service.cities import list_cities
from service.http.api.schemas import CitySchema, TopicSchema
from service.store.models import City, Topic, db

bp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="Города и темы")


@bp.route("/cities")
class Cities(MethodView):
    @bp.response(200, CitySchema(many=True))
    def get(self) -> list[City]:
        """Города этого сервера и города, известные по полученным лентам."""
        return list_cities()


@bp.route("/topics")
class Topics(MethodView):
    @bp.response(200, TopicSchema(many=True))
    def get(self) -> list[Topic]:
        """Темы Ассоциации: постоянные коды и русские названия."""
        return list(db.session.scalars(select(Topic).order_by(Topic.position)))
