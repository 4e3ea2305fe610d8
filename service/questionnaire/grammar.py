"""The event nouns a questionnaire names, their case forms, and putting the
words of an event's name back in the nominative.

Event nouns: игры, фестиваль, форум, конференция, выставка, конкурс,
чемпионат, турнир, слёт, олимпиада, спартакиада, марафон, соревнования,
праздник, концерт, парад, семинар; the generic мероприятия/акция count only
with a complement (see :mod:`service.questionnaire.events`). Nouns and their
adjectives in an oblique case are put back in the nominative
(``мероприятий, посвященных`` -> ``Мероприятия, посвященные``).

Pure: standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from service.questionnaire.text import word_set

Gender = Literal["m", "f", "n"]
Number = Literal["sg", "pl"]


@dataclass(frozen=True)
class Noun:
    singular: str
    plural: str
    gender: Gender
    prefer: Number
    generic: bool
    sg_forms: frozenset[str]
    pl_forms: frozenset[str]


def _masculine(stem: str) -> Noun:
    if stem.endswith("ь"):
        base = stem[:-1]
        sg = {stem, base + "я", base + "ю", base + "ем", base + "е"}
        pl = {base + "и", base + "ей", base + "ям", base + "ями", base + "ях"}
        return Noun(stem, base + "и", "m", "sg", False, frozenset(sg), frozenset(pl))
    vowel = "и" if stem[-1] in "кгхжшчщ" else "ы"
    sg = {stem, stem + "а", stem + "у", stem + "ом", stem + "е"}
    pl = {stem + vowel, stem + "ов", stem + "ам", stem + "ами", stem + "ах"}
    return Noun(stem, stem + vowel, "m", "sg", False, frozenset(sg), frozenset(pl))


def _feminine(lemma: str, *, generic: bool = False) -> Noun:
    if lemma.endswith("ия"):
        base = lemma[:-1]
        sg = {lemma, base + "и", base + "ю", base + "ей"}
        pl = {base + "и", base + "й", base + "ям", base + "ями", base + "ях"}
        return Noun(lemma, base + "и", "f", "sg", generic, frozenset(sg), frozenset(pl))
    base = lemma[:-1]
    vowel = "и" if base[-1] in "кгхжшчщ" else "ы"
    genitive_pl = base[:-1] + "о" + base[-1] if base.endswith("к") else base
    sg = {lemma, base + vowel, base + "е", base + "у", base + "ой"}
    pl = {base + vowel, genitive_pl, base + "ам", base + "ами", base + "ах"}
    return Noun(lemma, base + vowel, "f", "sg", False, frozenset(sg), frozenset(pl))


def _neuter_ie(lemma: str, *, generic: bool, prefer: Number) -> Noun:
    base = lemma[:-1]
    sg = {lemma, base + "я", base + "ю", base + "ем", base + "и"}
    pl = {base + "я", base + "й", base + "ям", base + "ями", base + "ях"}
    return Noun(lemma, base + "я", "n", prefer, generic, frozenset(sg), frozenset(pl))


_GAMES: Final = Noun(
    "игра",
    "игры",
    "f",
    "pl",
    False,
    frozenset({"игра", "игры", "игре", "игру", "игрой"}),
    frozenset({"игры", "игр", "играм", "играми", "играх"}),
)
_NOUNS: Final[tuple[Noun, ...]] = (
    _neuter_ie("мероприятие", generic=True, prefer="pl"),
    _feminine("акция", generic=True),
    _GAMES,
    _masculine("фестиваль"),
    _masculine("форум"),
    _feminine("конференция"),
    _feminine("выставка"),
    _masculine("конкурс"),
    _masculine("чемпионат"),
    _masculine("турнир"),
    _masculine("слет"),
    _masculine("слёт"),
    _feminine("олимпиада"),
    _feminine("спартакиада"),
    _masculine("марафон"),
    _neuter_ie("соревнование", generic=False, prefer="pl"),
    _masculine("праздник"),
    _masculine("концерт"),
    _masculine("парад"),
    _masculine("семинар"),
)
NOUN_BY_FORM: Final[dict[str, Noun]] = {
    form: noun for noun in reversed(_NOUNS) for form in noun.sg_forms | noun.pl_forms
}

_MODIFIER_STOP: Final = word_set(
    "которые которых такие таких другие других все всех их им ими этих эти этой той этого "
    "того своих своей своего своим нашего наших многих некоторых ряда наиболее более самых "
    "самые всем ним ней него одной одного одних каждый каждого любой"
)
_MODIFIER_STOP_STEMS: Final = (
    "основн",
    "массов",
    "значим",
    "различн",
    "многочисленн",
    "прочи",
    "данн",
    "проведенн",
    "проведённ",
    "состоявш",
    "прошедш",
    "организованн",
    "запланированн",
    "планируем",
    "намеченн",
    "предстоящ",
    "подобн",
    "аналогичн",
    "посвящ",
    "приуроч",
)
_ADJECTIVE: Final = re.compile(
    r"^[A-Za-zА-Яа-яЁё]+(?:-[A-Za-zА-Яа-яЁё]+)?"
    r"(?:ые|ие|ый|ий|ой|ая|яя|ое|ее|ых|их|ую|юю|ого|его|ому|ему|ыми|ими|ым|им|ом|ем)$"
)
ORDINAL: Final = re.compile(r"^(?:[IVXLC]+|\d{1,3}(?:-?[а-я]{1,3})?)$")
_STRESSED_STEM_ENDINGS: Final = ("городск", "краев", "областн", "окружн", "миров", "делов", "ледов")
_STRESSED_STEMS: Final = frozenset({"молод", "больш", "родн", "сельск"})


def is_modifier(word: str) -> bool:
    if ORDINAL.match(word):
        return True
    low = word.lower()
    if not _ADJECTIVE.match(word) or low in _MODIFIER_STOP:
        return False
    if low.endswith(("ение", "ание", "тие", "вие", "ствие")):
        return False
    return not low.startswith(_MODIFIER_STOP_STEMS)


def adjective_nominative(word: str, gender: str, number: str) -> str:
    """Put an adjective (or participle) in the nominative of ``gender``/``number``."""
    if ORDINAL.match(word):
        return word
    low = word.lower()
    if number == "pl":
        endings = {"ыми": "ые", "ими": "ие", "ых": "ые", "их": "ие", "ым": "ые", "им": "ие"}
    elif gender == "f":
        endings = {"ую": "ая", "юю": "яя", "ой": "ая", "ей": "яя"}
    else:
        endings = dict.fromkeys(("ого", "ому", "ым", "ом"), "ое" if gender == "n" else "")
        endings |= dict.fromkeys(("его", "ему", "им", "ем"), "ее" if gender == "n" else "ий")
    for old, new in endings.items():
        if not low.endswith(old):
            continue
        stem = low[: len(low) - len(old)]
        if not new:  # masculine singular of a hard stem
            if stem.endswith(_STRESSED_STEM_ENDINGS) or stem in _STRESSED_STEMS:
                new = "ой"
            elif stem.endswith(("к", "г", "х")):
                new = "ий"
            else:
                new = "ый"
        return word[: len(stem)] + new
    return word


def number_hint(words: list[str]) -> str | None:
    """``"pl"``/``"sg"`` from the agreeing word next to the noun, if it tells."""
    for word in words:
        low = word.lower()
        if low.endswith(("ые", "ие", "ых", "их", "ыми", "ими")):
            return "pl"
        if low.endswith(("ый", "ий", "ая", "яя", "ое", "ее", "ую", "юю", "ого", "его", "ой")):
            return "sg"
    return None
