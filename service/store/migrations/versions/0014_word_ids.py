"""word ids: PostgreSQL indexes the numbers of an entry's words, not the words

PostgreSQL only (SQLite's FTS5 index is unchanged). 0010's ``search_words``
(a stripped ``tsvector``: the distinct lemmas and the filter lexemes, some
6.5 KB a row of a long note, with its GIN index) becomes ``search_ids``, the
same lexemes as ``int4`` numbers (``hashtext``), some 1.8 KB, with a GIN index
of the ``intarray`` extension (``gin__int_ops``), which also gives the
``query_int`` type a search is written in (service.entries.search). The
column is generated from the same expression, so it follows every write.
``intarray`` ships with PostgreSQL and is a trusted extension: the owner of
the database may create it.

Downgrade restores 0010's ``search_words`` and its index.

Revision ID: 0014_word_ids
Revises: 0013_packed_texts
"""

from alembic import op

from service.store.db import migration

revision = "0014_word_ids"
down_revision = "0013_packed_texts"
branch_labels = None
depends_on = None

v0010 = migration("0010_lemma_search")

#: The numbers of a tsvector's lexemes, sorted and distinct: ``query_int``'s ``@@`` sorts
#: an unsorted array each time it reads one (six times slower than the tsvector's match);
#: a sorted one it searches as it is (three times faster). Immutable: a generated column
#: may call it.
WORD_IDS_FUNCTION = (
    "CREATE FUNCTION asdg_word_ids(words tsvector) RETURNS int4[] "
    "IMMUTABLE STRICT PARALLEL SAFE LANGUAGE sql AS "
    "$$ SELECT coalesce(array_agg(DISTINCT n ORDER BY n), '{}') FROM "
    "(SELECT hashtext(w) AS n FROM unnest(pg_catalog.tsvector_to_array(words)) AS w) AS ids $$"
)
POSTGRESQL_UP = (
    "CREATE EXTENSION IF NOT EXISTS intarray",
    WORD_IDS_FUNCTION,
    *v0010.POSTGRESQL_DOWN,
    f"ALTER TABLE entries ADD COLUMN search_ids int4[] GENERATED ALWAYS AS "
    f"(asdg_word_ids({v0010.SEARCH_WORDS})) STORED, "
    "ALTER COLUMN search_ids SET STORAGE MAIN",
    "CREATE INDEX ix_entries_search_ids ON entries USING GIN (search_ids gin__int_ops) "
    "WITH (fastupdate = off)",
)
POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_entries_search_ids",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_ids",
    "DROP FUNCTION IF EXISTS asdg_word_ids(tsvector)",
    f"ALTER TABLE entries ADD COLUMN search_words tsvector GENERATED ALWAYS AS "
    f"({v0010.SEARCH_WORDS}) STORED, ALTER COLUMN search_words SET STORAGE MAIN",
    v0010.POSTGRESQL_UP[1],
)


def _run(statements: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def upgrade():
    _run(POSTGRESQL_UP)


def downgrade():
    _run(POSTGRESQL_DOWN)
