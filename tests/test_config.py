"""Settings: every one readable from the environment as its type; bad values stop the start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from service import create_app
from service.config import DEFAULTS, ENV_SETTINGS, setting_type
from service.errors import ConfigError

#: A text for each type and the value it must become.
SAMPLES: dict[type, tuple[str, Any]] = {
    bool: ("on", True),
    int: (" 12 ", 12),
    float: ("7.5", 7.5),
    str: ("Обмен опытом", "Обмен опытом"),
    dict: ('{"pool_pre_ping": true}', {"pool_pre_ping": True}),
}
#: Settings a sample value would break the app with (where the database is, its options).
KEEP = {
    "DATABASE_URL",
    "SQLALCHEMY_ENGINE_OPTIONS",
    "BASE_URL",
    "OPENAPI_URL_PREFIX",
    "OPENAPI_JSON_PATH",
    "OPENAPI_SWAGGER_UI_PATH",
    "OPENAPI_REDOC_PATH",
    "OPENAPI_VERSION",
    "RATELIMIT_STORAGE_URI",
    "LOGIN_LIMIT_ACCOUNT",
    "LOGIN_LIMIT_ADDRESS",
    "SESSION_COOKIE_SAMESITE",
}


def _app(tmp_path: Path, **config: Any) -> Any:
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'c.sqlite3'}", **config})


def test_every_setting_is_read_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert set(ENV_SETTINGS) == set(DEFAULTS)
    for name in ("MIRROR_CONCURRENCY", "MIRROR_PER_HOST", "MIRROR_LEASE", "FEED_CACHE_BYTES"):
        assert name in ENV_SETTINGS
    expected = {}
    for name in DEFAULTS:
        if name in KEEP:
            continue
        text, value = SAMPLES[setting_type(name)]
        monkeypatch.setenv(name, text)
        expected[name] = value
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")
    for name, value in expected.items():
        assert app.config[name] == value, name
        assert type(app.config[name]) is type(value), name


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("MIRROR_CONCURRENCY", "many"),
        ("MIRROR_CONCURRENCY", "2.5"),
        ("MIRROR_TIMEOUT", "20s"),
        ("MIRROR_ALLOW_PRIVATE_ADDRESSES", "yes please"),
        ("FEED_PAGE_SIZE", ""),
        ("SQLALCHEMY_ENGINE_OPTIONS", "[1, 2]"),
        ("SQLALCHEMY_ENGINE_OPTIONS", "{broken"),
    ],
)
def test_a_bad_value_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, text: str
) -> None:
    monkeypatch.setenv(name, text)
    with pytest.raises(ConfigError) as caught:
        _app(tmp_path)
    assert caught.value.field == name
    assert name in caught.value.message and "ожидается" in caught.value.message


@pytest.mark.parametrize(
    ("text", "value"), [("1", True), ("Off", False), ("no", False), ("", False)]
)
def test_switches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, value: bool) -> None:
    monkeypatch.setenv("MIRROR_ALLOW_PRIVATE_ADDRESSES", text)
    assert _app(tmp_path).config["MIRROR_ALLOW_PRIVATE_ADDRESSES"] is value


def test_the_environment_wins_over_the_defaults_and_empty_means_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIRROR_PER_HOST", "5")
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "")  # empty: None, which means "as BASE_URL"
    app = _app(tmp_path)
    assert app.config["MIRROR_PER_HOST"] == 5 and app.config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.setenv("BASE_URL", "https://omsk.example")
    assert _app(tmp_path).config["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("WTF_CSRF_TIME_LIMIT", "3600")
    assert _app(tmp_path).config["WTF_CSRF_TIME_LIMIT"] == 3600


def test_config_files_are_checked_too(tmp_path: Path) -> None:
    assert _app(tmp_path, MIRROR_INTERVAL=2).config["MIRROR_INTERVAL"] == 2.0
    with pytest.raises(ConfigError) as caught:
        _app(tmp_path, MIRROR_CONCURRENCY="8")
    assert caught.value.field == "MIRROR_CONCURRENCY"
    with pytest.raises(ConfigError):
        _app(tmp_path, FEED_PAGE_SIZE=True)


def test_the_mirror_takes_its_settings_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import timedelta

    from service.mirror.settings import settings

    values = {"MIRROR_CONCURRENCY": "3", "MIRROR_PER_HOST": "1", "MIRROR_LEASE": "60"}
    values |= {"MIRROR_TIMEOUT": "4.5", "MIRROR_MAX_ARCHIVE_PAGES": "7"}
    for name, text in values.items():
        monkeypatch.setenv(name, text)
    mirror = settings(_app(tmp_path))
    assert (mirror.concurrency, mirror.per_host, mirror.max_pages) == (3, 1, 7)
    assert mirror.lease == timedelta(seconds=60) and mirror.fetch.timeout == 4.5
