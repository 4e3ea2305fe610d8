"""Russian full-text search: stems, the index query, ranking and snippets.

Every entry keeps the stems of its text in ``Entry.search_text``; a query is
stemmed the same way, so "мероприятие" finds "мероприятий" and "игры" finds
"Дельфийские игры". The index lives in the database and follows every write,
whoever makes it (migration 0002):

- SQLite: a contentless FTS5 table with the stems and, in a second column, one
  token per value the lists filter on (status, origin, kind, city, year). A
  search filters and ranks inside the index (bm25) and reads only the rows of
  the page it shows; the topic filter, kept in its own table, is checked per
  match. A query matching more than ``SEARCH_RANK_WINDOW`` entries (only words
  found in most entries do) has its newest matches ranked, the rest follow
  newest first, which keeps such a search as fast as a selective one.
- PostgreSQL: a generated ``tsvector`` column with the ``russian``
  configuration and a GIN index; the list filters of service.entries.service apply, and
  ``ts_rank_cd`` ranks.

User input never reaches the index as query syntax: only words (letters and
digits) are kept, and the index query is built from them, each one quoted
(FTS5) or checked to be a plain word (tsquery). Quotes, ``*``, ``NEAR``,
``AND``/``OR``, parentheses and column filters are just characters.

Snippets are made in Python for both databases, so both show the same thing:
the window of the text with the most query words, matches in ``<mark>``.

service.entries.service imports this module (stems, the ``q`` filter of lists), so the
two functions here that need service.entries.service import it when called.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import snowballstemmer
from flask import current_app
from markupsafe import Markup, escape
from sqlalchemy import Select, column, func, literal_column, select, table

from service.entries.access import Principal
from service.entries.filters import Conditions, EntryFilter, Page, conditions, sql
from service.errors import ValidationError
from service.store.models import Entry, db, entry_topics

WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)

#: Longest query accepted, in characters (the API's ``q`` has the same limit).
MAX_QUERY_LENGTH = 200
#: Words of a query beyond this many are ignored.
MAX_QUERY_WORDS = 12
#: Snippet length in words.
SNIPPET_WORDS = 30

#: Words too common to search for (PostgreSQL's ``russian`` configuration drops them too).
STOP_WORDS = frozenset(
    {
        "а", "без", "бы", "в", "во", "вот", "да", "для", "до", "же", "за", "и", "из", "или",
        "к", "как", "ко", "ли", "на", "над", "не", "ни", "но", "о", "об", "от", "по", "под",
        "при", "про", "с", "со", "то", "у", "что", "это",
    }
)  # fmt: skip

_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    word = word.lower().replace("ё", "е")
    if re.fullmatch(r"[a-z]+", word):
        return _english.stemWord(word)
    return _russian.stemWord(word)


def words(text: str) -> list[str]:
    return WORD.findall(text or "")


def stems(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def stem_text(parts: Iterable[str | None]) -> str:
    """The stems of all parts, space separated, with a leading and trailing space."""
    out: list[str] = []
    for part in parts:
        if part:
            out.extend(stems(part))
    return " " + " ".join(out) + " "


# -- queries ------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """A query reduced to what is searched for: words and their stems, in order."""

    text: str
    words: tuple[str, ...]
    stems: tuple[str, ...]

    def matches(self, word_stem: str) -> bool:
        """Does a word of a text (given by its stem) match one of the query's stems?"""
        return word_stem in self.stems


def parse_query(text: str | None) -> SearchQuery:
    """Check and reduce a query; :class:`ValidationError` (field ``q``) explains a bad one."""
    text = (text or "").strip()
    if not text:
        raise ValidationError("Введите слово или несколько слов для поиска.", field="q")
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"Запрос слишком длинный: не больше {MAX_QUERY_LENGTH} символов.", field="q"
        )
    kept: dict[str, str] = {}
    for word in words(text):
        word = word.lower().replace("ё", "е")
        if word not in STOP_WORDS:
            kept.setdefault(stem(word), word)
    if not kept:
        raise ValidationError(
            "В запросе нет слов, по которым можно искать: введите слова из текста.", field="q"
        )
    chosen = list(kept.items())[:MAX_QUERY_WORDS]
    return SearchQuery(
        text=text, words=tuple(w for _, w in chosen), stems=tuple(s for s, _ in chosen)
    )


def fts5_expression(query: SearchQuery) -> str:
    """An FTS5 MATCH expression over the stems column: every stem quoted, all required.

    Whole stems, not prefixes: the stemmer already joins the forms of a word, and
    a prefix query ("город"*) merges the lists of every indexed word it starts,
    several times slower on common words, for matches that are mostly other words
    (игр* would find игрок and игрушка).
    """
    return "search_text : (" + " ".join(f'"{s}"' for s in query.stems) + ")"


