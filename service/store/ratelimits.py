"""Rate-limit counters in the instance's own database, as a storage of the ``limits`` library.

Flask-Limiter keeps its counters in a ``limits`` storage named by a URI; this
one, ``asdg-db://``, is the ``rate_limits`` table, so every web process
(gunicorn workers, several machines on one PostgreSQL) counts the same
attempts with no extra service. Fixed windows only, the strategy Flask-Limiter
uses by default. Each call runs in its own short transaction on its own
connection: a counted attempt stays counted whatever the request's transaction
does. An increment is one atomic upsert (``INSERT ... ON CONFLICT DO UPDATE``
on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

import random
import time
from typing import Any, cast

from limits.storage import Storage
from sqlalchemy import Table, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from service.store.models import RateLimit, db

TABLE = cast(Table, RateLimit.__table__)
#: One increment in this many also deletes windows that have ended.
CLEANUP_ONE_IN = 100


class DatabaseStorage(Storage):
    """``asdg-db://``: the counters in the ``rate_limits`` table of the app's database."""

    STORAGE_SCHEME = ["asdg-db"]  # noqa: RUF012 (the limits library's declaration)

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    @staticmethod
    def _engine() -> Engine:
        return db.engine  # the app's engine (Flask-Limiter calls inside a request)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        engine = self._engine()
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        ended = TABLE.c.expires <= now
        statement = dialect.insert(TABLE).values(key=key, hits=amount, expires=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[TABLE.c.key],
            set_={
                "hits": case((ended, amount), else_=TABLE.c.hits + amount),
                "expires": case((ended, now + expiry), else_=TABLE.c.expires),
            },
        ).returning(TABLE.c.hits)
        with engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if random.randrange(CLEANUP_ONE_IN) == 0:
                connection.execute(delete(TABLE).where(TABLE.c.expires <= now))
        return int(hits)

    def get(self, key: str) -> int:
        query = select(TABLE.c.hits).where(TABLE.c.key == key, TABLE.c.expires > time.time())
        with self._engine().connect() as connection:
            return int(connection.execute(query).scalar() or 0)

    def get_expiry(self, key: str) -> float:
        query = select(TABLE.c.expires).where(TABLE.c.key == key)
        with self._engine().connect() as connection:
            expires = connection.execute(query).scalar()
        return float(expires) if expires is not None and expires > time.time() else time.time()

    def check(self) -> bool:
        try:
            with self._engine().connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self._engine().begin() as connection:
            return connection.execute(delete(TABLE)).rowcount

    def clear(self, key: str) -> None:
        with self._engine().begin() as connection:
            connection.execute(delete(TABLE).where(TABLE.c.key == key))
