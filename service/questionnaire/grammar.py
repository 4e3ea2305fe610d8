"""Russian morphology for event names, through pymorphy3
(:func:`service.language.analyzer`).

Event nouns are found by lemma, in any case and number, and in compounds:
``кинофестиваля`` (кино + фестиваль), ``выставки-ярмарки``, ``смотр-конкурс``,
``онлайн-марафон``. The generic мероприятие/акция count only with a
complement (see :mod:`service.questionnaire.events`). The words of a name are
put back in the nominative by agreement: the head noun's case and number are
those its adjectives, the preposition before it and a following
``посвящённый``/``приуроченный`` allow, and the adjectives follow the head
(``мероприятий, посвященных`` -> ``мероприятия, посвященные``,
``первую городскую спартакиаду`` -> ``первая городская спартакиада``). The
text's spelling is kept (``молодежный`` is not changed to ``молодёжный``).

Verbs tell whether an event was held or is planned (:func:`stage_of_words`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from pymorphy3.analyzer import Parse

from service.language import analyzer, fold

Number = Literal["sing", "plur"]
Stage = Literal["held", "planned"]

#: Lemmas (``ё`` read as ``е``) of words that name an event of their own.
EVENT_LEMMAS: Final = frozenset(
    {
        "фестиваль", "форум", "конференция", "выставка", "конкурс", "чемпионат",
        "турнир", "слет", "олимпиада", "спартакиада", "марафон", "соревнование",
        "праздник", "концерт", "парад", "семинар", "вебинар", "игра", "ярмарка",
        "субботник", "месячник", "декада", "учение", "смотр", "первенство", "кубок",
        "биеннале", "хакатон", "квест", "викторина", "флешмоб", "забег", "велопробег",
        "пробег", "мастер-класс", "пресс-тур", "акция", "мероприятие",
    }
)  # fmt: skip
#: Event nouns that need a complement (a name in quotes, "посвящённые ...").
GENERIC_LEMMAS: Final = frozenset({"мероприятие", "акция"})
#: Nouns naming a part of an event: "этап конкурса", "финал чемпионата".
PART_LEMMAS: Final = frozenset({"этап", "финал", "полуфинал", "тур", "церемония", "открытие"})
_COMPOUND_MIN_PREFIX: Final = 3
#: Compounds of event words that name a means, not an event.
_NOT_EVENTS: Final = frozenset({"видеоконференция", "телеконференция", "аудиоконференция"})

#: Adjectives that describe how often or how well, not which event.
_NOT_NAME_LEMMAS: Final = frozenset(
    {
        "который", "такой", "другой", "весь", "этот", "тот", "свой", "наш", "ваш", "их",
        "многий", "некоторый", "каждый", "любой", "один", "основной", "массовый",
        "значимый", "значительный", "различный", "многочисленный", "прочий", "данный",
        "подобный", "аналогичный", "традиционный", "ежегодный", "очередной",
        "запланированный", "планируемый", "намеченный", "предстоящий", "проведенный",
        "состоявшийся", "прошедший", "организованный", "посвященный", "приуроченный",
        "самый", "новый", "следующий", "ряд", "крупный", "сам", "её", "его",
    }
)  # fmt: skip
_ORDINAL: Final = re.compile(r"^(?:[IVXLC]+|\d{1,3}(?:-?[а-яё]{1,3})?)$")

#: Cases a preposition governs (pymorphy3 case tags).
PREPOSITION_CASES: Final[dict[str, frozenset[str]]] = {
    **dict.fromkeys(("в", "во", "на"), frozenset({"loct", "loc2", "accs"})),
    **dict.fromkeys(("о", "об", "обо", "при"), frozenset({"loct"})),
    **dict.fromkeys(("к", "ко", "по"), frozenset({"datv"})),
    **dict.fromkeys(("с", "со"), frozenset({"ablt", "gent"})),
    **dict.fromkeys(("за", "под", "подо"), frozenset({"ablt", "accs"})),
    **dict.fromkeys(("перед", "над", "между"), frozenset({"ablt"})),
    **dict.fromkeys(("через", "про"), frozenset({"accs"})),
    **dict.fromkeys(
        ("для", "из", "от", "до", "у", "после", "без", "около", "среди", "кроме", "вокруг"),
        frozenset({"gent"}),
    ),
}

_PLANNED_LEMMAS: Final = frozenset(
    {"планироваться", "планировать", "запланировать", "предстоять", "наметить", "намечаться"}
)
_POSTPONED_LEMMAS: Final = frozenset({"перенести", "переноситься", "отложить"})


@lru_cache(maxsize=50_000)
def parses(word: str) -> tuple[Parse, ...]:
    """pymorphy3's readings of ``word`` (cached)."""
    return tuple(analyzer().parse(word))


def _noun_lemma(parse: Parse) -> str | None:
    """The event lemma of a noun reading, compounds included."""
    if "NOUN" not in parse.tag:
        return None
    lemma = fold(parse.normal_form)
    if lemma in EVENT_LEMMAS:
        return lemma
    if lemma in _NOT_EVENTS:
        return None
    if "-" in lemma:
        parts = lemma.split("-")
        for part in (parts[-1], parts[0]):
            if part in EVENT_LEMMAS:
                return part
        return None
    for base in EVENT_LEMMAS:
        if lemma.endswith(base) and len(lemma) - len(base) >= _COMPOUND_MIN_PREFIX:
            return base
    return None


