"""Placeholder for the reader's and admin's pages (see issue 5)."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("web", __name__)


@bp.route("/")
def index() -> str:
    return render_template("index.html")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
