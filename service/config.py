"""Configuration: defaults, then ``instance/config.py``, then the environment.

Read once, in :func:`service.create_app`. Every setting of :data:`DEFAULTS`
can be given as an environment variable of the same name, read as the type of
its default (:func:`setting_type`): ``MIRROR_CONCURRENCY=16``,
``MIRROR_ALLOW_PRIVATE_ADDRESSES=on``, ``MIRROR_TIMEOUT=7.5``. A value that does
not fit the type stops the start with :class:`service.errors.ConfigError`
naming the setting, rather than running with a surprise.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from flask import Flask

from service.errors import ConfigError

#: The file in the instance folder that keeps the generated secret key.
SECRET_KEY_FILE = "secret_key"

DEFAULTS: dict[str, Any] = {
    #: None: a random key made once and kept in ``instance/secret_key`` (:func:`secret_key`).
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: SQLite file in the instance folder
    "FEED_AUTHORITY": "localhost",
    "BASE_URL": "http://127.0.0.1:5000",
    "INSTANCE_NAME": "Обмен опытом АСДГ",
    # Mirroring (see feeds/): untrusted input is bounded in size and time.
    #: The instance's Ed25519 signing keys (made on first start); "" = instance/signing-keys.json.
    "SIGNING_KEY_PATH": "",
    "MIRROR_ALLOW_PRIVATE_ADDRESSES": False,
    "MIRROR_MAX_FEED_BYTES": 10 * 1024 * 1024,
    "MIRROR_TIMEOUT": 20.0,
    "MIRROR_INTERVAL": 3600.0,
    "MIRROR_MAX_INTERVAL": 24 * 3600.0,
    "MIRROR_MIN_INTERVAL": 300.0,
    "MIRROR_MAX_REDIRECTS": 5,
    "MIRROR_CONCURRENCY": 8,
    "MIRROR_PER_HOST": 2,
    #: Processes that parse large fetched documents (feeds/workers.py); 0: in the fetch threads.
    "MIRROR_PARSE_PROCESSES": 1,
    "MIRROR_MAX_ARCHIVE_PAGES": 1000,
    "MIRROR_LEASE": 900.0,
    #: Entries (and tombstones) a backfill stores per transaction: short write locks.
    "MIRROR_BATCH_ENTRIES": 250,
    # Publishing
    "FEED_PAGE_SIZE": 50,
    "FEED_CACHE_BYTES": 64 * 1024 * 1024,
    # Search
    "SEARCH_RANK_WINDOW": 5000,
    "SEARCH_RANK_WINDOW_POSTGRESQL": 100,
    "SEARCH_COUNT_LIMIT_POSTGRESQL": 1000,
    # Push (WebSub): this instance is the hub of its own feeds and subscribes to other hubs.
    "WEBSUB_HUB": True,
    "WEBSUB_SUBSCRIBE": True,
    #: Seconds between the worker's looks at the change log and the push work.
    "WEBSUB_TICK": 0.25,
    "HUB_MIN_LEASE": 3600,
    "HUB_DEFAULT_LEASE": 10 * 24 * 3600,
    "HUB_MAX_LEASE": 30 * 24 * 3600,
    "HUB_CONCURRENCY": 8,
    "HUB_PER_HOST": 2,
    "HUB_TIMEOUT": 10.0,
    "HUB_RETRY_MIN": 10.0,
    "HUB_RETRY_MAX": 3600.0,
    "HUB_VERIFY_ATTEMPTS": 3,
    "HUB_MAX_SUBSCRIPTIONS": 10000,
    #: The lease this instance asks other hubs for, and when it renews (before the end).
    "WEBSUB_LEASE": 7 * 24 * 3600,
    #: Polls while push works: this often only (the fallback when pushes stop).
    "MIRROR_PUSH_INTERVAL": 6 * 3600.0,
    # HTTP
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # flask-smorest / OpenAPI
    "API_TITLE": "Обмен опытом АСДГ",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": None,
    "OPENAPI_REDOC_PATH": None,
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    # Admin sessions and login (README, "Security")
    "PERMANENT_SESSION_LIFETIME": 12 * 3600,
    "SESSION_COOKIE_SAMESITE": "Lax",
    #: None: secure (https only) exactly when BASE_URL is https.
    "SESSION_COOKIE_SECURE": None,
    #: A form's CSRF token lives as long as a session: a long note is not lost to an expiry.
    "WTF_CSRF_TIME_LIMIT": 12 * 3600,
    #: Where login attempts are counted: None is this instance's database (every process
    #: shares it); ``redis://host:port`` puts the counters in Redis.
    "RATELIMIT_STORAGE_URI": None,
    #: Failed logins allowed per account and per client address (Flask-Limiter notation).
    "LOGIN_LIMIT_ACCOUNT": "10 per 15 minutes",
    "LOGIN_LIMIT_ADDRESS": "50 per 15 minutes",
    #: Proxies in front of the service whose X-Forwarded-For is trusted (deploy/: nginx, 1).
    "PROXY_COUNT": 0,
}

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
#: The type of settings whose default (None) does not say it; other None defaults are text.
NONE_DEFAULT_TYPES: dict[str, type] = {"SESSION_COOKIE_SECURE": bool}
TYPE_WORDS = {
    bool: "да/нет (1, true, yes, on или 0, false, no, off)",
    int: "целое число",
    float: "число",
    dict: "объект JSON",
    str: "текст",
}


def setting_type(name: str) -> type:
    """The type a setting is read as from the environment: that of its default."""
    default = DEFAULTS[name]
    if default is None:
        return NONE_DEFAULT_TYPES.get(name, str)
    return type(default)


#: Every setting that may come from the environment, with the type to read it as.
ENV_SETTINGS: dict[str, type] = {name: setting_type(name) for name in DEFAULTS}


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def parse_setting(name: str, raw: str) -> Any:
    """A setting's text (from the environment) as its type; ConfigError when it does not fit."""
    kind = setting_type(name)
    text = raw.strip()
    if DEFAULTS[name] is None and not text:
        return None
    try:
        if kind is bool:
            word = text.lower()
            if word not in TRUE_WORDS | FALSE_WORDS:
                raise ValueError(word)
            return word in TRUE_WORDS
        if kind is dict:
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError(text)
            return value
        return raw if kind is str else kind(text)
    except ValueError as error:
        raise ConfigError(
            f"Настройка {name}: ожидается {TYPE_WORDS[kind]}, получено «{raw[:100]}»",
            field=name,
        ) from error


