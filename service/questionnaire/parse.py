"""Read the yearly questionnaire texts that ASDG member cities send in.

A questionnaire is plain text copied out of a word processor::

    ОМСК
    Организационная деятельность Администрации города Омска строится
    по нескольким направлениям:
    - ...
    Что наиболее значительное удалось сделать в 2020 году?
    <answer>
    Какие задачи стоят в 2021 году?
    <answer>
    Какую помощь и содействие может оказать АСДГ в решении стоящих проблем?
    <answer>

:func:`parse_questionnaire` turns such a text into a :class:`ParsedQuestionnaire`
(long fields as CommonMark) and the events the answers name
(:class:`ParsedEvent`). The module is pure: standard library only, no Flask,
no database. Every problem is a :class:`~service.errors.QuestionnaireError`
whose ``part`` says what is missing.

How the text is read
--------------------

1. *Clean-up.* CRLF/CR line ends, a BOM, zero-width characters, soft hyphens,
   non-breaking and other exotic spaces, tabs, repeated and trailing spaces
   are normalised away.
2. *City.* The first non-empty line is the city heading when it is short
   (at most four words, letters, spaces and hyphens only, optionally after
   ``г.``/``город`` and before a year): ``ОМСК`` -> ``Омск``,
   ``УЛАН-УДЭ`` -> ``Улан-Удэ``, ``КОМСОМОЛЬСК-НА-АМУРЕ`` ->
   ``Комсомольск-на-Амуре``. A name already in mixed case is kept.
3. *Broken lines.* Consecutive lines are joined into one paragraph when the
   second starts with a lower-case letter (unless the first ends with ``?``,
   ``:`` or ``;``), when the first ends with an abbreviation such as ``г.``,
   when the first is the beginning of a question (``Что ...``, ``Какую ...``)
   that the next line finishes, or when the first is long (six words or
   more) and does not end with sentence punctuation. Blank lines, list
   markers (``-``, ``–``, ``•``, ``* ``, ``1.``, ``2)``, ``а)``) and lines ending with
   ``.``/``!``/``?``/``…``/``:``/``;`` always end a paragraph.
4. *Questions.* A paragraph is a question when it ends with ``?`` (an
   optional parenthesised remark may follow) and is shorter than 250
   characters; a leading number (``1.``, ``2)``, ``Вопрос 3:``) is dropped.
   A known question followed by its answer on the same line is split at the
   ``?``. Questions are classified by meaning:

   * assistance -- mentions ``АСДГ``/``Ассоциаци…`` and ``помо…``/
     ``содейств…``/``поддерж…``;
   * achievements -- ``удалось``/``достигнут…``/``достижени…``/``итог…``;
   * plans -- ``задач…``/``план…``.

   A question that names a year wins over one that does not; questions about
   colleagues (``коллег``, ``других городов``) are never one of the three.
   Everything else -- unknown questions and second copies of known ones --
   goes to ``body`` with its answer, so no text is lost.
5. *Year.* The year of the achievements question (the last year of a range
   such as ``2019–2020``); failing that, the plans year minus one.
6. *Area.* A ``Направление деятельности: ...`` label when there is one;
   otherwise the words of the first sentence of the description, up to (not
   including) the owner of the work (``Администрации``, ``мэрии``, ``города``,
   ``муниципального`` ...; ``департамента``/``управления``/``комитета`` ... only
   once two words are taken), the first verb-like word (``строится``,
   ``является``, ``направлена`` ...), a dash, or a comma/colon. Without such
   a break within eight words, the first six words are used. At most
   120 characters.
7. *Events.* Each sentence of the achievements and plans answers is cut
   into clauses at ``, а также``, ``, и`` and ``;``. In a clause, an event
   noun (игры, фестиваль, форум, конференция, выставка, конкурс, чемпионат,
   турнир, слёт, олимпиада, марафон, соревнования, праздник, концерт, парад,
   семинар, День города; the generic мероприятия/акция only when a
   ``посвящённые``/``приуроченные``/``в честь``/``«...»`` complement follows)
   is extended backwards over adjectives and ordinals and forwards up to the
   end of the clause, a comma, a verb, or a place/format/date phrase
   (``на территории``, ``в онлайн режиме``, ``в сентябре`` ...). Nouns and
   their adjectives in an oblique case are put back in the nominative
   (``мероприятий, посвященных`` -> ``Мероприятия, посвященные``).
   Format: ``hybrid`` for гибрид/смешанн or both online and offline words,
   ``online`` for онлайн/дистанционно/видеоконференц/вебинар..., ``offline``
   for очно/в обычном режиме and by default; the clause decides first, then
   its sentence. Level: from the title, then the clause -- СНГ/международн/
   государств/стран -> international; России/российск/межрегиональн/
   всероссийск/федеральн/АСДГ -> interregional; област/края/краев/
   региональн/республик -> regional; else municipal. Events from the plans
   answer get the next year. Same title and year -> one event.

Long text fields are CommonMark: one paragraph per source paragraph,
separated by a blank line; list items as ``- item`` (numbered items as
``1. item``); characters that Markdown would read as markup (``*``, ``_``,
backquote, brackets, ``<``, a leading ``#`` ...) are backslash-escaped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from service.errors import QuestionnaireError

EventFormat = Literal["online", "offline", "hybrid"]
EventLevel = Literal["municipal", "regional", "interregional", "international"]
SourceSection = Literal["achievements", "plans"]

MAX_QUESTION_LEN: Final = 250
MAX_AREA_LEN: Final = 120
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


@dataclass(frozen=True)
class ParsedQuestionnaire:
    """A questionnaire split into its parts; long text fields are Markdown."""

    city_name: str
    area: str
    summary: str
    year: int
    achievements: str
    plans: str
    assistance: str
    body: str
    events: tuple[ParsedEvent, ...]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# --------------------------------------------------------------------------
# Clean-up


_LINE_BREAKS: Final = str.maketrans({"\u2028": "\n", "\u2029": "\n", "\x85": "\n", "\x0b": "\n"})
_INVISIBLE: Final = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\ufffe"))
_SPACES: Final = dict.fromkeys(
    map(ord, "\t\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
        "\u2009\u200a\u202f\u205f\u3000"),
    " ",
)  # fmt: skip
_MULTI_SPACE: Final = re.compile(r" {2,}")


def _clean_lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    text = text.translate(_INVISIBLE).translate(_SPACES)
    return [_MULTI_SPACE.sub(" ", line).strip() for line in text.split("\n")]


# --------------------------------------------------------------------------
# City heading

_CITY_PREFIX: Final = re.compile(r"^(?:г\.|гор\.|город(?:ской округ)?\b)\s*", re.IGNORECASE)
_CITY_SUFFIX: Final = re.compile(
    r"[\s,.:–—-]*(?:(?:19|20)\d{2})\s*(?:год[а-я]*|г\.?)?\s*\.?$", re.IGNORECASE
)
_CITY_NAME: Final = re.compile(r"^[A-Za-zА-Яа-яЁё]+(?:(?: |-)[A-Za-zА-Яа-яЁё]+)*$")
_CITY_PARTICLES: Final = frozenset({"на", "де", "он", "над", "при", "у"})


def _city_name(line: str) -> str | None:
    """The city named by a heading line, or ``None`` when it is no heading."""
    if _QUESTION_START.match(line):
        return None
    name = _CITY_PREFIX.sub("", line)
    name = _CITY_SUFFIX.sub("", name).strip(" .")
    name = re.sub(r"\s*[–—]\s*|\s*-\s*", "-", name)
    if not name or not _CITY_NAME.match(name) or len(name.replace("-", " ").split()) > 4:
        return None
    if name != name.upper() and name != name.lower():
        return name[0].upper() + name[1:]
    words = []
    for i, word in enumerate(re.split(r"([ -])", name.lower())):
        if word in (" ", "-") or (i > 0 and word in _CITY_PARTICLES):
            words.append(word)
        else:
            words.append(word[:1].upper() + word[1:])
    return "".join(words)


# --------------------------------------------------------------------------
# Paragraphs and list items

_BULLET: Final = re.compile(r"^(?:[-–—•·▪●◦○■□➢►✓]\s*|\*\s+)(?=\S)")
_NUMBERED: Final = re.compile(r"^(\d{1,2})\s*[.)]\s+(?=\S)")
_LETTERED: Final = re.compile(r"^[а-яa-z]\)\s+(?=\S)")
_QUESTION_NUMBER: Final = re.compile(
    r"^(?:вопрос\s*(?:№\s*)?\d{1,2}\s*[.:)]?|№?\s*\d{1,2}\s*[.):])\s*", re.IGNORECASE
)
_QUESTION_START: Final = re.compile(
    r"^(?:(?:вопрос\s*)?\d{1,2}\s*[.):]\s*)?"
    r"(?:что|чего|чем|как\w*|кто|где|когда|почему|зачем|сколько|назовите|опишите|"
    r"есть ли|в ч[её]м|в как\w+|на как\w+|с как\w+|по как\w+|за сч[её]т чего)\b",
    re.IGNORECASE,
)
_QMARK_END: Final = re.compile(r"\?\s*(?:\([^()]*\))?$")
_ABBREVIATIONS: Final = _words(
    "г гг ул им т д др пр руб тыс млн млрд чел ст просп пл обл р н э см стр кв км "
    "пос с мкр ок пер наб б-р туп ш"
)
_SENTENCE_END: Final = ".!?…"


def _is_list_item(line: str) -> bool:
    return bool(_BULLET.match(line) or _NUMBERED.match(line) or _LETTERED.match(line))


def _first_letter(line: str) -> str:
    for char in line:
        if char.isalpha():
            return char
        if char.isdigit():
            return ""
    return ""


def _ends_with_abbreviation(line: str) -> bool:
    match = re.search(r"(?:^|\s)([A-Za-zА-Яа-яЁё-]+)\.$", line)
    return bool(match) and match.group(1).lower() in _ABBREVIATIONS


def _looks_like_question(line: str) -> bool:
    body = _QUESTION_NUMBER.sub("", line, count=1)
    return len(body) < MAX_QUESTION_LEN and bool(_QMARK_END.search(body))


def _should_join(prev: str, line: str) -> bool:
    """Whether ``line`` continues the paragraph ``prev`` (a broken line)."""
    if _is_list_item(line) or _QMARK_END.search(prev):
        return False
    if prev.endswith((":", ";")):
        return False
    if _ends_with_abbreviation(prev):
        return True
    if _first_letter(line[:2]).islower():
        return True
    if prev[-1] in _SENTENCE_END:
        return False
    if (
        _QUESTION_START.match(prev)
        and _QMARK_END.search(line)
        and len(prev) + len(line) < MAX_QUESTION_LEN
        and not re.search(r"[.!?…;]\s", prev)
    ):
        return True
    if _looks_like_question(line):
        return False
    return _is_list_item(prev) or len(prev.split()) >= 6


def _paragraphs(lines: Iterable[str]) -> list[str]:
    """Join broken lines; each result is one paragraph or one list item."""
    paragraphs: list[str] = []
    current: str | None = None
    for line in lines:
        if not line:
            if current is not None:
                paragraphs.append(current)
            current = None
        elif current is None:
            current = line
        elif _should_join(current, line):
            glue = "" if re.search(r"\w-$", current) and line[:1].islower() else " "
            current = current + glue + line
        else:
            paragraphs.append(current)
            current = line
    if current is not None:
        paragraphs.append(current)
    return paragraphs


# --------------------------------------------------------------------------
# Markdown

_MD_INLINE: Final = re.compile(r"([\\`*_\[\]<])")
_MD_LINE_START: Final = re.compile(r"^(?:([#>+=|~-])|(\d+)([.)]))")


def _md_escape(text: str) -> str:
    text = _MD_INLINE.sub(r"\\\1", text)
    match = _MD_LINE_START.match(text)
    if match and match.group(1):
        return "\\" + text
    if match:
        return match.group(2) + "\\" + text[match.end(2) :]
    return text


def _markdown(paragraphs: Iterable[str]) -> str:
    """Paragraphs as CommonMark: blank line between blocks, tight lists."""
    out: list[str] = []
    previous_kind = ""
    for paragraph in paragraphs:
        if match := _NUMBERED.match(paragraph):
            kind = "ol"
            line = f"{match.group(1)}. {_md_escape(paragraph[match.end() :])}"
        elif match := _BULLET.match(paragraph):
            kind = "ul"
            line = f"- {_md_escape(paragraph[match.end() :])}"
        elif _LETTERED.match(paragraph):
            kind = "ul"
            line = f"- {_md_escape(paragraph)}"
        else:
            kind = "p"
            line = _md_escape(paragraph)
        if out:
            out.append("\n" if kind != "p" and kind == previous_kind else "\n\n")
        out.append(line)
        previous_kind = kind
    return "".join(out)


# --------------------------------------------------------------------------
# Questions

Kind = Literal["achievements", "plans", "assistance"]

_YEAR: Final = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_YEAR_RANGE: Final = re.compile(r"(?<!\d)(?:19|20)\d{2}\s*[-–—]\s*((?:19|20)\d{2})(?!\d)")
_ASSISTANCE_WHO: Final = re.compile(r"асдг|ассоциаци", re.IGNORECASE)
_ASSISTANCE_WHAT: Final = re.compile(r"помо[чщ]|содейств|поддерж", re.IGNORECASE)
_ACHIEVEMENTS: Final = re.compile(r"удалось|достигнут|достижени|итог", re.IGNORECASE)
_PLANS: Final = re.compile(r"задач|план", re.IGNORECASE)
_COLLEAGUES: Final = re.compile(r"коллег|других город|других муниципал", re.IGNORECASE)


@dataclass(frozen=True)
class _Question:
    text: str
    kind: Kind | None
    year: int | None


def _question_year(question: str) -> int | None:
    if match := _YEAR_RANGE.search(question):
        return int(match.group(1))
    if match := _YEAR.search(question):
        return int(match.group(1))
    return None


def _classify(question: str) -> _Question:
    year = _question_year(question)
    kind: Kind | None = None
    if _ASSISTANCE_WHO.search(question) and _ASSISTANCE_WHAT.search(question):
        kind = "assistance"
    elif _COLLEAGUES.search(question):
        kind = None
    elif _ACHIEVEMENTS.search(question):
        kind = "achievements"
    elif _PLANS.search(question):
        kind = "plans"
    return _Question(question, kind, year)


def _split_question(paragraph: str) -> tuple[str, str] | None:
    """``(question, answer on the same line)`` when the paragraph opens a question."""
    if _BULLET.match(paragraph) or _LETTERED.match(paragraph):
        return None
    numbered = _QUESTION_NUMBER.match(paragraph)
    body = paragraph[numbered.end() :] if numbered else paragraph
    if not body:
        return None
    if len(body) < MAX_QUESTION_LEN and _QMARK_END.search(body):
        return body, ""
    starts_like_question = bool(numbered) or bool(_QUESTION_START.match(body))
    if not starts_like_question:
        return None
    if len(body) < MAX_QUESTION_LEN and body.endswith(":") and _classify(body).kind:
        return body, ""
    mark = body.find("?")
    if 0 < mark < MAX_QUESTION_LEN and _classify(body[: mark + 1]).kind:
        return body[: mark + 1], body[mark + 1 :].strip()
    return None


@dataclass
class _Section:
    question: _Question
    paragraphs: list[str]


def _pick(sections: list[_Section], kind: Kind, *, need_year: bool) -> _Section | None:
    candidates = [s for s in sections if s.question.kind == kind]
    if need_year:
        with_year = [s for s in candidates if s.question.year is not None]
        candidates = with_year or candidates
    return candidates[0] if candidates else None


# --------------------------------------------------------------------------
# Area of activity

_AREA_LABEL: Final = re.compile(
    r"^(?:направлени[ея]|сфер[аы]|област[ьи]|вид)\s+(?:деятельности|работы)\s*[:–—-]\s*(.+)$",
    re.IGNORECASE,
)
_AREA_OWNERS: Final = _words(
    "администрации мэрии города г. городского муниципального муниципалитета думы главы "
    "мэра правительства"
)
_AREA_BODIES: Final = _words(
    "департамента управления комитета отдела службы центра учреждения аппарата"
)
_AREA_VERBS: Final = _words(
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


def _area(paragraphs: list[str]) -> str:
    if not paragraphs:
        return ""
    first = paragraphs[0]
    for pattern in (_BULLET, _NUMBERED, _LETTERED):
        first = pattern.sub("", first, count=1)
    if match := _AREA_LABEL.match(first):
        return _capitalise(_strip_trailing(match.group(1)))[:MAX_AREA_LEN].strip()
    sentence = _sentences(first)[0] if first else ""
    words = sentence.split()
    taken: list[str] = []
    broke = False
    for i, raw in enumerate(words):
        word = raw.strip("«»\"'()")
        low = word.lower()
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        if taken and (
            low in _AREA_OWNERS
            or (len(taken) >= 2 and low in _AREA_BODIES)
            or _is_verbish(low)
            or raw in ("–", "—", "-")
            or (low in ("в", "на", "по") and nxt.startswith(("город", "территори")))
        ):
            broke = True
            break
        taken.append(_strip_trailing(word))
        if raw[-1:] in ",:;(" or (raw[-1:] in ".!?…" and i + 1 < len(words)):
            broke = True
            break
        if len(taken) >= _AREA_MAX_WORDS:
            break
    if not broke and len(words) > _AREA_MAX_WORDS:
        taken = [_strip_trailing(w) for w in words[:_AREA_FALLBACK_WORDS]]
    area = _strip_trailing(" ".join(w for w in taken if w))
    if len(area) > MAX_AREA_LEN:
        area = _strip_trailing(area[:MAX_AREA_LEN].rsplit(" ", 1)[0])
    return _capitalise(area)


# --------------------------------------------------------------------------
# Sentences


def _sentences(text: str) -> list[str]:
    """Split a paragraph into sentences, minding ``г.``, ``т.д.`` and initials."""
    out: list[str] = []
    start = 0
    for match in re.finditer(r"[.!?…]+[»\"”)]*\s+(?=[«\"„(]?[А-ЯЁA-Z0-9])", text):
        if text[match.start()] == ".":
            before = re.search(r"([A-Za-zА-Яа-яЁё-]+)$", text[start : match.start()])
            word = before.group(1) if before else ""
            if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue
        out.append(text[start : match.end()].strip())
        start = match.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


def _strip_trailing(text: str) -> str:
    return re.sub(r"[\s,.;:–—-]+$", "", text.strip())


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


# --------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class _Noun:
    singular: str
    plural: str
    gender: Literal["m", "f", "n"]
    prefer: Literal["sg", "pl"]
    generic: bool
    sg_forms: frozenset[str]
    pl_forms: frozenset[str]


def _masculine(stem: str) -> _Noun:
    if stem.endswith("ь"):
        base = stem[:-1]
        sg = {stem, base + "я", base + "ю", base + "ем", base + "е"}
        pl = {base + "и", base + "ей", base + "ям", base + "ями", base + "ях"}
        return _Noun(stem, base + "и", "m", "sg", False, frozenset(sg), frozenset(pl))
    vowel = "и" if stem[-1] in "кгхжшчщ" else "ы"
    sg = {stem, stem + "а", stem + "у", stem + "ом", stem + "е"}
    pl = {stem + vowel, stem + "ов", stem + "ам", stem + "ами", stem + "ах"}
    return _Noun(stem, stem + vowel, "m", "sg", False, frozenset(sg), frozenset(pl))


def _feminine(lemma: str, *, generic: bool = False) -> _Noun:
    if lemma.endswith("ия"):
        base = lemma[:-1]
        sg = {lemma, base + "и", base + "ю", base + "ей"}
        pl = {base + "и", base + "й", base + "ям", base + "ями", base + "ях"}
        return _Noun(lemma, base + "и", "f", "sg", generic, frozenset(sg), frozenset(pl))
    base = lemma[:-1]
    vowel = "и" if base[-1] in "кгхжшчщ" else "ы"
    genitive_pl = base[:-1] + "о" + base[-1] if base.endswith("к") else base
    sg = {lemma, base + vowel, base + "е", base + "у", base + "ой"}
    pl = {base + vowel, genitive_pl, base + "ам", base + "ами", base + "ах"}
    return _Noun(lemma, base + vowel, "f", "sg", False, frozenset(sg), frozenset(pl))


def _neuter_ie(lemma: str, *, generic: bool, prefer: Literal["sg", "pl"]) -> _Noun:
    base = lemma[:-1]
    sg = {lemma, base + "я", base + "ю", base + "ем", base + "и"}
    pl = {base + "я", base + "й", base + "ям", base + "ями", base + "ях"}
    return _Noun(lemma, base + "я", "n", prefer, generic, frozenset(sg), frozenset(pl))


_GAMES: Final = _Noun(
    "игра",
    "игры",
    "f",
    "pl",
    False,
    frozenset({"игра", "игры", "игре", "игру", "игрой"}),
    frozenset({"игры", "игр", "играм", "играми", "играх"}),
)
_NOUNS: Final[tuple[_Noun, ...]] = (
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
_NOUN_BY_FORM: Final[dict[str, _Noun]] = {
    form: noun for noun in reversed(_NOUNS) for form in noun.sg_forms | noun.pl_forms
}
_CITY_DAY: Final = r"д(?:ень|ня|ню|нем|нём|не)\s+город\w*"
_TRIGGER: Final = re.compile(
    r"(?<!\w)(?:(?P<day>"
    + _CITY_DAY
    + r")|(?P<noun>"
    + "|".join(sorted(map(re.escape, _NOUN_BY_FORM), key=len, reverse=True))
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
_MODIFIER_STOP: Final = _words(
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
_ORDINAL: Final = re.compile(r"^(?:[IVXLC]+|\d{1,3}(?:-?[а-я]{1,3})?)$")
_STRESSED_STEM_ENDINGS: Final = ("городск", "краев", "областн", "окружн", "миров", "делов", "ледов")
_STRESSED_STEMS: Final = frozenset({"молод", "больш", "родн", "сельск"})


def _is_modifier(word: str) -> bool:
    if _ORDINAL.match(word):
        return True
    low = word.lower()
    if not _ADJECTIVE.match(word) or low in _MODIFIER_STOP:
        return False
    if low.endswith(("ение", "ание", "тие", "вие", "ствие")):
        return False
    return not low.startswith(_MODIFIER_STOP_STEMS)


def _adjective_nominative(word: str, gender: str, number: str) -> str:
    """Put an adjective (or participle) in the nominative of ``gender``/``number``."""
    if _ORDINAL.match(word):
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


def _number_hint(words: list[str]) -> str | None:
    """``"pl"``/``"sg"`` from the agreeing word next to the noun, if it tells."""
    for word in words:
        low = word.lower()
        if low.endswith(("ые", "ие", "ых", "их", "ыми", "ими")):
            return "pl"
        if low.endswith(("ый", "ий", "ая", "яя", "ое", "ее", "ую", "юю", "ого", "его", "ой")):
            return "sg"
    return None


def _mask_quotes(text: str) -> str:
    """Replace what is inside quotes with ``x`` so cuts never happen there."""

    def hide(match: re.Match[str]) -> str:
        inner = match.group(0)
        return inner[0] + "x" * (len(inner) - 2) + inner[-1]

    return re.sub(r"«[^«»]*»|„[^„“”]*[“”]|\"[^\"]*\"", hide, text)


def _format_of(text: str) -> EventFormat | None:
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


def _level_of(*texts: str) -> EventLevel:
    for text in texts:
        low = text.lower()
        if _INTERNATIONAL.search(low):
            return "international"
        if _INTERREGIONAL.search(low):
            return "interregional"
        if _REGIONAL.search(low):
            return "regional"
    return "municipal"


def _title_from(clause: str, masked: str, match: re.Match[str]) -> tuple[str, int] | None:
    """The event title around the trigger ``match`` and where it ends in ``clause``."""
    start, end = match.span()
    word = match.group(0)
    noun = None if match.group("day") else _NOUN_BY_FORM.get(word.lower())
    rest = masked[end:]
    if noun is not None and noun.generic and not _GENERIC_COMPLEMENT.match(rest):
        return None

    # Backwards over agreeing adjectives and ordinals.
    before = clause[:start].split(" ")
    if before and before[-1] == "":
        before.pop()
    modifiers: list[str] = []
    while before and len(modifiers) < 6 and _is_modifier(before[-1]):
        modifiers.insert(0, before.pop())

    # Forwards to the end of the noun phrase.
    cut = _TITLE_CUT.search(rest)
    title_end = end + (cut.start() if cut else len(rest))
    if noun is not None and not noun.generic:
        for conj in re.finditer(r"\s+и\s+", masked[end:title_end]):
            following = masked[end + conj.end() : end + conj.end() + 80]
            head = following.split(" ")[:5]
            if any(_TRIGGER.fullmatch(w.strip(",.;:")) for w in head):
                title_end = end + conj.start()
                break
    tail = clause[end:title_end]

    # Back to the nominative.
    head_word = word
    if match.group("day"):
        head_word = "День " + word.split(None, 1)[1]
        number, gender = "sg", "m"
        oblique = word.split(None, 1)[0].lower() != "день"
    else:
        assert noun is not None
        low = word.lower()
        in_sg = low in noun.sg_forms
        in_pl = low in noun.pl_forms
        participle = _PARTICIPLE.match(tail)
        hint = _number_hint([*modifiers[-1:], *([participle.group(2)] if participle else [])])
        number = (hint or noun.prefer) if in_sg and in_pl else ("pl" if in_pl else "sg")
        gender = noun.gender
        lemma = noun.plural if number == "pl" else noun.singular
        oblique = low != lemma
        if oblique:
            head_word = lemma
        if participle:
            fixed = _adjective_nominative(participle.group(2), gender, number)
            tail = participle.group(1) + fixed + tail[participle.end() :]
    if oblique:
        modifiers = [_adjective_nominative(m, gender, number) for m in modifiers]

    title = " ".join([*modifiers, head_word]) + tail
    title = _strip_trailing(re.sub(r"\s+", " ", title))
    if title.count("«") > title.count("»"):
        title += "»"
    if len(title) > MAX_TITLE_LEN:
        title = _strip_trailing(title[:MAX_TITLE_LEN].rsplit(" ", 1)[0])
    if len(title.split()) < 2:
        return None
    return _capitalise(title), title_end


def _events_in(answer: list[str], year: int, section: SourceSection) -> list[ParsedEvent]:
    events: list[ParsedEvent] = []
    for paragraph in answer:
        text = paragraph
        for pattern in (_BULLET, _NUMBERED, _LETTERED):
            text = pattern.sub("", text, count=1)
        for sentence in _sentences(text):
            masked_sentence = _mask_quotes(sentence)
            bounds = [0]
            for split in _CLAUSE_SPLIT.finditer(masked_sentence):
                bounds.extend((split.start(), split.end()))
            bounds.append(len(sentence))
            for a, b in zip(bounds[::2], bounds[1::2], strict=True):
                clause, masked = sentence[a:b], masked_sentence[a:b]
                position = 0
                while match := _TRIGGER.search(masked, position):
                    found = _title_from(clause, masked, match)
                    if found is None:
                        position = match.end()
                        continue
                    title, position = found
                    events.append(
                        ParsedEvent(
                            title=title,
                            year=year,
                            format=_format_of(clause) or _format_of(sentence) or "offline",
                            level=_level_of(title, clause),
                            summary=_md_escape(sentence),
                            source_section=section,
                        )
                    )
    return events


def _dedupe(events: Iterable[ParsedEvent]) -> tuple[ParsedEvent, ...]:
    seen: set[tuple[str, int]] = set()
    out: list[ParsedEvent] = []
    for event in events:
        key = (event.title.lower().replace("ё", "е"), event.year)
        if key not in seen:
            seen.add(key)
            out.append(event)
    return tuple(out)


# --------------------------------------------------------------------------
# Entry point


def parse_questionnaire(text: str) -> ParsedQuestionnaire:
    """Parse a questionnaire text (see the module docstring for the rules).

    Raises :class:`~service.errors.QuestionnaireError` with ``part`` set to
    ``"text"`` (nothing to read), ``"city"`` (no city heading), ``"achievements"``
    (no question about the year's achievements, or no answer to it) or
    ``"year"`` (no reporting year in the questions).
    """
    lines = _clean_lines(text)
    non_empty = [i for i, line in enumerate(lines) if line]
    if not non_empty:
        raise QuestionnaireError("Текст анкеты пуст.", part="text")
    city_name = _city_name(lines[non_empty[0]])
    if city_name is None:
        raise QuestionnaireError(
            "Не найдено название города: первая строка анкеты должна содержать только "
            "название города (например, «ОМСК»).",
            part="city",
        )

    header: list[str] = []
    sections: list[_Section] = []
    for paragraph in _paragraphs(lines[non_empty[0] + 1 :]):
        split = _split_question(paragraph)
        if split is not None:
            question, answer = split
            sections.append(_Section(_classify(question), [answer] if answer else []))
        elif sections:
            sections[-1].paragraphs.append(paragraph)
        else:
            header.append(paragraph)

    if not sections:
        raise QuestionnaireError(
            "В тексте не найдено ни одного вопроса анкеты (строки, оканчивающейся знаком «?»), "
            "в том числе вопроса о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    achievements = _pick(sections, "achievements", need_year=True)
    plans = _pick(sections, "plans", need_year=True)
    assistance = _pick(sections, "assistance", need_year=False)
    if achievements is None:
        raise QuestionnaireError(
            "Не найден вопрос о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    if not achievements.paragraphs:
        raise QuestionnaireError(
            "Нет ответа на вопрос о достижениях года («Что удалось сделать в ... году?»).",
            part="achievements",
        )
    if achievements.question.year is not None:
        year = achievements.question.year
    elif plans is not None and plans.question.year is not None:
        year = plans.question.year - 1
    else:
        raise QuestionnaireError(
            "Не удалось определить отчётный год: укажите его в вопросе о достижениях "
            "(например, «Что удалось сделать в 2020 году?»).",
            part="year",
        )

    known = {id(s) for s in (achievements, plans, assistance) if s is not None}
    body = "\n\n".join(
        f"**{_md_escape(s.question.text)}**"
        + (f"\n\n{_markdown(s.paragraphs)}" if s.paragraphs else "")
        for s in sections
        if id(s) not in known
    )
    events = _events_in(achievements.paragraphs, year, "achievements")
    if plans is not None:
        events += _events_in(plans.paragraphs, year + 1, "plans")

    return ParsedQuestionnaire(
        city_name=city_name,
        area=_area(header),
        summary=_markdown(header),
        year=year,
        achievements=_markdown(achievements.paragraphs),
        plans=_markdown(plans.paragraphs) if plans else "",
        assistance=_markdown(assistance.paragraphs) if assistance else "",
        body=body,
        events=_dedupe(events),
    )
