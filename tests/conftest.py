"""Fixtures: an app on a real database (SQLite file, and PostgreSQL when
``TEST_DATABASE_URL`` is set), a client, a CLI runner and API helpers."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import text

from service import create_app
from service.accounts import create_token
from service.cities import add_city
from service.store.db import init_db, seed_topics
from service.store.models import City, db
from tests.dbutil import pg_base_url, pg_database

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "questionnaires" / "omsk-2020.txt"

BACKENDS = ["sqlite"] + (["postgresql"] if pg_base_url() else [])


def base_config(database_url: str, tmp: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "FEED_AUTHORITY": "test.example",
        "BASE_URL": "http://test.example",
        "WTF_CSRF_ENABLED": False,
        # Every test instance has keys of its own (a temporary directory when none is given).
        "SIGNING_KEY_PATH": str(Path(tmp or tempfile.mkdtemp(prefix="asdg-keys-")) / "keys.json"),
    }


def worker_name() -> str:
    """A database name part unique to this test process (xdist worker, parallel runs)."""
    suffix = os.environ.get("TEST_DB_SUFFIX", "")
    return suffix + os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for every test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app(base_config(f"sqlite:///{path}", path.parent))
    with app.app_context():
        init_db()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    url = pg_database(f"asdg_test_{worker_name()}")
    app = create_app(base_config(url, Path()))
    with app.app_context():
        init_db()
        db.engine.dispose()
    yield url


TABLES = ("entry_topics", "entry_changes", "log_stamps", "entries", "api_tokens", "admin_users",
          "push_subscriptions", "hub_subscriptions", "subscriptions", "cities",
          "topics", "rate_limits")  # fmt: skip


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "asdg.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(base_config(database_url, tmp_path))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(TABLES)
            db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            db.session.commit()
            seed_topics()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def second_app(app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Another process serving the same database (as a second gunicorn worker would)."""
    other = create_app(base_config(database_url, tmp_path))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class Api:
    """Calls to the JSON API with a city's token."""

    def __init__(self, app: Flask, client: FlaskClient) -> None:
        self.app = app
        self.client = client

    def city(self, slug: str = "omsk", name: str = "Омск") -> City:
        with self.app.app_context():
            city = add_city(slug, name, "Регион")
            db.session.expunge(city)
            return city

    def token(self, slug: str | None = "omsk") -> str:
        with self.app.app_context():
            city = db.session.scalar(db.select(City).where(City.slug == slug)) if slug else None
            return create_token(city, "test")[1]

    def headers(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def post(self, path: str, body: Any, token: str | None) -> Any:
        return self.client.post(path, json=body, headers=self.headers(token))

    def put(self, path: str, body: Any, token: str | None) -> Any:
        return self.client.put(path, json=body, headers=self.headers(token))

    def patch(self, path: str, body: Any, token: str | None) -> Any:
        return self.client.patch(path, json=body, headers=self.headers(token))

    def delete(self, path: str, token: str | None) -> Any:
        return self.client.delete(path, headers=self.headers(token))

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        return self.client.get(path, query_string=params, headers=self.headers(token))


@pytest.fixture
def api(app: Flask, client: FlaskClient) -> Api:
    return Api(app, client)


@pytest.fixture
def omsk(api: Api) -> str:
    """The city of Omsk and a token of its own."""
    api.city("omsk", "Омск")
    return api.token("omsk")


@pytest.fixture
def tomsk(api: Api) -> str:
    """The city of Tomsk and a token of its own."""
    api.city("tomsk", "Томск")
    return api.token("tomsk")


@pytest.fixture
def source(tmp_path: Path, sqlite_template: Path) -> Iterator[Any]:
    """Another city's instance, served over real HTTP on 127.0.0.1."""
    from tests.feedserver import sqlite_instance

    instance = sqlite_instance(tmp_path, sqlite_template)
    yield instance
    instance.close()


def practice_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Организационная деятельность: Омск, 2020",
        "area": "Организационная деятельность",
        "year": 2020,
        "summary": "Планирование деятельности Администрации.\n\n- организация мероприятий",
        "achievements": "Проведены Дельфийские игры в онлайн режиме.",
        "plans": "Провести мероприятия Дня города.",
        "assistance": "Обмен опытом с другими городами.",
        "topics": ["organization-hr", "culture"],
        "tags": ["онлайн"],
        "status": "published",
    }
    body.update(over)
    return body


def event_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "День города Омска",
        "starts_on": "2020-08-01",
        "ends_on": "2020-08-02",
        "format": "online",
        "level": "municipal",
        "location": "Омск",
        "participants": 1200,
        "summary": "Праздничные мероприятия в онлайн режиме.",
        "results": "Трансляции посмотрели жители города.",
        "topics": ["culture"],
        "status": "published",
    }
    body.update(over)
    return body


@contextmanager
def running_worker(app: Flask, idle: float = 0.2) -> Iterator[None]:
    """The mirror worker of ``mirror run`` (polls on schedule) in a thread, while inside."""
    from service.mirror import subscriptions

    stop = threading.Event()

    def polls() -> None:
        with app.app_context():
            subscriptions.run_forever(stop=stop, idle=idle)

    thread = threading.Thread(target=polls, name="test-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@pytest.fixture
def server() -> Iterator[Any]:
    """A feed server on 127.0.0.1 (``tests.feedserver.FeedServer``): hostile feeds on demand."""
    from tests.feedserver import FeedServer

    with FeedServer() as s:
        yield s
