"""Russian words: tokens and lemmas, shared by search and the questionnaire reader.

A word's lemma is its dictionary form from pymorphy3 (OpenCorpora's
dictionary): "дню", "дня" and "день" are all "день", "люди" is "человек".
Words the dictionary does not know (names, new words) fall back to their
Snowball stem, Latin words to the English stem. Letters are lowercased and
"ё" is read as "е", so both spellings match.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3
import snowballstemmer

WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
LATIN = re.compile(r"[a-z]+")

_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=1)
def analyzer() -> pymorphy3.MorphAnalyzer:
    """The morphological analyser, loaded once per process (about 50 ms, 15 MB)."""
    return pymorphy3.MorphAnalyzer(lang="ru")


def words(text: str | None) -> list[str]:
    """The words of a text (letters and digits), as written."""
    return WORD.findall(text or "")


def fold(word: str) -> str:
    """Lowercase, with "ё" read as "е"."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The dictionary form of one word (see the module notes)."""
    word = fold(word)
    if word.isdigit():
        return word
    if LATIN.fullmatch(word):
        return _english.stemWord(word)
    parse = analyzer().parse(word)[0]
    if parse.is_known:
        return fold(parse.normal_form)
    return _russian.stemWord(word)


def lemmas(text: str | None) -> list[str]:
    """The lemmas of a text's words, in order."""
    return [lemma(w) for w in words(text)]