def tsquery_expression(query: SearchQuery) -> str:
    """A ``to_tsquery('russian', ...)`` expression: the words, all of them required."""
    return " & ".join(query.words)


_fts = table("entries_fts", column("rowid"))
_FTS: Any = literal_column("entries_fts")
_VECTOR: Any = literal_column("entries.search_vector")
_TSCONFIG: Any = literal_column("'russian'::regconfig")


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def matching_ids(text: str) -> Select[Any]:
    """Ids of the entries whose text matches the query (for ``Entry.id.in_``)."""
    query = parse_query(text)
    if _postgresql():
        tsquery = func.to_tsquery(_TSCONFIG, tsquery_expression(query))
        return select(Entry.id).where(_VECTOR.op("@@")(tsquery))
    return select(_fts.c.rowid).where(_FTS.op("MATCH")(fts5_expression(query)))


# -- ranked search ------------------------------------------------------------

#: SQLite: how many of a query's newest matches are ranked by bm25 (setting
#: ``SEARCH_RANK_WINDOW``); older ones follow, newest first. Only words found in
#: most entries have more matches, and bm25 costs about a microsecond a match.
RANK_WINDOW = 5000


def facet(name: str, value: object) -> str:
    """The token migration 0002 indexes for a column value: ``zspublished``, ``zc12``."""
    prefix = {"status": "zs", "origin": "zo", "kind": "zk", "city_id": "zc", "year": "zy"}[name]
    return f'"{prefix}{"none" if value is None else value}"'


def _fts5_filters(found: Conditions) -> str | None:
    """The list conditions as FTS5 terms on the facets column; None when nothing can match.

    The topic condition is not a facet (topics live in their own table): the
    caller adds it.
    """
    if found.impossible:
        return None
    terms = [facet(t.column, t.value) for t in found.all_of]
    terms.append("(" + " OR ".join(facet(t.column, t.value) for t in found.visible_if) + ")")
    return "facets : (" + " AND ".join(terms) + ")"


def _fts5_ranked(
    query: SearchQuery, flt: EntryFilter, viewer: Principal | None, page: int, per_page: int
) -> tuple[int, list[int]]:
    """SQLite: (number of matches, ids of the page), all in the FTS5 index."""
    found = conditions(flt, viewer)
    filters = _fts5_filters(found)
    if filters is None:
        return 0, []
    where: list[Any] = [_FTS.op("MATCH")(f"{fts5_expression(query)} AND {filters}")]
    if found.topic:
        where.append(
            select(entry_topics.c.entry_id)
            .where(
                entry_topics.c.entry_id == _fts.c.rowid, entry_topics.c.topic_code == found.topic
            )
            .exists()
        )
    total = db.session.scalar(select(func.count()).select_from(_fts).where(*where)) or 0
    start = (page - 1) * per_page
    window = current_app.config.get("SEARCH_RANK_WINDOW", RANK_WINDOW)
    # The facets column does not count for the rank.
    best_first = (func.bm25(_FTS, 1.0, 0.0), _fts.c.rowid.desc())
    if total <= window:
        return total, _fts5_ids(where, best_first, start, per_page)
    # Many matches: rank the newest ``window`` of them, then the older ones, newest first.
    window_end = db.session.scalar(
        select(_fts.c.rowid).where(*where).order_by(_fts.c.rowid.desc()).offset(window).limit(1)
    )
    ids = []
    if start < window:
        newest = [*where, _fts.c.rowid > window_end]
        ids = _fts5_ids(newest, best_first, start, min(per_page, window - start))
    if len(ids) < per_page:
        older = [*where, _fts.c.rowid <= window_end]
        ids += _fts5_ids(older, (_fts.c.rowid.desc(),), max(0, start - window), per_page - len(ids))
    return total, ids


def _fts5_ids(where: list[Any], order: tuple[Any, ...], offset: int, limit: int) -> list[int]:
    query = select(_fts.c.rowid).where(*where).order_by(*order).offset(offset).limit(limit)
    return list(db.session.scalars(query))


