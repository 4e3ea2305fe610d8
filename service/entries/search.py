"""Russian full-text search: lemmas, the index query, ranking in tiers.

Every entry keeps the lemmas of its text in ``Entry.search_text``
(:func:`service.language.lemma`: pymorphy3's dictionary form, Snowball for
words the dictionary lacks, "ё" read as "е"); a query is lemmatized the same
way, so "день города" finds "Дню города" and "Дня города", "люди" finds
"человек" and "дети" finds "ребёнок". After the lemmas, behind a ``|``, come
the entry's topic tokens (``ztculture``), which the index files with the other
filter values. The index lives in the database and follows every write,
whoever makes it (migration 0010_lemma_search); both databases index the very
same lemmas, so both find the same entries:

- SQLite: a contentless FTS5 table with the lemmas and, in a second column,
  one token per value the lists filter on (status, origin, kind, city, year,
  format, level, topics; :func:`service.entries.filters.fts5`). A search
  filters and ranks inside the index (bm25) and reads only the rows of the
  page it shows. A query matching more than ``SEARCH_RANK_WINDOW`` entries in
  one tier (only words found in most entries do) has its newest matches
  ranked, the rest follow newest first. ``search_text`` is stored compressed
  (:class:`service.store.models.PackedText`); the triggers that keep the
  index read it through the SQL function ``asdg_unpack``.
- PostgreSQL: the generated column ``search_ids`` (migration 0014_word_ids):
  the numbers (``hashtext``) of the entry's distinct lemmas, as the ``simple``
  configuration reads them (no stemming of its own: the lemmas are already
  there), and of one lexeme per filter value (``=zspublished``, like FTS5's
  facets column): an ``int4[]`` small enough to stay in the row, with the GIN
  index (``intarray``'s ``gin__int_ops``) that matches, filters and counts with
  one ``query_int``. A query's words and filter values get their numbers from
  the database (:func:`word_ids`), so both sides use the same function. Two
  words may share a number (some 20 pairs among 300,000 distinct words): a
  search for one then also finds the other's entries, ranked after the real
  matches (their rank is nil). No
  positional vector is stored (migration 0013_packed_texts): the newest
  ``SEARCH_RANK_WINDOW_POSTGRESQL`` matches of a tier are ranked by
  ``ts_rank_cd`` (cover density: words close together count more) over
  their positional vector, made from ``search_text`` as they are ranked. A
  tier is counted up to ``SEARCH_COUNT_LIMIT_POSTGRESQL`` matches (or the
  end of the next page); beyond, the total is a lower bound
  (``SearchResult.total_exact``).

Ranking comes in tiers: entries with every word of the query first (on SQLite
those with the words within :data:`NEAR_WORDS` words of each other before the
others), then entries with only some of the words, which the results mark as
partial ("совпадают не все слова").

User input never reaches the index as query syntax: only words (letters and
digits) are kept, and the index query is built from their lemmas, each quoted
(FTS5) or a number (PostgreSQL's ``query_int``). Quotes, ``*``, ``NEAR``, ``AND``/``OR``,
parentheses and column filters are just characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from flask import current_app
from markupsafe import Markup
from sqlalchemy import Select, bindparam, column, func, literal_column, select, table
from sqlalchemy import text as sql_text

from service.entries.access import Principal
from service.entries.filters import (
    EntryFilter,
    Page,
    conditions,
    facet_lexemes,
    fts5,
    index_query,
    topic_tokens,
)
from service.entries.snippets import entry_texts, highlight, snippet
from service.errors import ValidationError
from service.language import fold, lemma_forms, words
from service.store.models import Entry, db

#: Longest query accepted, in characters (the API's ``q`` has the same limit).
MAX_QUERY_LENGTH = 200
#: Words of a query beyond this many are ignored.
MAX_QUERY_WORDS = 12
#: Words of a query within this many words of each other rank first (SQLite's NEAR).
NEAR_WORDS = 10
#: What separates an entry's lemmas from its topic tokens in ``search_text``.
TOPICS_MARK = "|"

#: Words too common to search for.
STOP_WORDS = frozenset(
    {
        "а", "без", "бы", "в", "во", "вот", "да", "для", "до", "же", "за", "и", "из", "или",
        "к", "как", "ко", "ли", "на", "над", "не", "ни", "но", "о", "об", "от", "по", "под",
        "при", "про", "с", "со", "то", "у", "что", "это",
    }
)  # fmt: skip


def index_text(
    parts: Iterable[str | None],
    topics: Iterable[str] = (),
    forms: Callable[[str], tuple[str, ...]] = lemma_forms,
) -> str:
    """What ``search_text`` holds: the lemmas of all parts, then the topic tokens.

    `` день город онлайн | ztculture ``; a word with two readings gives both
    lemmas (``стать сталь``). ``forms`` is the lemmatizer (the benchmark swaps
    in the Snowball stemmer to measure what lemmas cost).
    """
    out: list[str] = []
    for part in parts:
        if part:
            for word in words(part):
                out.extend(forms(word))
    return f" {' '.join(out)} {TOPICS_MARK} {topic_tokens(topics)} "


# -- queries ------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A query reduced to what is searched for: words and their lemmas, in order.

    ``forms`` holds, per word, every lemma it may have (likeliest first);
    ``lemmas`` the likeliest ones.
    """

    text: str
    words: tuple[str, ...]
    forms: tuple[tuple[str, ...], ...]

    @property
    def lemmas(self) -> tuple[str, ...]:
        return tuple(f[0] for f in self.forms)

    def matches(self, word: str) -> str | None:
        """The query word (its lemma) that a word of a text matches, if any."""
        mine = lemma_forms(word)
        for group in self.forms:
            if any(f in group for f in mine):
                return group[0]
        return None


