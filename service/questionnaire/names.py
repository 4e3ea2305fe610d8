"""The name of an event around the word that names its kind.

In a clause, an event noun (:mod:`service.questionnaire.grammar`: found by
lemma and in compounds) or "День города" is extended backwards over the
adjectives and ordinals that agree with it (not "традиционный",
"ежегодный" ...), and over a part of the event it is the genitive of
(``муниципальный этап конкурса``), and forwards up to the end of the name: a
comma (unless ``посвящённый``/``приуроченный`` follows), a verb, adverb or
short participle, ``в``/``на`` with a place or time (``на площади``, ``в
сентябре``), a date, ``который``/``где``, or ``и`` before another event. A name
in «quotes» is never cut inside. The generic мероприятия/акция count only with
a complement (``посвящённые``, ``в честь``, ``«...»``). The title is put back
in the nominative; a bare kind ("Проведена спартакиада.") is a title when a
verb says the event took place or will.

Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from service.language import fold
from service.questionnaire.grammar import (
    PREPOSITION_CASES,
    EventNoun,
    Form,
    adjective_forms,
    event_noun,
    form_of,
    forms,
    head_form,
    is_modifier,
    is_part_noun,
    parses,
    to_nominative,
)
from service.questionnaire.text import capitalise, strip_trailing

MAX_TITLE_LEN: Final = 200
_MAX_MODIFIERS: Final = 6

_WORD: Final = re.compile(r"[А-Яа-яЁёA-Za-z0-9]+(?:-[А-Яа-яЁёA-Za-z0-9]+)*")
_GENERIC_COMPLEMENT: Final = re.compile(
    r"^\s*,?\s*(?:посвящ|приуроч|в честь|в рамках|по случаю|к\s+(?:\d|дн|юбил|годовщ)|[«\"„])",
    re.IGNORECASE,
)
_PARTICIPLE: Final = re.compile(r"^(\s*,?\s*)((?:посвящ|приуроч)[её]нн\w*)", re.IGNORECASE)
_MONTHS: Final = (
    r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*"
    r"|октябр\w*|ноябр\w*|декабр\w*"
)
_TITLE_CUT: Final = re.compile(
    r",(?!\s*(?:посвящ|приуроч))"
    r"|\s+(?:в|во)\s+(?:онлайн|режиме|формате|дистанционн|очном|смешанн|гибридн|обычном"
    r"|традиционном|период|течение|том\s+числе|" + _MONTHS + r"|\d{4}\s*г|городе\b|г\.)"
    r"|\s+(?:с\s+)?\d{1,2}(?:\s*[–—-]\s*\d{1,2}|\s+по\s+\d{1,2})?\s+(?:" + _MONTHS + r")\b"
    r"|\s+(?:онлайн|дистанционно|очно|впервые|ежегодно|успешно|традиционно)\b"
    r"|\s+на\s+(?:территори|базе|площадк|стадион|сайте)"
    r"|\s+(?:при|с)\s+(?:участи|поддержк)"
    r"|\s+(?:который|которая|которое|которые|которых|которого|котором|где|что|чтобы|когда)\b"
    r"|\s+(?:стал[аои]?|был[аои]?|прош(?:ел|ёл|ла|ло|ли)|состоял\w*|провод\w*|проведен\w*"
    r"|проведён\w*|организован\w*|собрал\w*|объединил\w*|планиру\w*|запланирован\w*"
    r"|будет|будут|пройд\w*|состоится|состоятся)\b"
    r"|\s+[–—]\s+(?:это|был|стал|прош)"
    r"|\s*\(|\s*[.;:!?](?:\s|$)",
    re.IGNORECASE,
)
_CUT_TAGS: Final = frozenset({"VERB", "INFN", "PRTS", "GRND", "ADVB", "CONJ"})
_NAME_CONJUNCTIONS: Final = frozenset({"и"})
_PLACE_PREPOSITIONS: Final = frozenset({"в", "во", "на"})
_NAME_LOCATIVES: Final = frozenset({"война"})  # "Победы в Великой Отечественной войне"
_DAY_BLOCKERS: Final = frozenset({"к", "ко", "в", "во", "до", "накануне", "после", "на"})
_EVENT_VERBS: Final = frozenset(
    {
        "провести", "проводиться", "проходить", "пройти", "состояться", "организовать",
        "запланировать", "планироваться", "стартовать", "открыться", "прошлый",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Trigger:
    """A word (or "День города") that names an event's kind, in a clause."""

    start: int
    end: int
    noun: EventNoun | None  # None: a "День ..." holiday


