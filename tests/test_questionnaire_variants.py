"""Questionnaires of other cities and departments
(tests/data/questionnaires/variants/): the reader's result is compared with
the expected one written beside each text (pure: no app, no database)."""

from __future__ import annotations

import pytest

from service.questionnaire.parse import ParsedEvent, ParsedQuestionnaire, parse_questionnaire
from service.questionnaire.topics import event_topics, note_topics
from tests.questionnaire_figures import HELD_OUT, VARIANTS, expected, key, measure, names

# What the README reports; a change that lowers a figure fails here.
MINIMUM = {
    "notes": 12,
    "main_topic_first": 12,
    "expected_events": 54,
    "matched": 54,
    "extra": 0,
    "stage": 54,
    "year": 54,
    "month": 54,
    "dates": 54,
    "format": 54,
}


def parse(name: str) -> ParsedQuestionnaire:
    return parse_questionnaire((VARIANTS / f"{name}.txt").read_text(encoding="utf-8"))


def event(parsed: ParsedQuestionnaire, title: str) -> ParsedEvent:
    found = {key(e.title): e for e in parsed.events}
    assert key(title) in found, [e.title for e in parsed.events]
    return found[key(title)]


def test_there_are_at_least_ten_variants() -> None:
    assert len(names()) >= 10
    for name in names():
        assert (VARIANTS / f"{name}.json").exists()


HELD_OUT_MINIMUM = {
    "notes": 3,
    "main_topic_first": 3,
    "expected_events": 10,
    "matched": 10,
    "extra": 0,
    "stage": 10,
    "year": 10,
    "month": 10,
    "dates": 10,
    "format": 10,
}


@pytest.mark.parametrize(
    ("folder", "minimum"),
    [(VARIANTS, MINIMUM), (HELD_OUT, HELD_OUT_MINIMUM)],
    ids=["variants", "held-out"],
)
def test_figures(folder, minimum: dict[str, int]) -> None:
    figures = measure(folder)
    got = {**vars(figures), "extra": figures.found_events - figures.matched}
    for what, least in minimum.items():
        if what == "extra":
            assert got[what] <= least, figures.misses
        else:
            assert got[what] >= least, (what, figures.misses)


@pytest.mark.parametrize("name", names())
def test_variant(name: str) -> None:
    want = expected(name)
    parsed = parse(name)
    assert (parsed.city_name, parsed.year) == (want["city"], want["year"])
    assert note_topics(parsed)[0] == want["main_topic"]
    for event_want in want["events"]:
        got = event(parsed, event_want["title"])
        assert got.title == event_want["title"]
        assert (got.stage, got.year, got.month, got.format) == (
            event_want["stage"],
            event_want["year"],
            event_want["month"],
            event_want["format"],
        ), got.title
        assert str(got.starts_on) == str(event_want.get("starts_on"))
        assert str(got.ends_on) == str(event_want.get("ends_on"))
    for got in parsed.events:
        assert not got.summary[0].islower() and got.summary.endswith((".", "!", "?", "…"))
        assert not got.summary.startswith(("Кроме того", "Так,", "Также", "Помимо"))


# ---------------------------------------------------------------------------
# What the issue found, one by one


def test_summaries_are_whole_sentences_without_connectives() -> None:
    chita = parse("chita-2021-culture")
    film = event(chita, "II Забайкальский кинофестиваль «Кадр»")
    assert film.summary.startswith("В сентябре состоялся II Забайкальский кинофестиваль")
    piano = event(chita, "Городской конкурс юных пианистов «Серебряные клавиши»")
    assert piano.summary.startswith("Впервые в онлайн-формате прошёл")
    yakutsk = parse("yakutsk-2022-sport")
    wrestling = event(yakutsk, "Международный турнир по вольной борьбе на призы Главы города")
    assert wrestling.summary == (
        "Провести в июне международный турнир по вольной борьбе на призы Главы города."
    )