def parse_query(text: str | None) -> SearchQuery:
    """Check and reduce a query; :class:`ValidationError` (field ``q``) explains a bad one."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Введите слово или несколько слов для поиска.", field="q")
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"Запрос слишком длинный: не больше {MAX_QUERY_LENGTH} символов.", field="q"
        )
    kept: dict[str, tuple[str, tuple[str, ...]]] = {}
    for word in words(text):
        word = fold(word)
        if word not in STOP_WORDS:
            forms = lemma_forms(word)
            kept.setdefault(forms[0], (word, forms))
    if not kept:
        raise ValidationError(
            "В запросе нет слов, по которым можно искать: введите слова из текста.", field="q"
        )
    chosen = list(kept.values())[:MAX_QUERY_WORDS]
    return SearchQuery(
        text=text, words=tuple(w for w, _ in chosen), forms=tuple(f for _, f in chosen)
    )


def _group(forms: tuple[str, ...], join: str = " OR ") -> str:
    """One query word: any of its lemmas (each quoted: never syntax)."""
    inner = join.join(f'"{f}"' for f in forms)
    return inner if len(forms) == 1 else f"({inner})"


def fts5_every(query: SearchQuery) -> str:
    """FTS5: every word (one of its lemmas), anywhere in the text.

    Whole lemmas, not prefixes: the lemmatizer already joins the forms of a
    word, and a prefix query merges the lists of every indexed word it starts.
    """
    return "search_text : (" + " AND ".join(_group(f) for f in query.forms) + ")"


def fts5_near(query: SearchQuery) -> str:
    """FTS5: the likeliest lemmas of the words, within :data:`NEAR_WORDS` of each other."""
    phrases = " ".join(f'"{s}"' for s in query.lemmas)
    return f"search_text : NEAR({phrases}, {NEAR_WORDS})"


def fts5_any(query: SearchQuery) -> str:
    forms = dict.fromkeys(f for group in query.forms for f in group)
    return "search_text : (" + " OR ".join(f'"{f}"' for f in forms) + ")"


def fts5_tiers(query: SearchQuery) -> list[tuple[str, bool]]:
    """(MATCH expression, has every word) of each tier, best first; they do not overlap."""
    if len(query.lemmas) == 1:
        return [(fts5_every(query), True)]
    near, every, any_ = fts5_near(query), fts5_every(query), fts5_any(query)
    return [(near, True), (f"({every}) NOT ({near})", True), (f"({any_}) NOT ({every})", False)]


def boolean_expression(
    query: SearchQuery, *, every: bool = True, term: Callable[[str], str] = str
) -> str:
    """The words, all or any of them, as PostgreSQL's boolean query text (``&``, ``|``).

    ``term`` writes one lemma (the lemma itself for a tsquery, its number for
    a ``query_int``). The lemmas are letters and digits only
    (:data:`service.language.WORD`), never query syntax.
    """
    groups = ["(" + " | ".join(term(f) for f in forms) + ")" for forms in query.forms]
    return (" & " if every else " | ").join(groups)


_fts = table("entries_fts", column("rowid"))
_FTS: Any = literal_column("entries_fts")
#: PostgreSQL: the entry's lemmas as a positional vector, made when ranked (nothing stored).
_VECTOR: Any = literal_column(
    "to_tsvector('simple'::regconfig, split_part(entries.search_text, '|', 1))"
)
#: The numbers of its distinct lemmas and filter lexemes, kept in the row (GIN-indexed):
#: what matching, filtering and counting read.
_IDS: Any = literal_column("entries.search_ids")
_TSCONFIG: Any = literal_column("'simple'::regconfig")
#: A ``query_int``: numbers and operators only.
_QUERY_INT = re.compile(r"[-0-9&|!() ]+")


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _to_tsquery(expression: str) -> Any:
    """``to_tsquery('simple', ...)`` with the expression written into the statement.

    Not a bound parameter: psycopg prepares a statement run several times and
    PostgreSQL may then plan it once for any query, blind to how common the
    words are (a backward scan of every entry for a rare word). The
    expression is lemmas and operators only (:func:`boolean_expression`).
    """
    return func.to_tsquery(_TSCONFIG, bindparam(None, expression, literal_execute=True))


def _matches(expression: str) -> Any:
    """``search_ids @@ '...'::query_int``, the query written into the statement (as above)."""
    if not _QUERY_INT.fullmatch(expression):
        raise ValueError(f"not a query_int: {expression!r}")
    return _IDS.op("@@")(literal_column(f"'{expression}'::query_int"))


def word_ids(lexemes: Iterable[str]) -> dict[str, int]:
    """PostgreSQL: the number ``search_ids`` holds for each lexeme (one statement for all)."""
    unique = list(dict.fromkeys(lexemes))
    rows = db.session.execute(
        sql_text("SELECT t, hashtext(t) FROM unnest(CAST(:lexemes AS text[])) AS t"),
        {"lexemes": unique},
    )
    return {t: int(n) for t, n in rows}


def _lemmas(query: SearchQuery) -> list[str]:
    return [f for forms in query.forms for f in forms]


def matching_ids(text: str, *, every: bool = True) -> Select[Any]:
    """Ids of the entries with every word of the query (or any, ``every=False``)."""
    query = parse_query(text)
    if _postgresql():
        numbers = word_ids(_lemmas(query))
        expression = boolean_expression(query, every=every, term=lambda f: str(numbers[f]))
        return select(Entry.id).where(_matches(expression))
    match = fts5_every(query) if every else fts5_any(query)
    return select(_fts.c.rowid).where(_FTS.op("MATCH")(match))


# -- ranked search ------------------------------------------------------------

#: How many of a tier's newest matches are ranked (setting ``SEARCH_RANK_WINDOW``);
#: older ones follow, newest first. Only words found in most entries have more
#: matches; bm25 costs about a microsecond a match, ``ts_rank_cd`` several.
RANK_WINDOW = 5000
#: PostgreSQL's window (setting ``SEARCH_RANK_WINDOW_POSTGRESQL``): smaller, its rank
#: makes each match's positional vector from its text (0.3-0.6 ms each).
RANK_WINDOW_POSTGRESQL = 100
#: PostgreSQL counts a tier's matches up to this many, or to the end of the next page
#: (setting ``SEARCH_COUNT_LIMIT_POSTGRESQL``); beyond, ``total`` is a lower bound.
COUNT_LIMIT_POSTGRESQL = 1000


@dataclass(frozen=True)
class Ranked:
    """What a ranked search found: counts and the page's ids (``True``: every word)."""

    total: int
    complete: int
    ids: list[tuple[int, bool]]
    #: False: more entries match than were counted (PostgreSQL; ``total`` is a lower bound).
    exact: bool = True


