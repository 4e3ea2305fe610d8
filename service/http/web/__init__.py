"""The HTML site: reading pages for everyone and admin pages for cities.

Server-rendered Russian pages that work without JavaScript. The views are thin:
they read and check input (through the same marshmallow schemas as the API),
call service functions and render templates.
"""

from __future__ import annotations

from flask import Flask, current_app, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from service.http.errors import wants_json
from service.http.web import admin, feedlist, helpers, imports, network, reading

csrf = CSRFProtect()


def _protect_forms() -> None:
    """Check the CSRF token of every form post on the site.

    The API and the feeds are exempt by path (the same test the error handler
    uses): the API authenticates with bearer tokens, not cookies, and feeds
    are read-only. Checking by path rather than by blueprint keeps blueprints
    added later to /api/ and /feeds/ exempt, and every HTML form protected.
    """
    if current_app.config["WTF_CSRF_ENABLED"] and not wants_json():
        csrf.protect()


def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    message = (
        "Форма устарела или отправлена не с этого сайта. "
        "Обновите страницу и отправьте форму ещё раз."
    )
    return render_template("error.html", code=400, title="Форма не принята", message=message), 400


def init_app(app: Flask) -> None:
    # The check is made by _protect_forms, not by CSRFProtect's own hook.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(imports.allow_uploads)  # before the form is read
    app.before_request(_protect_forms)
    app.register_error_handler(CSRFError, _csrf_failed)
    helpers.init_app(app)
    app.register_blueprint(reading.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(feedlist.bp)
    app.register_blueprint(network.bp)
