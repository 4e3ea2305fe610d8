"""search by lemma: the index rebuilt from lemmatized text, filters for format, level, topics

``entries.search_text`` now holds the lemmas of an entry's text (pymorphy3,
Snowball for words its dictionary lacks; service.entries.search.index_text)
followed by ``|`` and the entry's topic tokens (``ztculture``). The upgrade
rewrites it for every row, then:

- SQLite: rebuilds the contentless FTS5 table ``entries_fts``: ``search_text``
  gets the lemmas (the part before ``|``), ``facets`` the filter tokens
  (status, origin, kind, city, year as before, plus format ``zf``, level
  ``zl`` and the topic tokens after ``|``), kept by the same kind of triggers.
- PostgreSQL: replaces the generated ``search_vector`` (``russian``
  configuration over the raw text) by one with the ``simple`` configuration
  over the lemmas, so both databases index the same words, and adds
  ``search_words``, the same lemmas stripped of positions (kept in the row,
  storage MAIN), with the GIN index (``fastupdate`` off: no pending list to
  read at query time). Matching and counting read ``search_words``; only the
  ranked few read the positional vector (``ts_rank_cd``). No extension is needed.

Both: ``ix_entries_facets``, an index over the filtered columns, so the facet
counts of the overview read the index, not the entries' long rows.

The downgrade writes Snowball stems back and restores migration 0002's index.

Revision ID: 0010_lemma_search
Revises: 0007
"""

import re
from collections.abc import Callable
from functools import lru_cache

import snowballstemmer
import sqlalchemy as sa
from alembic import op

from service.entries.search import index_text
from service.fields import searchable
from service.store.db import migration

revision = "0010_lemma_search"
down_revision = "0012"
branch_labels = None
depends_on = None

BATCH = 500

v0002 = migration("0002_search")


def stored(row: str) -> str:
    """The stored search text of a row (``new``/``old`` in a trigger, the table in a SELECT)."""
    return f"{row}.search_text"


def _lemmas(text: str) -> str:
    """The lemmas: the part of the search text ``text`` (an SQL expression) before ``|``."""
    return (
        f"CASE WHEN instr({text}, '|') > 0 THEN substr({text}, 1, instr({text}, '|') - 1) "
        f"ELSE {text} END"
    )


def _facets(row: str, text: str) -> str:
    """The facet tokens of a row, its topic tokens from the search text ``text``.

    service.entries.filters.facet() and topic_token() make the same tokens for
    queries; a contentless FTS5 table needs the very tokens it indexed to delete
    a row, so this must stay deterministic.
    """
    return (
        f"'zs' || {row}.status || ' zo' || {row}.origin || ' zk' || {row}.kind"
        f" || ' zc' || {row}.city_id || ' zy' || coalesce({row}.year, 'none')"
        f" || ' zf' || coalesce({row}.format, 'none') || ' zl' || coalesce({row}.level, 'none')"
        f" || CASE WHEN instr({text}, '|') > 0"
        f" THEN ' ' || substr({text}, instr({text}, '|') + 1) ELSE '' END"
    )


def _index(row: str, text: Callable[[str], str]) -> str:
    return (
        f"INSERT INTO entries_fts(rowid, search_text, facets) "
        f"VALUES ({row}.id, {_lemmas(text(row))}, {_facets(row, text(row))});"
    )


def _unindex(row: str, text: Callable[[str], str]) -> str:
    return (
        f"INSERT INTO entries_fts(entries_fts, rowid, search_text, facets) "
        f"VALUES ('delete', {row}.id, {_lemmas(text(row))}, {_facets(row, text(row))});"
    )


def triggers(text: Callable[[str], str]) -> tuple[str, ...]:
    """The triggers that keep ``entries_fts``, reading a row's search text with ``text``."""
    return (
        f"CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries "
        f"BEGIN {_index('new', text)} END",
        f"CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries "
        f"BEGIN {_unindex('old', text)} END",
        "CREATE TRIGGER entries_fts_update "
        "AFTER UPDATE OF search_text, status, origin, kind, city_id, year, format, level "
        f"ON entries BEGIN {_unindex('old', text)} {_index('new', text)} END",
    )


def fill(text: Callable[[str], str]) -> str:
    """Index every entry (the FTS5 table empty)."""
    return (
        "INSERT INTO entries_fts(rowid, search_text, facets) "
        f"SELECT entries.id, {_lemmas(text('entries'))}, {_facets('entries', text('entries'))} "
        "FROM entries"
    )