def _fts5_ranked(
    query: SearchQuery, flt: EntryFilter, viewer: Principal | None, page: int, per_page: int
) -> Ranked:
    """SQLite: counts and the page, tier after tier, all in the FTS5 index."""
    filters = fts5(conditions(flt, viewer))
    if filters is None:
        return Ranked(0, 0, [])
    start, total, complete = (page - 1) * per_page, 0, 0
    ids: list[tuple[int, bool]] = []
    for expression, every in fts5_tiers(query):
        where = [_FTS.op("MATCH")(f"({expression}) AND {filters}")]
        count = db.session.scalar(select(func.count()).select_from(_fts).where(*where)) or 0
        total += count
        complete += count if every else 0
        wanted = per_page - len(ids)
        if wanted and start < count:
            ids += [(i, every) for i in _fts5_tier(where, count, start, wanted)]
        start = max(0, start - count)
    return Ranked(total, complete, ids)


def _fts5_tier(where: list[Any], count: int, start: int, limit: int) -> list[int]:
    """Ids ``start`` to ``start + limit`` of one tier's ``count`` matches, best first."""
    window = current_app.config.get("SEARCH_RANK_WINDOW", RANK_WINDOW)
    # The facets column does not count for the rank.
    best_first = (func.bm25(_FTS, 1.0, 0.0), _fts.c.rowid.desc())
    if count <= window:
        return _fts5_ids(where, best_first, start, limit)
    # Many matches: rank the newest ``window`` of them, then the older ones, newest first.
    window_end = db.session.scalar(
        select(_fts.c.rowid).where(*where).order_by(_fts.c.rowid.desc()).offset(window).limit(1)
    )
    ids = []
    if start < window:
        newest = [*where, _fts.c.rowid > window_end]
        ids = _fts5_ids(newest, best_first, start, min(limit, window - start))
    if len(ids) < limit:
        older = [*where, _fts.c.rowid <= window_end]
        ids += _fts5_ids(older, (_fts.c.rowid.desc(),), max(0, start - window), limit - len(ids))
    return ids


