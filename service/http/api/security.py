"""Bearer tokens on API requests."""

from __future__ import annotations

from flask import g, request

from service.accounts import principal_for_token
from service.entries.access import Principal, check_instance_admin
from service.errors import AuthError

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

BEARER_SCHEME = {"type": "http", "scheme": "bearer"}


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("Ожидается заголовок Authorization: Bearer <ключ>", field="Authorization")
    return token.strip()


def optional_principal() -> Principal | None:
    """The caller of a public read, if it sent a token (to see its drafts)."""
    token = _bearer()
    return principal_for_token(token) if token else None


def require_principal() -> Principal:
    """The caller of a write; 401 without a valid token (once per request)."""
    principal: Principal | None = g.get("api_principal")
    if principal is None:
        token = _bearer()
        if token is None:
            raise AuthError(
                "Нужен ключ доступа: Authorization: Bearer <ключ>", field="Authorization"
            )
        principal = g.api_principal = principal_for_token(token)
    return principal


def authenticate_writes() -> None:
    """Every write to the API is authenticated before its body is read or validated."""
    if request.path.startswith("/api/") and request.method not in SAFE_METHODS:
        require_principal()


def require_operator() -> Principal:
    """Instance-wide settings: the one rule of service.entries.access."""
    return check_instance_admin(require_principal())
