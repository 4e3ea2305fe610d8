"""Database set-up: the engine, SQLite pragmas, migrations and ``init_db``."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import Migrate
from flask_migrate import upgrade as alembic_upgrade
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from service.store.models import UNPACK_FUNCTION, Topic, db, unpack_sql
from service.vocab import TOPICS

MIGRATIONS = str(Path(__file__).parent / "migrations")

migrate = Migrate(directory=MIGRATIONS)


def migration(name: str) -> Any:
    """A migration file of ``versions`` (``0010_lemma_search``) as a module, for a later one.

    Their names start with a digit, so ``import`` cannot name them.
    """
    path = Path(MIGRATIONS, "versions", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"migration_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: the pragmas, and the function the search index's triggers call.

    A connection without :data:`UNPACK_FUNCTION` (the ``sqlite3`` shell) cannot
    write an entry: its triggers fail ("no such function"), the index stays right.
    """
    dbapi_connection.create_function(UNPACK_FUNCTION, 1, unpack_sql, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def init_app(app: Flask) -> None:
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db)
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_connection)


def seed_topics() -> None:
    """Insert or rename the shipped topics; never removes one in use."""
    existing = {t.code: t for t in db.session.scalars(select(Topic))}
    for position, (code, name) in enumerate(TOPICS):
        topic = existing.get(code)
        if topic is None:
            db.session.add(Topic(code=code, name=name, position=position))
        else:
            topic.name, topic.position = name, position
    db.session.commit()


def init_db() -> None:
    """Bring the schema to the newest migration and load the topic list.

    Safe to run again on a database with data: migrations keep existing rows.
    """
    alembic_upgrade(directory=MIGRATIONS)
    seed_topics()