def _fts5_ids(where: list[Any], order: tuple[Any, ...], offset: int, limit: int) -> list[int]:
    query = select(_fts.c.rowid).where(*where).order_by(*order).offset(offset).limit(limit)
    return list(db.session.scalars(query))


def _tsvector_ranked(
    query: SearchQuery, flt: EntryFilter, viewer: Principal | None, page: int, per_page: int
) -> Ranked:
    """PostgreSQL: entries with every word first (by cover density), then the others.

    Words and filters are one ``query_int`` over ``search_ids`` and its GIN index.
    Each tier is counted up to ``SEARCH_COUNT_LIMIT_POSTGRESQL`` matches or
    the end of the next page (``limit``): a word found in most entries costs
    no more than a rare one. More matches than that make the total a lower
    bound (``Ranked.exact`` false, "более 1 000" on the page); the page itself
    is always right, since it ends before ``limit``.
    """
    found = conditions(flt, viewer)
    if found.impossible:
        return Ranked(0, 0, [])
    numbers = word_ids([*_lemmas(query), *facet_lexemes(found)])

    def number(lexeme: str) -> str:
        return str(numbers[lexeme])

    facets = index_query(found, number)
    cap = current_app.config.get("SEARCH_COUNT_LIMIT_POSTGRESQL", COUNT_LIMIT_POSTGRESQL)
    start = (page - 1) * per_page
    limit = max(cap, start + 2 * per_page)  # a page beyond: the next link shows
    every = boolean_expression(query, term=number)
    tiers = [(every, boolean_expression(query), True)]
    if len(query.lemmas) > 1:
        any_ = boolean_expression(query, every=False, term=number)
        tiers.append((f"({any_}) & !({every})", boolean_expression(query, every=False), False))
    total, complete, exact = 0, 0, True
    ids: list[tuple[int, bool]] = []
    for matching, ranking, full in tiers:
        where = [_matches(f"({matching}) & {facets}")]
        counted = select(Entry.id).where(*where).limit(limit + 1).subquery()
        count = db.session.scalar(select(func.count()).select_from(counted)) or 0
        if count > limit:
            count, exact = limit, False
        total += count
        complete += count if full else 0
        wanted = per_page - len(ids)
        if wanted and start < count:
            rank = func.ts_rank_cd(_VECTOR, _to_tsquery(ranking)).desc()
            ids += [(i, full) for i in _tsvector_tier(where, rank, count, start, wanted)]
        if not exact:  # the page ends before ``limit``: no later tier is needed
            break
        start = max(0, start - count)
    return Ranked(total, complete, ids, exact)


