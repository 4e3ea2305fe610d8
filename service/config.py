"""Configuration: defaults, then ``instance/config.py``, then the environment.

Read once, in :func:`service.create_app`. Every setting the contract names can
be given as an environment variable of the same name.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

#: Settings that may come from the environment, with the type to read them as.
ENV_SETTINGS: dict[str, type] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "FEED_AUTHORITY": str,
    "BASE_URL": str,
    "INSTANCE_NAME": str,
    "MIRROR_ALLOW_PRIVATE_ADDRESSES": bool,
    "MIRROR_MAX_FEED_BYTES": int,
    "MIRROR_TIMEOUT": float,
    "MIRROR_INTERVAL": int,
    "FEED_PAGE_SIZE": int,
}

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": "dev",
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "FEED_AUTHORITY": "localhost",
    "BASE_URL": "http://127.0.0.1:5000",
    "INSTANCE_NAME": "Обмен опытом АСДГ",
    # Mirroring (see feeds/): untrusted input is bounded in size and time.
    "MIRROR_ALLOW_PRIVATE_ADDRESSES": False,
    "MIRROR_MAX_FEED_BYTES": 10 * 1024 * 1024,
    "MIRROR_TIMEOUT": 20.0,
    "MIRROR_INTERVAL": 3600,
    "MIRROR_MAX_INTERVAL": 24 * 3600,
    "MIRROR_MIN_INTERVAL": 300,
    "MIRROR_MAX_REDIRECTS": 5,
    "MIRROR_CONCURRENCY": 8,
    "MIRROR_PER_HOST": 2,
    "MIRROR_MAX_ARCHIVE_PAGES": 1000,
    # Publishing
    "FEED_PAGE_SIZE": 50,
    # HTTP
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # flask-smorest / OpenAPI
    "API_TITLE": "ASDG practice exchange",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": None,
    "OPENAPI_REDOC_PATH": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "WTF_CSRF_TIME_LIMIT": None,
}

TRUE_WORDS = {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _from_env(name: str, kind: type) -> Any:
    raw = os.environ[name]
    if kind is bool:
        return raw.strip().lower() in TRUE_WORDS
    return kind(raw)


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Fill ``app.config``: defaults, instance/config.py, environment, test config."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name, kind in ENV_SETTINGS.items():
        if name in os.environ:
            app.config[name] = _from_env(name, kind)
    if test_config:
        app.config.from_mapping(test_config)

    url = app.config["DATABASE_URL"] or "sqlite:///" + str(Path(app.instance_path) / "asdg.sqlite3")
    app.config["DATABASE_URL"] = normalise_database_url(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
