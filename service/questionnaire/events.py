"""Events named in the achievements and plans answers.

Each sentence of the two answers is cut into clauses at ``, а также``,
``, и`` and ``;``. In a clause, an event noun (see
:mod:`service.questionnaire.grammar`) or "День города" is extended backwards
over adjectives and ordinals and forwards up to the end of the clause, a
comma, a verb, or a place/format/date phrase (``на территории``, ``в онлайн
режиме``, ``в сентябре`` ...); the generic мероприятия/акция count only when a
``посвящённые``/``приуроченные``/``в честь``/``«...»`` complement follows.
The title is put back in the nominative.

Format: ``hybrid`` for гибрид/смешанн or both online and offline words,
``online`` for онлайн/дистанционно/видеоконференц/вебинар..., ``offline`` for
очно/в обычном режиме and by default; the clause decides first, then its
sentence. Level: from the title, then the clause -- СНГ/международн/
государств/стран -> international; России/российск/межрегиональн/
всероссийск/федеральн/АСДГ -> interregional; област/края/краев/
региональн/республик -> regional; else municipal. Events from the plans
answer get the next year. Same title and year -> one event.

Pure: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from service.questionnaire.grammar import (
    NOUN_BY_FORM,
    Noun,
    adjective_nominative,
    is_modifier,
    number_hint,
)
from service.questionnaire.text import (
    capitalise,
    md_escape,
    sentences,
    strip_list_marker,
    strip_trailing,
)

EventFormat = Literal["online", "offline", "hybrid"]
EventLevel = Literal["municipal", "regional", "interregional", "international"]
SourceSection = Literal["achievements", "plans"]

MAX_TITLE_LEN: Final = 200


@dataclass(frozen=True)
class ParsedEvent:
    """An event named in the achievements or plans answer."""

    title: str
    year: int
    format: EventFormat
    level: EventLevel
    summary: str
    source_section: SourceSection


_CITY_DAY: Final = r"д(?:ень|ня|ню|нем|нём|не)\s+город\w*"
_TRIGGER: Final = re.compile(
    r"(?<!\w)(?:(?P<day>"
    + _CITY_DAY
    + r")|(?P<noun>"
    + "|".join(sorted(map(re.escape, NOUN_BY_FORM), key=len, reverse=True))
    + r"))(?!\w)",
    re.IGNORECASE,
)
_GENERIC_COMPLEMENT: Final = re.compile(
    r"^\s*,?\s*(?:посвящ|приуроч|в честь|в рамках|по случаю|к\s+(?:\d|дн|юбил|годовщ)|[«\"„])",
    re.IGNORECASE,
)
_PARTICIPLE: Final = re.compile(r"^(\s*,?\s*)((?:посвящ|приуроч)[её]нн\w*)", re.IGNORECASE)
_CLAUSE_SPLIT: Final = re.compile(
    r"\s*(?:,\s*а\s+(?:также|так\s+же)|\s+а\s+также|,\s*и\s+также|,\s*также|,\s*и|;)\s+",
    re.IGNORECASE,
)
_MONTHS: Final = "январе|феврале|марте|апреле|мае|июне|июле|августе|сентябре|октябре|ноябре|декабре"
_TITLE_CUT: Final = re.compile(
    r",(?!\s*(?:посвящ|приуроч))"
    r"|\s+(?:в|во)\s+(?:онлайн|режиме|формате|дистанционн|очном|смешанн|гибридн|обычном"
    r"|традиционном|период|течение|" + _MONTHS + r"|\d{4}\s*г|городе\b|г\.)"
    r"|\s+(?:онлайн|дистанционно|очно|впервые|ежегодно|успешно|традиционно)\b"
    r"|\s+на\s+(?:территори|базе|площадк|стадион|сайте)"
    r"|\s+(?:при|с)\s+(?:участи|поддержк)"
    r"|\s+(?:который|которая|которое|которые|которых|где|что|чтобы|когда)\b"
    r"|\s+(?:стал[аои]?|был[аои]?|прош(?:ел|ёл|ла|ло|ли)|состоял\w*|провод\w*|проведен\w*"
    r"|проведён\w*|организован\w*|собрал\w*|объединил\w*|планиру\w*|запланирован\w*"
    r"|будет|будут|пройд\w*|состоится|состоятся)\b"
    r"|\s+[–—]\s+(?:это|был|стал|прош)"
    r"|\s*\(|\s*[.;!?](?:\s|$)",
    re.IGNORECASE,
)


def mask_quotes(text: str) -> str:
    """Replace what is inside quotes with ``x`` so cuts never happen there."""

    def hide(match: re.Match[str]) -> str:
        inner = match.group(0)
        return inner[0] + "x" * (len(inner) - 2) + inner[-1]

    return re.sub(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"", hide, text)


def format_of(text: str) -> EventFormat | None:
    low = text.lower()
    hybrid = re.search(r"гибридн|смешанн|hybrid|очно-дистанц|очно-заочн", low)
    online = re.search(
        r"онлайн|он-лайн|online|дистанционн|видеоконференц|видео-конференц|вебинар"
        r"|видеосвяз|виртуальн|в сети интернет|в социальных сетях",
        low,
    )
    offline = re.search(
        r"(?<!\w)очн\w*|офлайн|оффлайн|offline|в обычном (?:режиме|формате)"
        r"|в традиционном формате",
        low,
    )
    if hybrid or (online and offline):
        return "hybrid"
    if online:
        return "online"
    if offline:
        return "offline"
    return None


_INTERNATIONAL: Final = re.compile(
    r"(?<!\w)снг(?!\w)|международн|межгосударствен|государств(?!енн)|зарубежн|иностран"
    r"|(?<!\w)стран(?:ы|ах|ами)?(?!\w)",
)
_INTERREGIONAL: Final = re.compile(
    r"(?<!\w)росси(?:и|я|ю|ей)(?!\w)|российск|межрегиональн|всероссийск|федеральн|асдг"
)
_REGIONAL: Final = re.compile(r"област|(?<!\w)края(?!\w)|краев|региональн|республик")


def level_of(*texts: str) -> EventLevel:
    for text in texts:
        low = text.lower()
        if _INTERNATIONAL.search(low):
            return "international"
        if _INTERREGIONAL.search(low):
            return "interregional"
        if _REGIONAL.search(low):
            return "regional"
    return "municipal"


# --------------------------------------------------------------------------
# Titles


def _modifiers_before(clause: str, start: int) -> list[str]:
    """The adjectives and ordinals right before ``start`` (at most six)."""
    before = clause[:start].split(" ")
    if before and before[-1] == "":
        before.pop()
    modifiers: list[str] = []
    while before and len(modifiers) < 6 and is_modifier(before[-1]):
        modifiers.insert(0, before.pop())
    return modifiers


def _name_end(masked: str, end: int, noun: Noun | None) -> int:
    """Where the event's name that ends its head word at ``end`` ends."""
    rest = masked[end:]
    cut = _TITLE_CUT.search(rest)
    title_end = end + (cut.start() if cut else len(rest))
    if noun is None or noun.generic:
        return title_end
    # "фестиваль X и конкурс Y": the second event noun starts a second name.
    for conj in re.finditer(r"\s+и\s+", masked[end:title_end]):
        following = masked[end + conj.end() : end + conj.end() + 80]
        head = following.split(" ")[:5]
        if any(_TRIGGER.fullmatch(w.strip(",.;:")) for w in head):
            return end + conj.start()
    return title_end


