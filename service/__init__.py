"""The ASDG city practice exchange: a Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(
    test_config: dict[str, Any] | None = None, *, instance_path: str | None = None
) -> Flask:
    """Create and configure the app (Flask's tutorial pattern)."""
    # INSTANCE_PATH (absolute): where keys, the secret key and the SQLite file live;
    # by default the "instance" folder next to the code.
    instance_path = instance_path or os.environ.get("INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)

    from service.config import load_config

    load_config(app, test_config)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Russian stays readable

    from service.cli import commands as cli
    from service.http import api, bounds, headers, limits, ops, web, websub
    from service.http import errors as handlers
    from service.http import feeds as feedviews
    from service.store import db

    db.init_app(app)
    api.init_app(app)
    web.init_app(app)
    limits.init_app(app)
    bounds.init_app(app)  # after the upload size is set (web), before any view reads input
    headers.init_app(app)
    feedviews.init_app(app)
    ops.init_app(app)
    websub.init_app(app)
    cli.init_app(app)
    handlers.init_app(app)
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    return app
