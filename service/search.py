"""Russian word stems for search.

Every entry keeps the stems of its text in ``Entry.search_text``; a query is
stemmed the same way, so "мероприятие" finds "мероприятий".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)

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