def _tsvector_tier(where: list[Any], rank: Any, count: int, start: int, limit: int) -> list[int]:
    """Like :func:`_fts5_tier`: more than the window's matches rank only the newest ones.

    ``ts_rank_cd`` needs each ranked match's positional vector, made from its
    (TOASTed) ``search_text`` then: tens of microseconds each, more when not
    cached, so only the newest ``SEARCH_RANK_WINDOW_POSTGRESQL`` are ranked.
    """
    window = current_app.config.get("SEARCH_RANK_WINDOW_POSTGRESQL", RANK_WINDOW_POSTGRESQL)
    newest_first = (Entry.id.desc(),)
    if count <= window:
        return _tsvector_ids(where, (rank, Entry.updated.desc(), *newest_first), start, limit)
    ids = []
    if start < window:
        # The window's ids in the same statement: one scan of the newest matches.
        in_window = select(Entry.id).where(*where).order_by(*newest_first).limit(window)
        newest = [Entry.id.in_(in_window)]
        ids = _tsvector_ids(newest, (rank, *newest_first), start, min(limit, window - start))
    if len(ids) < limit:
        window_end = db.session.scalar(
            select(Entry.id).where(*where).order_by(*newest_first).offset(window).limit(1)
        )
        older = [*where, Entry.id <= window_end]
        ids += _tsvector_ids(older, newest_first, max(0, start - window), limit - len(ids))
    return ids


def _tsvector_ids(where: list[Any], order: tuple[Any, ...], offset: int, limit: int) -> list[int]:
    query = select(Entry.id).where(*where).order_by(*order).offset(offset).limit(limit)
    return list(db.session.scalars(query))


# -- the search ---------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    entry: Entry
    title: Markup
    snippet: Markup
    #: Only some of the query's words are in the entry ("совпадают не все слова").
    partial: bool = False


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    page: Page
    hits: list[SearchHit]
    #: How many of the matches have every word (they come first).
    complete: int = 0
    #: False: more entries match than ``page.total`` (PostgreSQL stops counting at its
    #: ranking window, ``SEARCH_RANK_WINDOW_POSTGRESQL``, or the end of the page).
    total_exact: bool = True


def search_entries(
    text: str | None,
    flt: EntryFilter,
    *,
    page: int = 1,
    per_page: int = 20,
    viewer: Principal | None = None,
) -> SearchResult:
    """Entries matching the query and the list filters, best first, with snippets.

    ``flt.q`` is ignored: ``text`` is the query. Drafts only for their own city,
    as in lists.
    """
    query = parse_query(text)
    ranker = _tsvector_ranked if _postgresql() else _fts5_ranked
    ranked = ranker(query, replace(flt, q=None), viewer, page, per_page)
    ids = [i for i, _ in ranked.ids]
    rows = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_(ids))).unique()}
    hits = [
        SearchHit(
            rows[i],
            highlight(rows[i].title, query),
            snippet(entry_texts(rows[i]), query),
            partial=not every,
        )
        for i, every in ranked.ids
        if i in rows
    ]
    found = Page(items=[h.entry for h in hits], page=page, per_page=per_page, total=ranked.total)
    return SearchResult(
        query=query, page=found, hits=hits, complete=ranked.complete, total_exact=ranked.exact
    )