SQLITE_UP = (
    """CREATE VIRTUAL TABLE entries_fts USING fts5(
        search_text, facets, content='', tokenize='unicode61'
    )""",
    *triggers(stored),
    fill(stored),
)
# PostgreSQL's filter lexemes: the tokens of _facets() (and the topic tokens after ``|``),
# each behind "=", which no lemma has (service.entries.filters.tsquery() asks for them).
PG_FACETS = (
    "array_to_tsvector(ARRAY['=zs' || status, '=zo' || origin, '=zk' || kind,"
    " '=zc' || city_id::text, '=zy' || coalesce(year::text, 'none'),"
    " '=zf' || coalesce(format, 'none'), '=zl' || coalesce(level, 'none')])"
    " || array_to_tsvector(string_to_array("
    r"regexp_replace(trim(split_part(search_text, '|', 2)), '(\S+)', '=\1', 'g'), ' '))"
)
SEARCH_WORDS = (
    f"strip(to_tsvector('simple'::regconfig, split_part(search_text, '|', 1))) || {PG_FACETS}"
)
POSTGRESQL_UP = (
    "ALTER TABLE entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, split_part(search_text, '|', 1))) STORED, "
    # The distinct lemmas, no positions: small enough to stay in the row (storage MAIN),
    # so matching and counting never read the TOASTed positional vector.
    f"ADD COLUMN search_words tsvector GENERATED ALWAYS AS ({SEARCH_WORDS}) STORED, "
    "ALTER COLUMN search_words SET STORAGE MAIN",
    "CREATE INDEX ix_entries_search_words ON entries USING GIN (search_words) "
    "WITH (fastupdate = off)",
)
POSTGRESQL_DOWN = (
    "DROP INDEX IF EXISTS ix_entries_search_words",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_words",
)

TEXTS = sorted({spec.attr for kind in ("practice", "event") for spec in searchable(kind)})
_entries = sa.table(
    "entries",
    sa.column("id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("city_id", sa.Integer),
    sa.column("tags", sa.JSON),
    sa.column("search_text", sa.Text),
    *(sa.column(a, sa.Text) for a in TEXTS),
)
_cities = sa.table("cities", sa.column("id", sa.Integer), sa.column("name", sa.String))
_links = sa.table("entry_topics", sa.column("entry_id"), sa.column("topic_code"))
_topics = sa.table("topics", sa.column("code"), sa.column("name"), sa.column("position"))


def _rewrite(make: Callable[[list[str | None], list[str]], str]) -> None:
    """Rewrite ``search_text`` of every entry from its texts, tags, topics and city."""
    bind = op.get_bind()
    cities = dict(bind.execute(sa.select(_cities.c.id, _cities.c.name)).all())
    names = dict(bind.execute(sa.select(_topics.c.code, _topics.c.name)).all())
    order = dict(bind.execute(sa.select(_topics.c.code, _topics.c.position)).all())
    last = 0
    while True:
        rows = bind.execute(
            sa.select(_entries.c.id, _entries.c.kind, _entries.c.city_id, _entries.c.tags)
            .add_columns(*(_entries.c[a] for a in TEXTS))
            .where(_entries.c.id > last)
            .order_by(_entries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        codes: dict[int, list[str]] = {}
        for entry_id, code in bind.execute(
            sa.select(_links.c.entry_id, _links.c.topic_code).where(_links.c.entry_id.in_(ids))
        ):
            codes.setdefault(entry_id, []).append(code)
        updates = []
        for row in rows:
            topics = sorted(codes.get(row.id, []), key=lambda c: order.get(c, 0))
            parts = [getattr(row, spec.attr) for spec in searchable(row.kind)]
            parts += [*(row.tags or []), *(names.get(c) for c in topics), cities.get(row.city_id)]
            updates.append({"b_id": row.id, "b_text": make(parts, topics)})
        bind.execute(
            _entries.update()
            .where(_entries.c.id == sa.bindparam("b_id"))
            .values(search_text=sa.bindparam("b_text")),
            updates,
        )
        last = ids[-1]


_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    """Migration 0002's Snowball stem, for the downgrade."""
    word = word.lower().replace("ё", "е")
    return (_english if re.fullmatch(r"[a-z]+", word) else _russian).stemWord(word)


def _stem_text(parts: list[str | None], topics: list[str]) -> str:
    words = [_stem(w) for part in parts if part for w in re.findall(r"[0-9a-zа-яё]+", part, re.I)]
    return " " + " ".join(words) + " "


def _run(statements: tuple[str, ...]) -> None:
    for statement in statements:
        op.execute(statement)


FACET_COLUMNS = ["status", "origin", "kind", "city_id", "year", "format", "level"]


def upgrade():
    op.create_index("ix_entries_facets", "entries", FACET_COLUMNS)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(v0002.SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(v0002.POSTGRESQL_DOWN)
    _rewrite(index_text)
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRESQL_UP)


def downgrade():
    op.drop_index("ix_entries_facets", table_name="entries")
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(v0002.SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRESQL_DOWN)
        _run(v0002.POSTGRESQL_DOWN)
    _rewrite(_stem_text)
    if dialect == "sqlite":
        _run(v0002.SQLITE_UP)
    elif dialect == "postgresql":
        _run(v0002.POSTGRESQL_UP)
