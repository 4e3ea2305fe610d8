"""The area of activity a questionnaire's description names.

A ``Направление деятельности: ...`` label when there is one; otherwise the
words of the first sentence of the description, up to (not including) the
owner of the work (``Администрации``, ``мэрии``, ``города``,
``муниципального`` ...; ``департамента``/``управления``/``комитета`` ... only
once two words are taken), the first verb-like word (``строится``,
``является``, ``направлена`` ...), a dash, or a comma/colon. Without such a
break within eight words, the first six words are used. At most 120
characters.

Pure: standard library only.
"""

from __future__ import annotations

import re
from typing import Final

from service.questionnaire.text import (
    capitalise,
    plain,
    sentences,
    strip_list_marker,
    strip_trailing,
    word_set,
)

MAX_AREA_LEN: Final = 120

_AREA_LABEL: Final = re.compile(
    r"^(?:направлени[ея]|сфер[аы]|област[ьи]|вид)\s+(?:деятельности|работы)\s*[:–—-]\s*(.+)$",
    re.IGNORECASE,
)
_AREA_OWNERS: Final = word_set(
    "администрации мэрии города г. городского муниципального муниципалитета думы главы "
    "мэра правительства"
)
_AREA_BODIES: Final = word_set(
    "департамента управления комитета отдела службы центра учреждения аппарата"
)
_AREA_VERBS: Final = word_set(
    "является являются включает включают ведет ведёт ведут состоит представляет "
    "охватывает обеспечивает реализует реализуют осуществляет осуществляют это "
    "направлена направлено направлены строится"
)
_AREA_FALLBACK_WORDS: Final = 6
_AREA_MAX_WORDS: Final = 8


def _is_verbish(word: str) -> bool:
    if word in _AREA_VERBS:
        return True
    if len(word) > 4 and word.endswith(("ся", "сь")):
        return True
    if len(word) > 5 and word.endswith(("ена", "ено", "ены", "ана", "ано", "аны", "ята", "яты")):
        return True
    return len(word) > 6 and word.endswith(("ает", "яет", "ует", "ают", "яют", "уют"))


def _ends_area(raw: str, low: str, taken: list[str], following: str) -> bool:
    """Whether the word ``raw`` (``low`` lowercased) is past the area's name."""
    return (
        low in _AREA_OWNERS
        or (len(taken) >= 2 and low in _AREA_BODIES)
        or _is_verbish(low)
        or raw in ("–", "—", "-")
        or (low in ("в", "на", "по") and following.startswith(("город", "территори")))
    )


def _area_words(words: list[str]) -> tuple[list[str], bool]:
    """The leading words that name the area, and whether a break ended them."""
    taken: list[str] = []
    for i, raw in enumerate(words):
        word = raw.strip("«»\"'()")
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        if taken and _ends_area(raw, word.lower(), taken, following):
            return taken, True
        taken.append(strip_trailing(word))
        if raw[-1:] in ",:;(" or (raw[-1:] in ".!?…" and i + 1 < len(words)):
            return taken, True
        if len(taken) >= _AREA_MAX_WORDS:
            break
    return taken, False


def area_of(paragraphs: list[str]) -> str:
    """The area named by the description ``paragraphs`` ("" when there is none)."""
    if not paragraphs:
        return ""
    first = strip_list_marker(plain(paragraphs[0]).strip())
    if match := _AREA_LABEL.match(first):
        return capitalise(strip_trailing(match.group(1)))[:MAX_AREA_LEN].strip()
    sentence = sentences(first)[0] if first else ""
    words = sentence.split()
    taken, broke = _area_words(words)
    if not broke and len(words) > _AREA_MAX_WORDS:
        taken = [strip_trailing(w) for w in words[:_AREA_FALLBACK_WORDS]]
    area = strip_trailing(" ".join(w for w in taken if w))
    if len(area) > MAX_AREA_LEN:
        area = strip_trailing(area[:MAX_AREA_LEN].rsplit(" ", 1)[0])
    return capitalise(area)
