"""packed texts: no positional vector on PostgreSQL, compressed long texts on SQLite

The search index keeps the same words (migration 0010_lemma_search); what
changes is what the rows store beside it.

- PostgreSQL: the generated positional ``search_vector`` (some 9 KB a row of
  a long note), which only ranking read, is dropped; the few ranked entries
  of a page make their positional vector from ``search_text`` when ranked.
  ``search_words`` (the stripped lemmas and the filter lexemes) stays stored
  with its GIN index: matching and counting read it. (Computing it in an
  index on an expression instead saved another 6.5 KB a row but made
  searches for common words ten times slower: the planner can no longer
  filter the newest rows by a cheap stored column.)
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

#: PostgreSQL keeps 0010's ``search_words`` (stored, GIN-indexed: what matching, filtering
#: and counting read) and drops the positional vector, which only ranking read: a ranked entry's
#: vector is made from ``search_text`` (service.entries.search).
POSTGRESQL_UP = ("ALTER TABLE entries DROP COLUMN IF EXISTS search_vector",)
POSTGRESQL_DOWN = (
    "ALTER TABLE entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, split_part(search_text, '|', 1))) STORED",
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