@dataclass(frozen=True)
class _Name:
    """An event name's parts: ``modifiers`` + ``head`` + ``tail``."""

    modifiers: list[str]
    head: str
    tail: str


def _day_nominative(word: str, modifiers: list[str], tail: str) -> _Name:
    head = "День " + word.split(None, 1)[1]
    if word.split(None, 1)[0].lower() != "день":
        modifiers = [adjective_nominative(m, "m", "sg") for m in modifiers]
    return _Name(modifiers, head, tail)


def _noun_nominative(word: str, noun: Noun, modifiers: list[str], tail: str) -> _Name:
    low = word.lower()
    in_sg = low in noun.sg_forms
    in_pl = low in noun.pl_forms
    participle = _PARTICIPLE.match(tail)
    hint = number_hint([*modifiers[-1:], *([participle.group(2)] if participle else [])])
    number = (hint or noun.prefer) if in_sg and in_pl else ("pl" if in_pl else "sg")
    lemma = noun.plural if number == "pl" else noun.singular
    head = word
    if low != lemma:
        head = lemma
        modifiers = [adjective_nominative(m, noun.gender, number) for m in modifiers]
    if participle:
        fixed = adjective_nominative(participle.group(2), noun.gender, number)
        tail = participle.group(1) + fixed + tail[participle.end() :]
    return _Name(modifiers, head, tail)


