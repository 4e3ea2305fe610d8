"""Test databases: fresh SQLite files and PostgreSQL databases on the local server."""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

PG_ENV = "TEST_DATABASE_URL"


def pg_base_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pg_database(name: str) -> str:
    """A fresh, empty PostgreSQL database called NAME on the test server; its URL."""
    base = make_url(pg_base_url() or "")
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(name)
    admin = base.set(drivername="postgresql", database=base.database or "postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = base.set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def pg_clone(template: str, name: str) -> str:
    """A fresh database NAME copied from the (migrated) database TEMPLATE; its URL.

    ``CREATE DATABASE ... TEMPLATE`` copies files: much quicker than migrating
    a new database. Nobody may be connected to the template meanwhile.
    """
    base = make_url(pg_base_url() or "")
    for part in (template, name):
        if not re.fullmatch(r"[a-z0-9_]+", part):
            raise ValueError(part)
    admin = base.set(drivername="postgresql", database=base.database or "postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return base.set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False
    )


def instance_database(backend: str, prefix: str, name: str, tmp_path: Path) -> str:
    """The database of test instance ``name``: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
    worker = os.environ.get("TEST_DB_SUFFIX", "") + os.environ.get("PYTEST_XDIST_WORKER", "main")
    return pg_database(f"{prefix}_{name}_{worker}")