def checked_setting(name: str, value: Any) -> Any:
    """A setting's value (from any source) if it has its type; whole numbers pass as floats."""
    kind = setting_type(name)
    if value is None or (isinstance(value, kind) and not (kind is int and isinstance(value, bool))):
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise ConfigError(
        f"Настройка {name}: ожидается {TYPE_WORDS[kind]}, получено {value!r:.100}", field=name
    )


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Fill ``app.config``: defaults, instance/config.py, environment, test config."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    for name in ENV_SETTINGS:
        if name in os.environ:
            app.config[name] = parse_setting(name, os.environ[name])
    if test_config:
        app.config.from_mapping(test_config)
    for name in DEFAULTS:
        app.config[name] = checked_setting(name, app.config.get(name))

    url = app.config["DATABASE_URL"] or "sqlite:///" + str(Path(app.instance_path) / "asdg.sqlite3")
    app.config["DATABASE_URL"] = normalise_database_url(url)
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["BASE_URL"].startswith("https://")


def secret_key(instance: Path) -> str:
    """The instance's own secret key: read from ``instance/secret_key``, made there once.

    Made with ``O_CREAT | O_EXCL`` and mode 0600, so of several processes starting
    at once exactly one writes it, and the others read the same key (they wait
    for the writer to finish the file).
    """
    path = instance / SECRET_KEY_FILE
    instance.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w") as out:
        out.write(secrets.token_hex(32) + "\n")
    return _read_key(path)


def _read_key(path: Path) -> str:
    for _ in range(100):  # another process made the file and is writing the key
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise ConfigError(
        f"Файл ключа {path} пуст: удалите его, ключ будет создан заново", field="SECRET_KEY"
    )