def _tsvector_ranked(
    query: SearchQuery, flt: EntryFilter, viewer: Principal | None, page: int, per_page: int
) -> tuple[int, list[int]]:
    """PostgreSQL: (number of matches, ids of the page), the list filters as for lists."""
    tsquery = func.to_tsquery(_TSCONFIG, tsquery_expression(query))
    where = [*sql(conditions(flt, viewer)), _VECTOR.op("@@")(tsquery)]
    total = db.session.scalar(select(func.count(Entry.id)).where(*where))
    ids = db.session.scalars(
        select(Entry.id)
        .where(*where)
        .order_by(func.ts_rank_cd(_VECTOR, tsquery).desc(), Entry.updated.desc(), Entry.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return total or 0, list(ids)


# -- snippets -----------------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_LINE_MARK = re.compile(r"^\s*(?:[-+*]\s+|\d+[.)]\s+|#{1,6}\s+|>+\s*)", re.MULTILINE)
_EMPHASIS = re.compile(r"[*_`~\\]+")


def plain_text(markdown: str | None) -> str:
    """The words of a Markdown text without its markup, on one line (for snippets).

    A quick approximation rather than a full render: snippets of twenty
    entries must cost little. Raw HTML stays text, as the pages show it.
    """
    text = _LINK.sub(r"\1", markdown or "")
    text = _EMPHASIS.sub("", _LINE_MARK.sub("", text))
    return " ".join(html.unescape(text).split())


def _marked(text: str, spans: Iterable[tuple[int, int]], start: int, end: int) -> Markup:
    out: list[str] = []
    pos = start
    for a, b in spans:
        out.append(str(escape(text[pos:a])))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(str(escape(text[pos:end])))
    return Markup("".join(out))


def highlight(text: str, query: SearchQuery) -> Markup:
    """The whole text, escaped, with the words matching the query in ``<mark>``."""
    spans = [m.span() for m in WORD.finditer(text) if query.matches(stem(m.group()))]
    return _marked(text, spans, 0, len(text))


@dataclass(frozen=True)
class _Window:
    score: tuple[int, int]
    text: str
    first: int
    spans: Sequence[tuple[int, int]]
    word_spans: Sequence[tuple[int, int]]


def _best_window(text: str, query: SearchQuery, width: int) -> _Window | None:
    spans = [m.span() for m in WORD.finditer(text)]
    hits = [
        (i, s) for i, m in enumerate(spans) for s in [stem(text[m[0] : m[1]])] if query.matches(s)
    ]
    if not hits:
        return None
    best: tuple[tuple[int, int], int, int] | None = None
    seen: Counter[str] = Counter()
    right = 0
    for left, (start, _) in enumerate(hits):
        while right < len(hits) and hits[right][0] < start + width:
            seen[hits[right][1]] += 1
            right += 1
        score = (len(seen), right - left)
        if best is None or score > best[0]:
            best = (score, start, hits[right - 1][0])
        seen[hits[left][1]] -= 1
        if not seen[hits[left][1]]:
            del seen[hits[left][1]]
    assert best is not None
    score, start, last = best
    # Some words of context before the first match, if the matches leave room.
    lead = min(width // 4, width - 1 - (last - start))
    first = max(0, min(start - lead, len(spans) - width))
    inside = {i for i, _ in hits if first <= i < first + width}
    return _Window(score, text, first, [spans[i] for i in sorted(inside)], spans)


def snippet(texts: Iterable[str | None], query: SearchQuery, width: int = SNIPPET_WORDS) -> Markup:
    """A window of ``width`` words around the best match in the texts (Markdown).

    The best window holds the most different query words, then the most
    matches; without a match anywhere, the beginning of the first text.
    """
    plain = [t for t in (plain_text(x) for x in texts) if t]
    windows = [w for w in (_best_window(t, query, width) for t in plain) if w]
    if not windows:
        if not plain:
            return Markup("")
        window = _Window((0, 0), plain[0], 0, [], [m.span() for m in WORD.finditer(plain[0])])
    else:
        window = max(windows, key=lambda w: w.score)
    words_ = window.word_spans
    if not words_:
        return Markup(escape(window.text[:200]))
    last = min(len(words_), window.first + width) - 1
    start = 0 if window.first == 0 else words_[window.first][0]
    end = len(window.text) if last == len(words_) - 1 else words_[last][1]
    body = _marked(window.text, window.spans, start, end)
    return Markup("{}{}{}").format(
        "… " if start > 0 else "", body, " …" if end < len(window.text) else ""
    )


def entry_texts(entry: Entry) -> list[str | None]:
    """The texts of an entry that a snippet is taken from, in reading order."""
    return [
        entry.summary,
        entry.area,
        entry.achievements,
        entry.plans,
        entry.assistance,
        entry.body,
        entry.location,
        entry.results,
        _TAG.sub(" ", entry.content_html) if entry.content_html else None,
    ]


# -- the search ---------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    entry: Entry
    title: Markup
    snippet: Markup


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    page: Page
    hits: list[SearchHit]


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
    ranked = _tsvector_ranked if _postgresql() else _fts5_ranked
    total, ids = ranked(query, replace(flt, q=None), viewer, page, per_page)
    rows = {e.id: e for e in db.session.scalars(select(Entry).where(Entry.id.in_(ids))).unique()}
    found = [rows[i] for i in ids if i in rows]
    hits = [
        SearchHit(entry, highlight(entry.title, query), snippet(entry_texts(entry), query))
        for entry in found
    ]
    return SearchResult(
        query=query, page=Page(items=found, page=page, per_page=per_page, total=total), hits=hits
    )