@dataclass(frozen=True)
class EventNoun:
    """A word that names an event, with the readings that make it one."""

    word: str
    lemma: str  # the event lemma ("фестиваль" for "кинофестиваля")
    readings: tuple[Parse, ...]

    @property
    def generic(self) -> bool:
        return self.lemma in GENERIC_LEMMAS and self.readings[0].normal_form.find("-") < 0


def event_noun(word: str) -> EventNoun | None:
    """The event noun ``word`` is, or ``None``."""
    readings = tuple(p for p in parses(word) if _noun_lemma(p))
    if not readings:
        return None
    lemma = _noun_lemma(readings[0])
    assert lemma is not None
    return EventNoun(word, lemma, readings)


def is_part_noun(word: str) -> bool:
    return any("NOUN" in p.tag and fold(p.normal_form) in PART_LEMMAS for p in parses(word))


def is_modifier(word: str) -> bool:
    """Whether ``word`` may be an adjective or ordinal of an event's name."""
    if _ORDINAL.match(word):
        return True
    if not re.fullmatch(r"[А-Яа-яЁё]+(?:-[А-Яа-яЁё]+)*", word):
        return False
    for parse in parses(word):
        if {"ADJF"} <= parse.tag.grammemes or "PRTF" in parse.tag:
            return fold(parse.normal_form) not in _NOT_NAME_LEMMAS and "Apro" not in parse.tag
    return False


# --------------------------------------------------------------------------
# Agreement

Form = tuple[str, str, str]  # (case, number, gender or "")


def form_of(parse: Parse) -> Form | None:
    tag = parse.tag
    if tag.case is None:
        return None
    case = "loct" if tag.case == "loc2" else tag.case
    number = tag.number or "plur"
    gender = (tag.gender or "") if number == "sing" else ""
    return case, number, gender


def forms(word: str) -> set[Form]:
    """The (case, number, gender) forms of ``word``'s adjective or noun readings."""
    if _ORDINAL.match(word) and not word.isalpha():
        return set()
    found = set()
    for parse in parses(word):
        if {"NOUN", "ADJF", "PRTF", "NUMR"} & parse.tag.grammemes and (form := form_of(parse)):
            found.add(form)
    return found


def _agrees(form: Form, others: set[Form]) -> bool:
    return any(
        form[0] == o[0] and form[1] == o[1] and (not form[2] or not o[2] or form[2] == o[2])
        for o in others
    )


def head_form(noun: EventNoun, constraints: list[set[Form]], cases: frozenset[str]) -> Form:
    """The head noun's form: the first reading that fits the constraints, a
    nominative one when the constraints allow it."""
    readings = [(form, p) for p in noun.readings if (form := form_of(p))]
    if not readings:
        return ("nomn", "sing", "")
    candidates = readings
    for others in constraints:
        narrowed = [(f, p) for f, p in candidates if _agrees(f, others)]
        candidates = narrowed or candidates
    if cases:
        narrowed = [(f, p) for f, p in candidates if f[0] in cases]
        candidates = narrowed or candidates
    nominative = [(f, p) for f, p in candidates if f[0] == "nomn"]
    return (nominative or candidates)[0][0]


def _keep_spelling(original: str, new: str) -> str:
    if "ё" not in original.lower():
        new = new.replace("ё", "е").replace("Ё", "Е")
    if original.isupper() and len(original) > 1:
        return new.upper()
    if original[:1].isupper():
        return new[:1].upper() + new[1:]
    return new


def to_nominative(word: str, form: Form, *, noun: bool) -> str:
    """``word`` (the head noun or a word agreeing with it, in ``form``) in the
    nominative of the same number (and gender)."""
    if form[0] == "nomn" or _ORDINAL.match(word):
        return word
    _, number, gender = form
    wanted = {"NOUN"} if noun else {"ADJF", "PRTF"}
    for parse in parses(word):
        if not wanted & parse.tag.grammemes or form_of(parse) is None:
            continue
        if not _agrees(form_of(parse) or form, {form}):
            continue
        target = {"nomn", number}
        if not noun and number == "sing" and gender:
            target.add(gender)
        inflected = parse.inflect(target)
        if inflected is not None:
            return _keep_spelling(word, inflected.word)
    return word


def adjective_forms(word: str) -> set[Form]:
    return {f for p in parses(word) if {"ADJF", "PRTF"} & p.tag.grammemes and (f := form_of(p))}


# --------------------------------------------------------------------------
# Verbs: held or planned


def _verb_stage(parse: Parse) -> Stage | None:
    tag = parse.tag
    if "INFN" in tag:
        return None if fold(parse.normal_form) == "быть" else "planned"
    if "VERB" in tag and "futr" in tag:
        return "planned"
    if ("VERB" in tag or "PRTS" in tag) and "past" in tag:
        return "held"
    return None


def stage_of_words(words: list[str]) -> tuple[Stage | None, bool]:
    """What the verbs among ``words`` say: ``planned`` for "планируется",
    "предстоит" or the first verb in the future or an infinitive, ``held``
    for the first in the past, else ``None``; and whether the event was
    postponed ("перенесён", "отложен")."""
    first: Stage | None = None
    planned = postponed = False
    for word in words:
        readings = parses(word.lower())
        if not readings:
            continue
        lemma = fold(readings[0].normal_form)
        postponed = postponed or lemma in _POSTPONED_LEMMAS
        planned = planned or lemma in _PLANNED_LEMMAS
        first = first or _verb_stage(readings[0])
    return ("planned" if planned else first), postponed
