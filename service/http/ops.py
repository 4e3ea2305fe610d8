"""Operations endpoints: ``GET /healthz`` and ``GET /metrics``.

``/healthz`` (contract) answers 200 with a small JSON body when the database
answers a query, 503 otherwise: load balancers, systemd watchdogs and
monitoring call it. ``/metrics`` is the Prometheus text format
(:mod:`service.metrics`); the nginx configuration in ``deploy/`` lets only the
monitoring hosts reach it.
"""

from __future__ import annotations

import contextlib
import logging
import time

from flask import Blueprint, Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

import service.metrics as metrics
from service.store.models import db
from service.trust import keys

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

NO_STORE = "no-store"


@bp.get("/healthz")
def healthz() -> Response:
    """200 when the database answers, 503 (with the reason) when it does not."""
    started = time.perf_counter()
    dialect = db.engine.dialect.name
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as error:
        log.warning("health check: the database does not answer: %s", error)
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        db.session.remove()
        response = jsonify({"status": "error", "database": "unavailable", "dialect": dialect})
        response.status_code = 503
        response.headers["Cache-Control"] = NO_STORE
        response.headers["Retry-After"] = "10"
        return response
    body: dict[str, str | float] = {
        "status": "ok",
        "database": "ok",
        "dialect": dialect,
        "seconds": round(time.perf_counter() - started, 4),
    }
    response = jsonify(body)
    response.headers["Cache-Control"] = NO_STORE
    return response


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    response = Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)
    response.headers["Cache-Control"] = NO_STORE
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/.well-known/asdg.json")
def well_known() -> Response:
    """This instance's public signing keys (origin authenticity): site, key ids, rotations."""
    response = jsonify(keys.well_known())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
