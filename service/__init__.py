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

    from service.cli import commands as cli
    from service.http import api, web
    from service.http import errors as handlers
    from service.http import feeds as feedviews
    from service.store import db

    db.init_app(app)
    api.init_app(app)
    web.init_app(app)
    feedviews.init_app(app)
    cli.init_app(app)
    handlers.init_app(app)
    return app
