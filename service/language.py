"""Russian words: tokens and lemmas, shared by search and the questionnaire reader.

A word's lemma is its dictionary form from pymorphy3 (OpenCorpora's
dictionary): "дню", "дня" and "день" are all "день", "люди" is "человек".
Words the dictionary does not know (names, new words) fall back to their
Snowball stem, Latin words to the English stem. Letters are lowercased and
"ё" is read as "е", so both spellings match.

A word form can belong to more than one word ("стали": стать or сталь,
"парков": парк or парковый). :func:`lemma` is the likeliest;
:func:`lemma_forms` adds the other dictionary forms that have at least
:data:`MIN_SHARE` of the analyser's score, which the search indexes and asks
for too, so a query for "сталь" finds "стали". Both are cached: a text repeats
its words, and a cached form costs a dictionary lookup.
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


#: A second reading of a word form counts when its share of the score is at least this.
MIN_SHARE = 0.02
#: At most this many readings of one form.
MAX_FORMS = 3


@lru_cache(maxsize=200_000)
def lemma_forms(word: str) -> tuple[str, ...]:
    """The dictionary forms a word may have, likeliest first (see the module notes)."""
    word = fold(word)
    if word.isdigit():
        return (word,)
    if LATIN.fullmatch(word):
        return (_english.stemWord(word),)
    morph = analyzer()
    if not morph.word_is_known(word):  # a cheap lookup; parse() would guess at length
        return (_russian.stemWord(word),)
    parses = morph.parse(word)
    if not parses or not parses[0].is_known:
        return (_russian.stemWord(word),)
    shares: dict[str, float] = {}
    for parse in parses:
        if parse.is_known:
            form = fold(parse.normal_form)
            shares[form] = shares.get(form, 0.0) + parse.score
    first = fold(parses[0].normal_form)
    others = [f for f, share in shares.items() if f != first and share >= MIN_SHARE]
    return (first, *others[: MAX_FORMS - 1])


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """The likeliest dictionary form of one word (see the module notes)."""
    return lemma_forms(word)[0]


def lemmas(text: str | None) -> list[str]:
    """The lemmas of a text's words, in order."""
    return [lemma(w) for w in words(text)]
