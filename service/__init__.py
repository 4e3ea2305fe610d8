"""The ASDG city practice exchange: a Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the app (Flask's tutorial pattern)."""
    app = Flask(__name__, instance_relative_config=True)

    from service.config import load_config

    load_config(app, test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Russian stays readable

    from service import api, cli, db, feedviews, handlers, web

    db.init_app(app)
    api.init_app(app)
    web.init_app(app)
    feedviews.init_app(app)
    cli.init_app(app)
    handlers.init_app(app)
    return app