def _finish(name: _Name) -> str | None:
    """The title text of ``name``, trimmed and bounded; ``None`` if too short."""
    title = " ".join([*name.modifiers, name.head]) + name.tail
    title = strip_trailing(re.sub(r"\s+", " ", title))
    if title.count("«") > title.count("»"):
        title += "»"
    if len(title) > MAX_TITLE_LEN:
        title = strip_trailing(title[:MAX_TITLE_LEN].rsplit(" ", 1)[0])
    if len(title.split()) < 2:
        return None
    return capitalise(title)


def title_from(clause: str, masked: str, match: re.Match[str]) -> tuple[str, int] | None:
    """The event title around the trigger ``match`` and where it ends in ``clause``."""
    start, end = match.span()
    word = match.group(0)
    noun = None if match.group("day") else NOUN_BY_FORM.get(word.lower())
    if noun is not None and noun.generic and not _GENERIC_COMPLEMENT.match(masked[end:]):
        return None
    modifiers = _modifiers_before(clause, start)
    title_end = _name_end(masked, end, noun)
    tail = clause[end:title_end]
    if noun is None:
        name = _day_nominative(word, modifiers, tail)
    else:
        name = _noun_nominative(word, noun, modifiers, tail)
    title = _finish(name)
    return None if title is None else (title, title_end)


# --------------------------------------------------------------------------
# Events of an answer


def _clauses(sentence: str) -> Iterable[tuple[str, str]]:
    """The clauses of ``sentence``, each with its quote-masked copy."""
    masked_sentence = mask_quotes(sentence)
    bounds = [0]
    for split in _CLAUSE_SPLIT.finditer(masked_sentence):
        bounds.extend((split.start(), split.end()))
    bounds.append(len(sentence))
    for a, b in zip(bounds[::2], bounds[1::2], strict=True):
        yield sentence[a:b], masked_sentence[a:b]


def _titles_in(clause: str, masked: str) -> Iterable[str]:
    position = 0
    while match := _TRIGGER.search(masked, position):
        found = title_from(clause, masked, match)
        if found is None:
            position = match.end()
            continue
        title, position = found
        yield title


def events_in(answer: list[str], year: int, section: SourceSection) -> list[ParsedEvent]:
    """The events the paragraphs of one ``answer`` name, in order (with repeats)."""
    events: list[ParsedEvent] = []
    for paragraph in answer:
        for sentence in sentences(strip_list_marker(paragraph)):
            for clause, masked in _clauses(sentence):
                events.extend(
                    ParsedEvent(
                        title=title,
                        year=year,
                        format=format_of(clause) or format_of(sentence) or "offline",
                        level=level_of(title, clause),
                        summary=md_escape(sentence),
                        source_section=section,
                    )
                    for title in _titles_in(clause, masked)
                )
    return events


def dedupe(events: Iterable[ParsedEvent]) -> tuple[ParsedEvent, ...]:
    """``events`` without repeats of the same title (any case, ё as е) and year."""
    seen: set[tuple[str, int]] = set()
    out: list[ParsedEvent] = []
    for event in events:
        key = (event.title.lower().replace("ё", "е"), event.year)
        if key not in seen:
            seen.add(key)
            out.append(event)
    return tuple(out)
