"""Security headers on every answer: one ``after_request`` hook.

The Content-Security-Policy allows no inline script or style (templates have
none: CSS in ``static/style.css``, JS in ``static/*.js``), images only from this
site and ``data:`` URLs (remote images in notes and mirrored content become
links, :mod:`feeds.html`), no framing (``frame-ancestors 'none'``, and the old
``X-Frame-Options`` for browsers without CSP level 2), no MIME sniffing, and
the referrer only to this site.
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def add_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_headers)
