"""Guessing a note's or an event's topics (the Association's sections) from
its words, by lemma (:func:`service.language.lemmas`).

Each section has a vocabulary of lemmas and of two-word phrases
(``социальный поддержка``, ``гражданский оборона``); a phrase scores 2, a word
1, a word that is only a hint (``социальный``, ``фестиваль``) less. A note's
text is weighed by where it stands: the area of activity 4, the description
2, the answers 0.5 (a department of education that builds schools is still
about education); an event's title 2 and its sentence 1. The topics are
ranked by score; those with at least a third of the best score are kept (up
to three). An event whose words name no section takes its note's topics.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING, Final

from service.language import lemmas

if TYPE_CHECKING:
    from service.questionnaire.events import ParsedEvent
    from service.questionnaire.parse import ParsedQuestionnaire

MAX_TOPICS: Final = 3
_KEEP_SHARE: Final = 1 / 3
_PHRASE: Final = 2.0

#: Lemmas (``ё`` as ``е``) of each section, with their weights (1 unless given).
WORDS: Final[dict[str, dict[str, float]]] = {
    "informatization": {
        "информатизация": 1, "цифровой": 1, "цифровизация": 1, "портал": 1, "электронный": 0.5,
        "госуслуга": 1, "автоматизация": 1, "it": 1, "ит": 1, "геоинформационный": 1,
        "приложение": 0.5, "программный": 0.5, "цод": 1,
    },
    "land-property": {
        "земельный": 1, "имущество": 1, "имущественный": 1, "аренда": 1, "приватизация": 1,
        "кадастровый": 1, "недвижимость": 1, "землепользование": 1,
    },
    "information-policy": {
        "сми": 1, "журналист": 1, "журналистский": 1, "пресс": 1, "медиа": 1, "медиафорум": 1,
        "подписчик": 1, "газета": 1,
        "телевидение": 1, "информирование": 1, "информировать": 1, "информационный": 0.3,
        "сайт": 0.5, "публикация": 0.5,
    },
    "local-government": {
        "самоуправление": 1, "тос": 1, "дума": 1, "депутат": 0.5, "устав": 1, "староста": 1,
        "слушание": 1,
    },
    "housing-construction": {
        "жкх": 1, "жилищный": 1, "коммунальный": 0.5, "строительство": 0.5, "застройщик": 1,
        "капремонт": 1, "многоквартирный": 1, "теплоснабжение": 1, "водоснабжение": 1,
        "дорога": 1, "дорожный": 0.5, "жилье": 1, "аварийный": 1, "расселение": 1,
        "тротуар": 1,
    },
    "consumer-market": {
        "потребительский": 1, "торговля": 1, "торговый": 1, "ярмарка": 1, "нестационарный": 1,
        "общепит": 1, "потребитель": 1, "ярмарочный": 1, "рынок": 0.5, "услуга": 0.3,
    },
    "public-transport": {
        "транспорт": 1, "транспортный": 1, "автобус": 1, "автобусный": 1, "трамвай": 1,
        "трамвайный": 1, "троллейбус": 1, "троллейбусный": 1, "маршрут": 1, "маршрутный": 1,
        "пассажир": 1, "пассажирский": 1, "проезд": 1, "перевозчик": 1, "остановка": 0.5,
        "водитель": 0.5,
    },
    "urban-planning": {
        "градостроительный": 1, "градостроительство": 1, "генплан": 1, "архитектура": 1,
        "архитектурный": 1, "застройка": 1, "планировка": 1,
    },
    "legal": {
        "правовой": 1, "юридический": 1, "нормативный": 0.5, "суд": 1, "судебный": 1,
        "прокуратура": 1, "антикоррупционный": 1, "юрист": 1,
    },
    "education": {
        "образование": 1, "образовательный": 1, "школа": 1, "школьник": 1, "учитель": 1,
        "педагог": 1, "педагогический": 1, "ученик": 1, "учащийся": 0.5, "олимпиада": 0.5,
        "выпускник": 1, "егэ": 1, "старшеклассник": 0.5, "общеобразовательный": 1,
    },
    "economy-finance": {
        "бюджет": 1, "бюджетный": 1, "экономика": 1, "экономический": 1, "финансы": 1,
        "финансовый": 1, "налог": 1, "налоговый": 1, "инвестиция": 1, "инвестиционный": 1,
        "инвестор": 1, "предпринимательство": 1, "предприниматель": 0.5,
    },
    "youth-policy": {
        "молодежь": 1, "молодежный": 1, "волонтер": 1, "волонтерский": 1, "добровольческий": 1,
        "студенческий": 1, "студент": 1, "молодой": 0.5,
    },
    "organization-hr": {
        "организационный": 1, "кадровый": 1, "кадры": 1, "аттестация": 0.5,
        "квалификация": 0.5, "коллегия": 1, "совещание": 0.5, "документооборот": 1,
        "делопроизводство": 1, "стажировка": 0.5, "планирование": 0.5,
    },
    "international": {
        "международный": 1, "зарубежный": 1, "побратим": 1,
        "породненный": 1, "делегация": 0.5, "консульство": 1, "иностранный": 1,
        "внешнеэкономический": 1,
    },
    "labour-relations": {
        "трудовой": 1, "занятость": 1, "безработица": 1, "зарплата": 1, "работодатель": 1,
        "профсоюз": 1, "вакансия": 1, "трудоустройство": 1,
    },
    "elections": {
        "выборы": 1, "избирательный": 1, "избиратель": 1, "голосование": 1, "кандидат": 0.5,
        "явка": 1,
    },
    "civil-defence": {
        "пожарный": 1, "пожар": 1, "спасательный": 1, "спасатель": 1, "оповещение": 1,
        "паводок": 1, "эвакуация": 1, "учение": 0.5, "мчс": 1, "еддс": 1, "безопасность": 0.3,
    },
    "sport": {
        "спорт": 1, "спортивный": 1, "физкультура": 1, "физкультурный": 1, "спартакиада": 1,
        "марафон": 1, "полумарафон": 1, "турнир": 0.5, "чемпионат": 1, "соревнование": 0.5,
        "стадион": 1, "манеж": 1, "лыжный": 1, "лыжник": 1, "спортсмен": 1, "гто": 1,
        "борьба": 0.5, "футбол": 1, "хоккей": 1, "футбольный": 1, "первенство": 0.5,
    },
    "healthcare": {
        "здравоохранение": 1, "больница": 1, "поликлиника": 1, "медицинский": 1, "врач": 1,
        "пациент": 1, "диспансеризация": 1, "вакцинация": 1,
    },
    "social-support": {
        "социальный": 0.3, "малоимущий": 1, "пенсионер": 1, "инвалид": 1, "инвалидность": 1,
        "ветеран": 0.5, "многодетный": 1, "благотворительный": 1, "реабилитация": 1,
        "милосердие": 1, "маломобильный": 1, "адресный": 1,
    },
    "culture": {
        "культура": 1, "культурный": 1, "библиотека": 1, "музей": 1, "театр": 1,
        "концерт": 1, "фестиваль": 0.3, "творческий": 1, "творчество": 1, "искусство": 1,
        "художественный": 1, "кинофестиваль": 1, "фильм": 1, "праздник": 1,
        "праздничный": 1, "гастроли": 1, "пианист": 1, "музыкальный": 1, "выставка": 0.3,
        "драматический": 1, "народный": 0.3,
    },
    "ecology": {
        "экология": 1, "экологический": 1, "благоустройство": 1, "благоустроить": 1,
        "озеленение": 1, "дерево": 1, "сквер": 1, "парк": 0.5, "субботник": 1, "отход": 1,
        "мусор": 1, "уборка": 1, "природоохранный": 1, "кустарник": 1,
    },
}  # fmt: skip

#: Two-word phrases (lemmas) of each section.
PHRASES: Final[dict[str, frozenset[tuple[str, str]]]] = {
    "informatization": frozenset({("информационный", "технология"), ("информационный", "система"),
                                  ("умный", "город"), ("электронный", "документооборот")}),
    "information-policy": frozenset({("информационный", "политика"), ("социальный", "сеть"),
                                     ("средство", "массовый"), ("официальный", "сайт")}),
    "local-government": frozenset({("местный", "самоуправление"), ("публичный", "слушание"),
                                   ("общественный", "самоуправление")}),
    "housing-construction": frozenset({("капитальный", "ремонт"), ("управлять", "компания"),
                                       ("жилой", "дом")}),
    "consumer-market": frozenset({("потребительский", "рынок"), ("общественный", "питание"),
                                  ("защита", "право")}),
    "public-transport": frozenset({("подвижной", "состав"), ("дорожный", "движение"),
                                   ("общественный", "транспорт")}),
    "urban-planning": frozenset({("генеральный", "план"), ("городской", "среда")}),
    "education": frozenset({("детский", "сад"), ("дополнительный", "образование")}),
    "economy-finance": frozenset({("малый", "бизнес"), ("муниципальный", "долг")}),
    "youth-policy": frozenset({("молодой", "человек"), ("студенческий", "отряд")}),
    "organization-hr": frozenset({("муниципальный", "служба"), ("муниципальный", "служащий"),
                                  ("обращение", "гражданин"), ("кадровый", "резерв")}),
    "international": frozenset({("международный", "связь"), ("международный", "сотрудничество")}),
    "labour-relations": frozenset({("заработный", "плата"), ("рынок", "труд"),
                                   ("охрана", "труд"), ("социальный", "партнерство")}),
    "elections": frozenset({("избирательный", "комиссия")}),
    "civil-defence": frozenset({("гражданский", "оборона"), ("чрезвычайный", "ситуация"),
                                ("пожарный", "безопасность"), ("безопасный", "город")}),
    "sport": frozenset({("физический", "культура"), ("массовый", "спорт")}),
    "healthcare": frozenset({("здоровый", "образ")}),
    "social-support": frozenset({("социальный", "поддержка"), ("социальный", "помощь"),
                                 ("социальный", "защита"), ("социальный", "политика"),
                                 ("ограничить", "возможность"), ("пожилой", "человек"),
                                 ("социальный", "такси"), ("социальный", "обслуживание")}),
    "culture": frozenset({("дом", "культура"), ("день", "город"), ("школа", "искусство")}),
    "ecology": frozenset({("окружающий", "среда"), ("зеленый", "насаждение"),
                          ("раздельный", "сбор"), ("охрана", "окружающий")}),
}  # fmt: skip

_PHRASE_OWNERS: Final[dict[tuple[str, str], list[str]]] = defaultdict(list)
for _code, _pairs in PHRASES.items():
    for _pair in _pairs:
        _PHRASE_OWNERS[_pair].append(_code)


def scores(weighted: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Each section's score over texts with their weights."""
    total: dict[str, float] = defaultdict(float)
    for text, weight in weighted:
        words = lemmas(text)
        in_phrase: set[int] = set()
        for i, pair in enumerate(pairwise(words)):
            for code in _PHRASE_OWNERS.get(pair, ()):
                total[code] += _PHRASE * weight
                in_phrase.update((i, i + 1))
        for i, word in enumerate(words):
            if i in in_phrase:
                continue
            for code, vocabulary in WORDS.items():
                if word in vocabulary:
                    total[code] += vocabulary[word] * weight
    return dict(total)


def rank(weighted: Iterable[tuple[str, float]]) -> list[str]:
    """Topic codes by score, those with a third of the best score (up to three)."""
    found = scores(weighted)
    if not found:
        return []
    best = max(found.values())
    order = sorted(found, key=lambda code: (-found[code], code))
    return [code for code in order if found[code] >= best * _KEEP_SHARE][:MAX_TOPICS]


def note_topics(parsed: ParsedQuestionnaire) -> list[str]:
    """The topics of a questionnaire's note, the main one first."""
    return rank(
        [
            (parsed.area, 4.0),
            (parsed.summary, 2.0),
            (parsed.achievements, 0.5),
            (parsed.plans, 0.5),
            (parsed.assistance, 0.25),
        ]
    )


def event_topics(event: ParsedEvent, note: list[str]) -> list[str]:
    """An event's topics from its title and sentence; its note's if none."""
    return rank([(event.title, 2.0), (event.summary, 1.0)]) or list(note)