def _lemma(word: str) -> str:
    readings = parses(word.lower())
    return fold(readings[0].normal_form) if readings else fold(word)


def _day_trigger(words: list[re.Match[str]], i: int) -> Trigger | None:
    """A holiday: "День города", or a capitalised "День" before a genitive."""
    word = words[i].group(0)
    if i + 1 >= len(words) or _lemma(word) != "день":
        return None
    following = words[i + 1].group(0)
    if i > 0 and words[i - 1].group(0).lower() in _DAY_BLOCKERS:
        return None
    city = _lemma(following) == "город"
    genitive = word[0].isupper() and any(f[0] == "gent" for f in forms(following))
    if not (city or genitive) or following.startswith("x"):
        return None
    return Trigger(words[i].start(), words[i + 1].end(), None)


def triggers(masked: str, start: int = 0) -> Iterator[Trigger]:
    """The event words of a (quote-masked) clause from ``start`` on."""
    words = list(_WORD.finditer(masked))
    for i, match in enumerate(words):
        if match.start() < start:
            continue
        day = _day_trigger(words, i)
        if day is not None:
            yield day
            continue
        noun = event_noun(match.group(0))
        if noun is not None:
            yield Trigger(match.start(), match.end(), noun)


# --------------------------------------------------------------------------
# Backwards: adjectives and the part of the event


def _modifiers(words: list[str], agree_with: set[Form]) -> list[str]:
    """The adjectives and ordinals at the end of ``words`` that agree (removed from it)."""
    found: list[str] = []
    while words and len(found) < _MAX_MODIFIERS and is_modifier(words[-1]):
        own = forms(words[-1])
        if own and agree_with and not any(f[:2] == g[:2] for f in own for g in agree_with):
            break
        found.insert(0, words.pop())
    return found


@dataclass(frozen=True)
class _Head:
    """The words before the event noun that belong to the name."""

    modifiers: list[str]
    part: str | None  # "этап" of "этап конкурса"
    part_modifiers: list[str]
    preposition: str  # the word before the name, lowercased


def _head(clause: str, start: int, noun: EventNoun | None) -> _Head:
    before = clause[:start].split(" ")
    if before and before[-1] == "":
        before.pop()
    own = {f for p in noun.readings if (f := form_of(p))} if noun else {("datv", "sing", "")}
    modifiers = _modifiers(before, own) if noun else _modifiers(before, set())
    part: str | None = None
    part_modifiers: list[str] = []
    genitive = noun is not None and any(f[0] == "gent" for f in own)
    if not modifiers and genitive and before and is_part_noun(before[-1]):
        part = before.pop()
        part_modifiers = _modifiers(before, forms(part))
    preposition = before[-1].lower() if before else ""
    return _Head(modifiers, part, part_modifiers, preposition)


# --------------------------------------------------------------------------
# Forwards: where the name ends


def _is_place(words: list[re.Match[str]]) -> bool:
    """Whether the words after ``в``/``на`` name a place or time (a locative noun)."""
    for match in words[:3]:
        readings = parses(match.group(0).lower())
        nouns = [p for p in readings if "NOUN" in p.tag]
        if not nouns:
            if any({"ADJF", "PRTF"} & p.tag.grammemes for p in readings):
                continue
            return False
        if fold(nouns[0].normal_form) in _NAME_LOCATIVES:
            return False
        return any(p.tag.case in ("loct", "loc2") for p in nouns)
    return False


def _next_is_event(masked: str, position: int) -> bool:
    head = _WORD.findall(masked[position : position + 80])[:5]
    return any(event_noun(word) or _lemma(word) == "день" for word in head)


