"""Bearer tokens on API requests."""

from __future__ import annotations

from flask import request

from service.accounts import principal_for_token
from service.entries.access import Principal
from service.errors import AuthError, PermissionDeniedError

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
    token = _bearer()
    if token is None:
        raise AuthError("Нужен ключ доступа: Authorization: Bearer <ключ>", field="Authorization")
    return principal_for_token(token)


def require_operator() -> Principal:
    principal = require_principal()
    if not principal.operator:
        raise PermissionDeniedError(
            "Нужен ключ оператора сервера (token create --all)", field="Authorization"
        )
    return principal
