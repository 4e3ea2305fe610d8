"""What lemmatizing costs a backfill: 30,000 entries loaded with and without it.

A backfill here is what a mirror's first poll of a big network or a bulk
import does: entries inserted in bulk, their search text made in Python
(:func:`service.entries.search.index_text`), indexed by SQLite's FTS5
triggers. The text comes from :mod:`bench.corpus` (several thousand word forms
by Zipf's law, many of them unknown to the dictionary: the lemmatizer's slow
path, pymorphy3's guess and then Snowball), about 1,500 characters an entry.
Each round starts with empty caches and a fresh database; the lemmas
(pymorphy3) and main's Snowball stems alternate, ``BACKFILL_REPEATS`` times,
and the medians are compared (target: lemmas at most 20% slower).

``python -m bench lemma_backfill``; ``BACKFILL_ENTRIES`` (30000).
"""

from __future__ import annotations

import os
import random
import re
import statistics
import tempfile
import time
from functools import lru_cache
from pathlib import Path

import snowballstemmer

from bench import corpus
from bench.search_bench import populate
from service import create_app
from service.language import analyzer, lemma_forms
from service.store.db import init_db
from service.store.models import db

ENTRIES = int(os.environ.get("BACKFILL_ENTRIES", "30000"))
REPEATS = int(os.environ.get("BACKFILL_REPEATS", "2"))

_russian = snowballstemmer.stemmer("russian")
_english = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def snowball(word: str) -> tuple[str, ...]:
    """Main's stemmer before issue 11 (service.entries.search.stem), as a lemmatizer."""
    word = word.lower().replace("ё", "е")
    if re.fullmatch(r"[a-z]+", word):
        return (_english.stemWord(word),)
    return (_russian.stemWord(word),)


class CorpusWords:
    """The text of :mod:`bench.corpus` in the shape ``populate`` asks for."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def text(self, low: int, high: int) -> str:
        return corpus.markdown_text(self.rng, low * 60, high * 60) if high else ""

    def title(self) -> str:
        return " ".join(self.rng.choice(corpus.FORMS) for _ in range(4)).capitalize()

    def word(self) -> str:
        return self.rng.choice(corpus.FORMS)


def _round(forms: object, tmp: Path, number: int) -> float:
    path = tmp / f"backfill{number}.sqlite3"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "FEED_AUTHORITY": "bench.example"})
    with app.app_context():
        init_db()
        lemma_forms.cache_clear()
        snowball.cache_clear()
        rng = random.Random(20210315)
        began = time.perf_counter()
        populate(ENTRIES, rng, words=CorpusWords(rng), forms=forms, quiet=True)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - began
        db.session.remove()
        db.engine.dispose()
    path.unlink()
    return elapsed


def main() -> None:
    analyzer()  # loaded once per process, as the service does
    times: dict[str, list[float]] = {"snowball": [], "lemmas": []}
    with tempfile.TemporaryDirectory() as tmp:
        number = 0
        for repeat in range(REPEATS):
            order = ("snowball", "lemmas") if repeat % 2 == 0 else ("lemmas", "snowball")
            for name in order:
                number += 1
                forms = snowball if name == "snowball" else lemma_forms
                elapsed = _round(forms, Path(tmp), number)
                times[name].append(elapsed)
                print(f"  {name}: {ENTRIES} entries in {elapsed:.1f} s", flush=True)
    stems, lemmas = (statistics.median(times[k]) for k in ("snowball", "lemmas"))
    print(
        f"backfill of {ENTRIES} entries: Snowball {stems:.1f} s, lemmas {lemmas:.1f} s "
        f"(medians of {REPEATS}): {100 * (lemmas / stems - 1):+.1f}% "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()