def test_compound_event_words_are_found() -> None:
    found = {
        "chita-2021-culture": "II Забайкальский кинофестиваль «Кадр»",
        "abakan-2021-consumer-market": "Республиканская выставка-ярмарка «Сделано в Хакасии»",
        "yuzhno-sakhalinsk-2023-civil-defence": (
            "Городской смотр-конкурс добровольных пожарных дружин"
        ),
        "yakutsk-2022-sport": "Полумарафон «Якутская осень»",
    }
    for name, title in found.items():
        assert event(parse(name), title)
    # A compound that names a means, not an event:
    vladivostok = parse("vladivostok-2022-international")
    assert not any("Видеоконференц" in e.title for e in vladivostok.events)


def test_an_event_named_only_by_its_kind() -> None:
    assert event(parse("yakutsk-2022-sport"), "Спартакиада").stage == "held"


def test_titles_end_where_the_name_ends() -> None:
    khabarovsk = parse("khabarovsk-2021-transport")
    assert event(khabarovsk, "Конкурс профессионального мастерства водителей троллейбусов")
    chita = parse("chita-2021-culture")
    assert event(chita, "Мероприятия, посвящённые Дню города Читы")  # not "..., в том числе"
    kemerovo = parse("kemerovo-2021-education")
    assert event(kemerovo, "Городской фестиваль науки «Кузбасс-Наукоград»")  # not "... и"
    # "ко Дню города" is when the results were given, not an event:
    gorno = parse("gorno-altaysk-2021-information-policy")
    assert not any(e.title.startswith("День города") for e in gorno.events)


def test_planned_and_held_follow_the_verbs() -> None:
    blagoveshchensk = parse("blagoveshchensk-2022-youth")
    postponed = event(blagoveshchensk, "Молодёжный медиафорум")  # in the achievements answer
    assert (postponed.stage, postponed.year, postponed.month) == ("planned", 2023, None)
    assert postponed.source_section == "achievements"
    khabarovsk = parse("khabarovsk-2021-transport")
    autumn = event(khabarovsk, "Научно-практическая конференция по безопасности дорожного движения")
    assert (autumn.stage, autumn.month) == ("planned", None)  # "осенью": the May is not its


def test_dates_near_the_event() -> None:
    vladivostok = parse("vladivostok-2022-international")
    conference = event(
        vladivostok, "Международная конференция городов-побратимов «Диалог на Тихом океане»"
    )
    assert (str(conference.starts_on), str(conference.ends_on)) == ("2022-10-05", "2022-10-07")
    magadan = parse("magadan-2022-social")
    concert = event(magadan, "Праздничный концерт ко Дню пожилого человека")
    decade = event(magadan, "Декада милосердия")
    assert str(concert.starts_on) == "2022-10-01"
    assert decade.month == 10 and decade.starts_on is None  # the day is the concert's


def test_topics_issue_cases() -> None:
    organization = parse("novokuznetsk-2020-organization")
    assert note_topics(organization)[0] == "organization-hr"
    assert "international" not in note_topics(organization)
    transport = parse("khabarovsk-2021-transport")
    assert "sport" not in note_topics(transport)  # "транспорт" holds "спорт"
    education = parse("kemerovo-2021-education")
    forum = event(
        education, "Городской педагогический форум «Образование Кузбасса: новые ориентиры»"
    )
    assert event_topics(forum, note_topics(education))[0] == "education"
    chita = parse("chita-2021-culture")
    city_day = event(chita, "Мероприятия, посвящённые Дню города Читы")
    assert event_topics(city_day, note_topics(chita))[0] == "culture"


def test_events_without_topics_take_their_notes() -> None:
    novokuznetsk = parse("novokuznetsk-2020-organization")
    forum = event(novokuznetsk, "Городской форум ТОС «Активные люди»")
    note = note_topics(novokuznetsk)
    plain = ParsedEvent(**{**vars(forum), "title": "Форум", "summary": "Проведён форум."})
    assert event_topics(plain, note) == note
