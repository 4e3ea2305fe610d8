"""packed texts: no stored vectors on PostgreSQL, compressed long texts on SQLite

The search index keeps the same words (migration 0010_lemma_search); what
changes is what the rows store beside it.

- PostgreSQL: the generated ``search_vector`` and ``search_words`` columns
  (some 15 KB a row of long notes, the largest part of the database) are
  dropped. The GIN index ``ix_entries_search_words`` is built on the function
  ``asdg_search_words()``, which computes what the column held (the stripped
  lemmas of ``search_text`` and the filter lexemes); queries call that very
  function (service.entries.search), so they read the index, and the few
  ranked entries of a page compute their positional vector from
  ``search_text`` when ranked.
- SQLite: ``search_text`` and the long texts of a record (:data:`PACKED`)
  become BLOBs, zstd-compressed with the change log's dictionary
  (service.store.models.PackedText), as PostgreSQL's TOAST compresses them
  there. The FTS5 triggers get the search text back through the SQL function
  ``asdg_unpack``, which every connection of the service registers
  (service.store.db); the index is rebuilt from the converted rows.

Downgrade restores 0010's columns and triggers and writes the text back.

Revision ID: 0013_packed_texts
Revises: 0010_lemma_search
"""

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.store.db import migration
from service.store.models import UNPACK_FUNCTION, unpack_text
from service.store.snapshots import compress

revision = "0013_packed_texts"
down_revision = "0010_lemma_search"
branch_labels = None
depends_on = None

BATCH = 500

v0010 = migration("0010_lemma_search")


def _unpacked(row: str) -> str:
    return f"{UNPACK_FUNCTION}({row}.search_text)"


DROP_TRIGGERS = v0010.v0002.SQLITE_DOWN[:3]
EMPTY_INDEX = "INSERT INTO entries_fts(entries_fts) VALUES ('delete-all')"

#: The words a search matches on PostgreSQL (0010's ``search_words``) as a function:
#: not inlined (its ``SET``), so the planner sees its true cost (``COST``: it lemmatizes
#: nothing but still parses the whole text) and reads the index instead of computing it
#: row by row along another index.
WORDS_FUNCTION = (
    "CREATE FUNCTION asdg_search_words(search_text text, status text, origin text, kind text,"
    " city_id integer, year integer, format text, level text) RETURNS tsvector"
    " LANGUAGE sql IMMUTABLE PARALLEL SAFE COST 5000 SET search_path = pg_catalog"
    f" AS $$ SELECT {v0010.SEARCH_WORDS} $$"
)
WORDS_ARGUMENTS = "search_text, status, origin, kind, city_id, year, format, level"
POSTGRESQL_UP = (
    "DROP INDEX IF EXISTS ix_entries_search_words",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_words, DROP COLUMN IF EXISTS search_vector",
    WORDS_FUNCTION,
    "CREATE INDEX ix_entries_search_words ON entries USING GIN "
    f"(asdg_search_words({WORDS_ARGUMENTS})) WITH (fastupdate = off)",
)
POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_entries_search_words",
    "DROP FUNCTION IF EXISTS asdg_search_words",
    *v0010.POSTGRESQL_UP,
)


#: The columns of ``entries`` that SQLite stores compressed.
PACKED = (
    "search_text",
    "summary",
    "achievements",
    "plans",
    "assistance",
    "body",
    "results",
    "content_html",
)
_SELECT = f"SELECT id, {', '.join(PACKED)} FROM entries WHERE id > :last ORDER BY id LIMIT :n"
_UPDATE = f"UPDATE entries SET {', '.join(f'{c} = :{c}' for c in PACKED)} WHERE id = :id"


def _rewrite(convert: Callable[[Any], Any]) -> None:
    """Rewrite the :data:`PACKED` columns of every entry with ``convert`` (stored -> new)."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.text(_SELECT), {"last": last, "n": BATCH}).all()
        if not rows:
            return
        bind.execute(
            sa.text(_UPDATE),
            [
                {"id": row[0], **{c: convert(v) for c, v in zip(PACKED, row[1:], strict=True)}}
                for row in rows
            ],
        )
        last = rows[-1][0]


def _pack(value: Any) -> bytes | None:
    text = unpack_text(value)
    return None if text is None else compress(text.encode())


def _sqlite(convert: Callable[[Any], Any], text: Callable[[str], str]) -> None:
    for statement in DROP_TRIGGERS:
        op.execute(statement)
    _rewrite(convert)
    for statement in (*v0010.triggers(text), EMPTY_INDEX, v0010.fill(text)):
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite(_pack, _unpacked)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_UP:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite(unpack_text, v0010.stored)
    elif dialect == "postgresql":
        for statement in POSTGRESQL_DOWN:
            op.execute(statement)