def _word_cut(masked: str, start: int, end: int) -> int:
    """Where a word in ``masked[start:end]`` ends the name (``end`` if none does)."""
    words = list(_WORD.finditer(masked, start, end))
    for i, match in enumerate(words):
        word = match.group(0)
        low = word.lower()
        if set(low) <= {"x"}:  # inside quotes
            continue
        if low in _NAME_CONJUNCTIONS:
            if _next_is_event(masked, match.end()):
                return match.start()
            continue
        if low in _PLACE_PREPOSITIONS and _is_place(words[i + 1 :]):
            return match.start()
        readings = parses(low)
        if readings and _CUT_TAGS & readings[0].tag.grammemes:
            previous = words[i - 1] if i else None
            if previous is not None and previous.group(0).lower() in _NAME_CONJUNCTIONS:
                return previous.start()  # "фестиваль науки и подготовить": not "... и"
            return match.start()
    return end


def name_end(masked: str, end: int) -> int:
    """Where the name whose kind word ends at ``end`` ends."""
    cut = _TITLE_CUT.search(masked, end)
    title_end = cut.start() if cut else len(masked)
    return _word_cut(masked, end, title_end)


# --------------------------------------------------------------------------
# The title


def _head_noun(word: str, noun: EventNoun | None) -> EventNoun:
    if noun is not None:
        return noun
    readings = tuple(p for p in parses(word.lower()) if "NOUN" in p.tag)
    return EventNoun(word, fold(readings[0].normal_form) if readings else word, readings)


def _nominative(words: list[str], noun: EventNoun, head: _Head, tail: str) -> tuple[str, str]:
    """The head phrase (adjectives and noun) and the tail, in the nominative."""
    *modifiers, word = words
    participle = _PARTICIPLE.match(tail)
    constraints = [forms(modifiers[-1])] if modifiers else []
    if participle:
        constraints.append(adjective_forms(participle.group(2)))
    form = head_form(noun, constraints, PREPOSITION_CASES.get(head.preposition, frozenset()))
    phrase = [to_nominative(m, form, noun=False) for m in modifiers]
    phrase.append(to_nominative(word, form, noun=True))
    if participle:
        fixed = to_nominative(participle.group(2), form, noun=False)
        tail = participle.group(1) + fixed + tail[participle.end() :]
    return " ".join(phrase), tail


def _finish(title: str, *, bare_ok: bool) -> str | None:
    """The title trimmed and bounded; ``None`` if it is too short to be one."""
    title = strip_trailing(re.sub(r"\s+", " ", title))
    if title.count("«") > title.count("»"):
        title += "»"
    if len(title) > MAX_TITLE_LEN:
        title = strip_trailing(title[:MAX_TITLE_LEN].rsplit(" ", 1)[0])
    if not title or (len(title.split()) < 2 and not bare_ok):
        return None
    return capitalise(title)


def has_event_verb(text: str) -> bool:
    """Whether a verb in ``text`` says an event is held or planned."""
    return any(_lemma(word) in _EVENT_VERBS for word in _WORD.findall(text))


def title_at(clause: str, masked: str, trigger: Trigger) -> tuple[str, int] | None:
    """The event title around ``trigger`` and where it ends in ``clause``."""
    noun = trigger.noun
    if noun is not None and noun.generic and not _GENERIC_COMPLEMENT.match(masked[trigger.end :]):
        return None
    head = _head(clause, trigger.start, noun)
    title_end = name_end(masked, trigger.end)
    tail = clause[trigger.end : title_end]
    word = clause[trigger.start : trigger.end]
    if noun is None:  # "Дню города": the holiday's own word is the head
        word, rest = word.split(None, 1)
        tail = " " + rest + tail
    if head.part is not None:
        phrase, _ = _nominative(
            [*head.part_modifiers, head.part], _head_noun(head.part, None), head, ""
        )
        text = f"{phrase} {word}{tail}"
    else:
        phrase, tail = _nominative([*head.modifiers, word], _head_noun(word, noun), head, tail)
        text = phrase + tail
    bare_ok = noun is not None and not noun.generic and has_event_verb(clause)
    title = _finish(text, bare_ok=bare_ok)
    return None if title is None else (title, title_end)
