"""Snippets: the passage of an entry that shows why a search found it.

Made in Python for both databases, so both show the same thing: the window of
the text with the most different query words, the matching words (by lemma,
the query's :meth:`matches`) in ``<mark>``, the rest escaped.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup, escape

from service.language import WORD
from service.store.models import Entry

#: Snippet length in words.
SNIPPET_WORDS = 30


class Query(Protocol):
    def matches(self, word: str) -> str | None: ...


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


def highlight(text: str, query: Query) -> Markup:
    """The whole text, escaped, with the words matching the query in ``<mark>``."""
    spans = [m.span() for m in WORD.finditer(text) if query.matches(m.group())]
    return _marked(text, spans, 0, len(text))


@dataclass(frozen=True)
class _Window:
    score: tuple[int, int]
    text: str
    first: int
    spans: Sequence[tuple[int, int]]
    word_spans: Sequence[tuple[int, int]]


def _best_window(text: str, query: Query, width: int) -> _Window | None:
    spans = [m.span() for m in WORD.finditer(text)]
    hits = [(i, s) for i, m in enumerate(spans) for s in [query.matches(text[m[0] : m[1]])] if s]
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


def snippet(texts: Iterable[str | None], query: Query, width: int = SNIPPET_WORDS) -> Markup:
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
