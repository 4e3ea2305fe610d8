"""Rate limits on logging in (Flask-Limiter), per account and per client address.

Only failed attempts count (a 401 answer): ``LOGIN_LIMIT_ACCOUNT`` per email
and ``LOGIN_LIMIT_ADDRESS`` per client address. Past either, the login answers
429 for the rest of the window, even to the right password. The counters live
in this instance's database by default (:mod:`service.store.ratelimits`), so
every web process shares them; ``RATELIMIT_STORAGE_URI=redis://host:port`` puts
them in Redis instead. Each app has its own :class:`Limiter` (the extension
keeps one storage per instance), made in :func:`init_app`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, current_app, render_template, request
from flask.wrappers import Response
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address

import service.store.ratelimits  # noqa: F401  (registers the asdg-db:// storage)

#: The endpoint that is limited.
LOGIN = "admin.login"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _account() -> str:
    return "account:" + request.form.get("email", "").strip().lower()[:300]


def too_many_attempts(error: RateLimitExceeded) -> tuple[str, int, dict[str, str]]:
    """The login page again, saying when to try next (429 with Retry-After)."""
    limiter: Limiter = current_app.extensions["asdg_limiter"]
    window = limiter.current_limit
    seconds = max(1, math.ceil(window.reset_at - time.time())) if window else 60
    minutes = math.ceil(seconds / 60)
    message = f"Слишком много неудачных попыток входа. Попробуйте снова через {minutes} мин."
    html = render_template("admin/login.html", email=request.form.get("email", ""), error=message)
    return html, 429, {"Retry-After": str(seconds)}


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "asdg")
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = "asdg-db://"
    limiter = Limiter(key_func=get_remote_address, app=app)
    app.extensions["asdg_limiter"] = limiter
    limits: list[tuple[str, Any]] = [
        (app.config["LOGIN_LIMIT_ACCOUNT"], _account),
        (app.config["LOGIN_LIMIT_ADDRESS"], get_remote_address),
    ]
    view: Any = app.view_functions[LOGIN]
    for value, key in limits:
        view = limiter.limit(value, key_func=key, methods=["POST"], deduct_when=_failed)(view)
    app.view_functions[LOGIN] = view
    app.register_error_handler(RateLimitExceeded, too_many_attempts)
