"""full-text search index

SQLite: a contentless FTS5 table with two columns, kept in step with
``entries`` by triggers: ``search_text`` (the snowball-stemmed words that
service.entries.refresh_search_text keeps) and ``facets``, one token per value
the lists filter on (status, origin, kind, city, year: ``zspublished zolocal
zkpractice zc12 zy2020``), so that a search filters inside the index and never
reads the entries' long rows (see service.search). PostgreSQL: a generated
``tsvector`` column with the ``russian`` configuration over the entry's own
text, and a GIN index. Either way the index follows every insert, update and
delete of ``entries``, whoever writes them (service functions, mirroring, bulk
loads).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _facets(row: str) -> str:
    """The facet tokens of a row (``new`` or ``old`` in a trigger, a table name in a SELECT).

    service.search.facet() makes the same tokens for queries; a contentless FTS5 table
    needs the very tokens it indexed to delete a row, so this must stay deterministic.
    """
    return (
        f"'zs' || {row}.status || ' zo' || {row}.origin || ' zk' || {row}.kind"
        f" || ' zc' || {row}.city_id || ' zy' || coalesce({row}.year, 'none')"
    )


def _index(row: str) -> str:
    return (
        f"INSERT INTO entries_fts(rowid, search_text, facets) "
        f"VALUES ({row}.id, {row}.search_text, {_facets(row)});"
    )


def _unindex(row: str) -> str:
    return (
        f"INSERT INTO entries_fts(entries_fts, rowid, search_text, facets) "
        f"VALUES ('delete', {row}.id, {row}.search_text, {_facets(row)});"
    )


SQLITE_UP = (
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        search_text, facets, content='', tokenize='unicode61'
    )""",
    f"CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN {_index('new')} END",
    f"CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN {_unindex('old')} END",
    "CREATE TRIGGER entries_fts_update "
    "AFTER UPDATE OF search_text, status, origin, kind, city_id, year ON entries "
    f"BEGIN {_unindex('old')} {_index('new')} END",
    "INSERT INTO entries_fts(rowid, search_text, facets) "
    f"SELECT entries.id, entries.search_text, {_facets('entries')} FROM entries",
)
SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS entries_fts_update",
    "DROP TRIGGER IF EXISTS entries_fts_delete",
    "DROP TRIGGER IF EXISTS entries_fts_insert",
    "DROP TABLE IF EXISTS entries_fts",
)


def _weighted(weight: str, *columns: str) -> str:
    text = " || ' ' || ".join(f"coalesce({c}, '')" for c in columns)
    return f"setweight(to_tsvector('russian', {text}), '{weight}')"


#: Title first, then what the entry is about, then the details.
SEARCH_VECTOR = " || ".join(
    (
        _weighted("A", "title"),
        _weighted("B", "area", "summary"),
        "setweight(to_tsvector('russian', coalesce(tags, '[]'::json)), 'B')",
        _weighted("C", "achievements", "plans", "assistance", "results", "location"),
        _weighted("D", "body"),
    )
)
POSTGRESQL_UP = (
    f"ALTER TABLE entries ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({SEARCH_VECTOR}) STORED",
    "CREATE INDEX ix_entries_search_vector ON entries USING GIN (search_vector)",
)
POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_entries_search_vector",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_vector",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    dialect = op.get_bind().dialect.name
    for statement in statements.get(dialect, ()):
        op.execute(statement)


def upgrade():
    _run({"sqlite": SQLITE_UP, "postgresql": POSTGRESQL_UP})


def downgrade():
    _run({"sqlite": SQLITE_DOWN, "postgresql": POSTGRESQL_DOWN})
