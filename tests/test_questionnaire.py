"""Unit tests of the questionnaire parser (pure: no app, no database)."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.errors import QuestionnaireError
from service.questionnaire.parse import (
    ParsedEvent,
    ParsedQuestionnaire,
    parse_questionnaire,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "questionnaires"
SAMPLE = DATA / "omsk-2020.txt"


def read(name: str) -> str:
    """Read a fixture keeping its exact line ends (CRLF, CR) and BOM."""
    return (DATA / name).read_bytes().decode("utf-8")


def find_event(parsed: ParsedQuestionnaire, *words: str) -> ParsedEvent:
    matches = [e for e in parsed.events if all(w.lower() in e.title.lower() for w in words)]
    assert matches, f"no event with {words!r} in {[e.title for e in parsed.events]!r}"
    return matches[0]


def plain_words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[0-9A-Za-zА-Яа-яЁё]+", text.replace("\\", ""))}


@pytest.fixture(scope="module")
def omsk() -> ParsedQuestionnaire:
    return parse_questionnaire(SAMPLE.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------
# The real sample


def test_sample_copies_are_byte_identical() -> None:
    shared = Path("/work/shared/samples/omsk-2020.txt")
    demo = ROOT / "service" / "demo" / "omsk-2020.txt"
    assert demo.read_bytes() == SAMPLE.read_bytes()
    if shared.exists():
        assert shared.read_bytes() == SAMPLE.read_bytes()


def test_omsk_heading_area_year(omsk: ParsedQuestionnaire) -> None:
    assert omsk.city_name == "Омск"
    assert omsk.area == "Организационная деятельность"
    assert omsk.year == 2020


def test_omsk_summary_joins_broken_lines_and_keeps_list(omsk: ParsedQuestionnaire) -> None:
    assert "строится по нескольким направлениям" in omsk.summary
    lines = omsk.summary.split("\n")
    items = [line for line in lines if line.startswith("- ")]
    assert len(items) == 2
    assert items[0].startswith("- организация и проведение работы по планированию")
    assert items[1].startswith("- организационное обеспечение основных городских мероприятий")
    # The sentence before the list is its own paragraph, separated by a blank line.
    assert lines[0].endswith("направлениям:")
    assert lines[1] == ""
    # No question text leaks into the description.
    assert "?" not in omsk.summary


def test_omsk_answers(omsk: ParsedQuestionnaire) -> None:
    assert "Дельфийские игры" in omsk.achievements
    assert omsk.achievements.startswith("В связи с неблагополучной")
    assert "Какие задачи" not in omsk.achievements
    assert "связанной с распространением CoViD-19" in omsk.plans
    assert "76-й годовщине Победы" in omsk.plans
    assert "большая помощь в организации работы" in omsk.assistance
    assert omsk.assistance.endswith("очень важна и актуальна.")
    assert omsk.body == ""


def test_omsk_paragraphs_are_markdown_paragraphs(omsk: ParsedQuestionnaire) -> None:
    paragraphs = omsk.achievements.split("\n\n")
    assert len(paragraphs) == 3
    assert all(p.strip() == p and "\n" not in p for p in paragraphs)
    assert len(omsk.plans.split("\n\n")) == 2
    for field in (omsk.summary, omsk.achievements, omsk.plans, omsk.assistance):
        assert "\u00a0" not in field
        assert "  " not in field
        assert not re.search(r" $", field, re.MULTILINE)


def test_omsk_markdown_renders_as_commonmark(omsk: ParsedQuestionnaire) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    md = markdown_it.MarkdownIt("commonmark")
    summary = md.render(omsk.summary)
    assert summary.count("<li>") == 2
    assert summary.count("<ul>") == 1
    assert md.render(omsk.achievements).count("<p>") == 3


def test_omsk_events_achievements(omsk: ParsedQuestionnaire) -> None:
    delphic_russia = find_event(omsk, "Девятнадцатые", "Дельфийские игры России")
    delphic_cis = find_event(omsk, "Дельфийские игры", "СНГ")
    victory = find_event(omsk, "75-й годовщине Победы")
    city_day = find_event(omsk, "Дню города Омска")
    for event in (delphic_russia, delphic_cis, victory, city_day):
        assert event.year == 2020
        assert event.format == "online"
        assert event.source_section == "achievements"
        assert event.title[0].isupper()
        assert not event.title.endswith((".", ",", ";", ":"))
        # The whole sentence, without its leading "Так," or "Кроме того,".
        assert event.summary[1:] in omsk.achievements
        assert not event.summary.startswith(("Так", "Кроме"))
        assert event.stage == "held"
    assert delphic_russia is not delphic_cis
    assert "«Мы помним…»" in delphic_cis.title
    assert "на территории" not in delphic_cis.title
    assert delphic_cis.level == "international"
    assert delphic_russia.level == "interregional"
    assert victory.title.startswith("Мероприятия, посвященные 75-й годовщине Победы")
    assert city_day.title == "Мероприятия, посвященные Дню города Омска"
    assert city_day.level == "municipal"


def test_omsk_events_plans(omsk: ParsedQuestionnaire) -> None:
    plans = [e for e in omsk.events if e.source_section == "plans"]
    assert {e.year for e in plans} == {2021}
    city_day = find_event(omsk, "Дня города Омска")
    victory = find_event(omsk, "76-й годовщине Победы")
    for event in (city_day, victory):
        assert event in plans
        assert event.format == "offline"  # the sentence naming them does not say онлайн
        assert event.title.startswith("Мероприятия, посвященные")


def test_omsk_events_are_clean_and_unique(omsk: ParsedQuestionnaire) -> None:
    keys = [(e.title.lower(), e.year) for e in omsk.events]
    assert len(keys) == len(set(keys))
    for event in omsk.events:
        assert len(event.title.split()) >= 2 and len(event.title) <= 200
        assert event.format in {"online", "offline", "hybrid"}
        assert event.level in {"municipal", "regional", "interregional", "international"}
    # Generic mentions ("проведение массовых мероприятий") are no events.
    assert not any("массовых" in e.title for e in omsk.events)


def test_results_are_frozen(omsk: ParsedQuestionnaire) -> None:
    with pytest.raises(FrozenInstanceError):
        omsk.year = 2021  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        omsk.events[0].title = "x"  # type: ignore[misc]
    assert isinstance(omsk.events, tuple)


@pytest.mark.parametrize(
    "transform",
    [
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="crlf"),
        pytest.param(lambda t: t.replace("\n", "\r"), id="cr"),
        pytest.param(lambda t: "\ufeff" + t, id="bom"),
        pytest.param(lambda t: t.replace("\n", "  \t\n"), id="trailing-spaces"),
        pytest.param(lambda t: t.replace("\n\n", "\n\n\n\n"), id="extra-blank-lines"),
        pytest.param(lambda t: "\n\n" + t + "\n\n\n", id="leading-blank-lines"),
        pytest.param(lambda t: t.replace(" ", "\u00a0"), id="nbsp-everywhere"),
    ],
)
def test_sample_layout_variations_parse_the_same(omsk: ParsedQuestionnaire, transform) -> None:
    assert parse_questionnaire(transform(SAMPLE.read_text(encoding="utf-8"))) == omsk


# ---------------------------------------------------------------------------
# Variant texts

VARIANTS = {
    "novosibirsk-2021.txt": {
        "city": "Новосибирск",
        "year": 2021,
        "area": "Деятельность департамента транспорта",
        "summary": "- оптимизация маршрутной сети;",
        "achievements": "60 новых автобусов на газомоторном топливе и 15 низкопольных",
        "plans": "реконструкцию трамвайного кольца",
        "assistance": "обмена опытом",
        "body": "",
        "event": ("форум «Город без пробок»", 2021, "offline", "interregional"),
    },
    "irkutsk-2019-crlf.txt": {
        "city": "Иркутск",
        "year": 2019,
        "area": "Молодежная политика",
        "summary": "комитетом по социальной политике и культуре",
        "achievements": "в Свердловском округе, число постоянных участников",
        "plans": "развитие студенческих отрядов",
        "assistance": "по работе с молодежью в городах",
        "body": "",
        "event": ("Межрегиональный молодежный форум", 2019, "hybrid", "interregional"),
    },
    "krasnoyarsk-bom.txt": {
        "city": "Красноярск",
        "year": 2022,
        "area": "Управление культуры",
        "summary": "отвечает за работу библиотек",
        "achievements": "более 50 тысяч гостей",
        "plans": "модельную библиотеку",
        "assistance": "гастролей творческих коллективов",
        "body": "",
        "event": ("Международный фестиваль «Мир Сибири»", 2022, "offline", "international"),
    },
    "ulan-ude-numbered.txt": {
        "city": "Улан-Удэ",
        "year": 2018,
        "area": "Физическая культура и спорт",
        "summary": "Администрации г. Улан-Удэ организует",
        "achievements": "Международный турнир по вольной борьбе",
        "plans": "2. провести республиканскую спартакиаду среди школьников;",
        "assistance": "совместных соревнований",
        "body": "**Какие успехи коллег из других городов вы бы отметили?**",
        "event": ("Республиканская спартакиада", 2019, "offline", "regional"),
    },
    "tomsk-no-assistance.txt": {
        "city": "Томск",
        "year": 2020,
        "area": "Деятельность департамента образования",
        "summary": "качественного общего и дополнительного образования",
        "achievements": "ликвидирована вторая смена",
        "plans": "«Образование Томска: новые горизонты»",
        "assistance": "",
        "body": "",
        "event": ("олимпиада школьников по информатике", 2020, "online", "municipal"),
    },
    "barnaul-blank-lines.txt": {
        "city": "Барнаул",
        "year": 2021,  # the achievements question has no year: plans 2022 - 1
        "area": "Комитет по дорожному хозяйству",
        "summary": "благоустройство общественных пространств",
        "achievements": "отремонтировано 27 км дорог",
        "plans": "проведение краевого фестиваля",
        "assistance": "Обмен опытом",
        "body": "",
        "event": ("Краевой фестиваль ландшафтного дизайна", 2022, "offline", "regional"),
    },
    "petropavlovsk-2023-cr-inline.txt": {
        "city": "Петропавловск-Камчатский",
        "year": 2023,
        "area": "Информатизация и цифровое развитие",
        "summary": "систему «Умный город»",
        "achievements": "Запущен городской портал обращений граждан",
        "plans": "Перевести в электронный вид",
        "assistance": "Методическая поддержка",
        "body": "",
        "event": ("конференция «Цифровой муниципалитет»", 2023, "online", "interregional"),
    },
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant(name: str) -> None:
    expected = VARIANTS[name]
    parsed = parse_questionnaire(read(name))
    assert parsed.city_name == expected["city"]
    assert parsed.year == expected["year"]
    assert parsed.area.startswith(expected["area"])
    assert 0 < len(parsed.area) <= 120
    assert expected["summary"] in parsed.summary
    assert expected["achievements"] in parsed.achievements
    assert expected["plans"] in parsed.plans
    if expected["assistance"]:
        assert expected["assistance"] in parsed.assistance
    else:
        assert parsed.assistance == ""
    if expected["body"]:
        assert expected["body"] in parsed.body
    else:
        assert parsed.body == ""
    words, year, fmt, level = expected["event"]
    event = find_event(parsed, words)
    assert (event.year, event.format, event.level) == (year, fmt, level)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variant_fields_are_clean(name: str) -> None:
    parsed = parse_questionnaire(read(name))
    fields = (parsed.summary, parsed.achievements, parsed.plans, parsed.assistance, parsed.body)
    for field in fields:
        assert "\r" not in field and "\ufeff" not in field and "\u00a0" not in field
        assert "\n\n\n" not in field
        assert field == field.strip()
    for event in parsed.events:
        assert event.year in (parsed.year, parsed.year + 1)
        assert (event.year == parsed.year) == (event.source_section == "achievements")
        assert len(event.title) <= 200 and event.title[0].isupper()


@pytest.mark.parametrize("name", [*sorted(VARIANTS), "omsk-2020.txt"])
def test_no_text_is_dropped(name: str) -> None:
    """Every word of the text lands in a field, except the city heading and questions."""
    text = read(name)
    parsed = parse_questionnaire(text)
    lines = [line for line in re.split(r"\r\n|\r|\n", text.lstrip("\ufeff")) if line.strip()]
    source = plain_words(" ".join(lines[1:]))
    # Questions (with their numbers) may be broken over lines: up to "?" (or ":").
    questions = re.findall(
        r"(?:(?:Вопрос\s*)?\d{1,2}\s*[.)]\s*)?(?:Что|Как\w*|Чем|Итоги)[^.?]*[?:]", " ".join(lines)
    )
    question_words = plain_words(" ".join(questions))
    output = plain_words(
        " ".join(
            [parsed.summary, parsed.achievements, parsed.plans, parsed.assistance, parsed.body]
        )
    )
    assert source - question_words - output == set()


def test_numbered_unknown_question_keeps_its_answer_in_body() -> None:
    parsed = parse_questionnaire(read("ulan-ude-numbered.txt"))
    assert parsed.body.startswith("**Какие успехи коллег из других городов вы бы отметили?**\n\n")
    assert "опыт Якутска по развитию национальных видов спорта" in parsed.body
    assert "Якутска" not in parsed.achievements + parsed.plans + parsed.assistance
    assert "3." not in parsed.body  # the question number is dropped


def test_plans_list_stays_a_markdown_list() -> None:
    parsed = parse_questionnaire(read("ulan-ude-numbered.txt"))
    assert parsed.plans.split("\n") == [
        "1. открыть физкультурно-оздоровительный комплекс в Октябрьском районе;",
        "2. провести республиканскую спартакиаду среди школьников;",
        "3. увеличить долю систематически занимающихся спортом до 40 %.",
    ]


def test_oblique_event_names_are_put_in_the_nominative() -> None:
    ulan_ude = parse_questionnaire(read("ulan-ude-numbered.txt"))
    assert find_event(ulan_ude, "марафон").title == "Городской марафон «Байкальская миля»"
    barnaul = parse_questionnaire(read("barnaul-blank-lines.txt"))
    festival = find_event(barnaul, "фестиваль")
    assert festival.title == "Краевой фестиваль ландшафтного дизайна «Сад мечты»"
    novosibirsk = parse_questionnaire(read("novosibirsk-2021.txt"))
    conference = find_event(novosibirsk, "конференция")
    assert conference.title.startswith("Всероссийская конференция «Безопасность")
    assert conference.source_section == "plans"


def test_enumerated_events_are_split() -> None:
    irkutsk = parse_questionnaire(read("irkutsk-2019-crlf.txt"))
    rally = find_event(irkutsk, "слёт")
    contest = find_event(irkutsk, "конкурс молодежных проектов")
    assert rally.title == "Всероссийский слёт студенческих отрядов"
    assert rally.level == "interregional"
    assert contest.title == "Областной конкурс молодежных проектов"
    assert contest.level == "regional"
    assert rally.year == contest.year == 2020


def test_broken_question_lines_are_joined() -> None:
    parsed = parse_questionnaire(read("barnaul-blank-lines.txt"))
    assert parsed.assistance == "Обмен опытом по содержанию городских парков и скверов."
    assert "АСДГ" not in parsed.plans


# ---------------------------------------------------------------------------
# Smaller texts


def test_city_names_are_normalised() -> None:
    tail = "\nЧто удалось сделать в 2020 году?\nОткрыта библиотека."
    cases = {
        "НОВОСИБИРСК": "Новосибирск",
        "новосибирск": "Новосибирск",
        "Новосибирск": "Новосибирск",
        "УЛАН-УДЭ": "Улан-Удэ",
        "КОМСОМОЛЬСК-НА-АМУРЕ": "Комсомольск-на-Амуре",
        "НИЖНИЙ НОВГОРОД": "Нижний Новгород",
        "г. Чита": "Чита",
        "Город Омск": "Омск",
        "ОМСК, 2020 год": "Омск",
    }
    for heading, name in cases.items():
        assert parse_questionnaire(heading + tail).city_name == name, heading


def test_known_question_with_answer_on_the_same_line() -> None:
    parsed = parse_questionnaire(read("petropavlovsk-2023-cr-inline.txt"))
    assert parsed.achievements.startswith("Запущен городской портал")
    assert "Что удалось" not in parsed.achievements
    assert parsed.plans.startswith("Перевести в электронный вид")
    assert "гибридном" in parsed.plans


def test_plans_year_must_not_be_reported_as_achievements_year() -> None:
    text = (
        "ТОМСК\nЧто удалось сделать в 2019 году?\nОткрыта школа.\n"
        "Какие задачи стоят в 2020 году?\nПостроить детский сад."
    )
    parsed = parse_questionnaire(text)
    assert parsed.year == 2019
    assert parsed.achievements == "Открыта школа."
    assert parsed.plans == "Построить детский сад."


def test_year_range_takes_the_last_year() -> None:
    text = "ОМСК\nКакие итоги работы в 2019–2020 годах?\nОткрыта школа."
    assert parse_questionnaire(text).year == 2020


def test_duplicate_known_question_goes_to_body() -> None:
    text = (
        "ОМСК\nЧто удалось сделать в 2020 году?\nОткрыта школа.\n"
        "Что еще удалось сделать в 2020 году?\nОткрыт бассейн."
    )
    parsed = parse_questionnaire(text)
    assert parsed.achievements == "Открыта школа."
    assert parsed.body == "**Что еще удалось сделать в 2020 году?**\n\nОткрыт бассейн."


def test_unknown_question_without_answer_is_kept() -> None:
    text = (
        "ОМСК\nЧто удалось сделать в 2020 году?\nОткрыта школа.\nЕсть ли у вас вопросы к коллегам?"
    )
    assert parse_questionnaire(text).body == "**Есть ли у вас вопросы к коллегам?**"


def test_events_are_deduplicated_by_title_and_year() -> None:
    text = (
        "ОМСК\nЧто удалось сделать в 2020 году?\n"
        "Проведен городской фестиваль «Сибирь».\n"
        "Городской фестиваль «Сибирь» прошел онлайн.\n"
        "Какие задачи стоят в 2021 году?\nПровести городской фестиваль «Сибирь»."
    )
    events = parse_questionnaire(text).events
    assert [(e.title, e.year) for e in events] == [
        ("Городской фестиваль «Сибирь»", 2020),
        ("Городской фестиваль «Сибирь»", 2021),
    ]
    assert events[0].format == "offline"  # the first sentence wins


def test_markdown_special_characters_are_escaped() -> None:
    text = "ОМСК\nЧто удалось сделать в 2020 году?\n*Важно*: проект [1] <b>\n# Не заголовок"
    achievements = parse_questionnaire(text).achievements
    assert achievements == "\\*Важно\\*: проект \\[1\\] \\<b>\n\n\\# Не заголовок"


def test_area_falls_back_to_first_words() -> None:
    text = (
        "ОМСК\nЖилищно коммунальное хозяйство дорожное хозяйство благоустройство "
        "озеленение и санитарная очистка территорий.\n"
        "Что удалось сделать в 2020 году?\nОткрыта школа."
    )
    area = parse_questionnaire(text).area
    assert area == "Жилищно коммунальное хозяйство дорожное хозяйство благоустройство"


def test_area_may_be_missing() -> None:
    parsed = parse_questionnaire("ОМСК\nЧто удалось сделать в 2020 году?\nОткрыта школа.")
    assert parsed.area == ""
    assert parsed.summary == ""
    assert parsed.plans == parsed.assistance == parsed.body == ""
    assert parsed.events == ()


# ---------------------------------------------------------------------------
# Errors


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("no-year.txt", "year"),
        ("no-achievements.txt", "achievements"),
        ("no-city.txt", "city"),
    ],
)
def test_broken_files_fail(name: str, part: str) -> None:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire(read(name))
    assert info.value.part == part
    assert info.value.field == part
    assert info.value.status_code == 422
    assert re.search(r"[А-Яа-яЁё]", info.value.message)


@pytest.mark.parametrize(
    ("text", "part"),
    [
        pytest.param("", "text", id="empty"),
        pytest.param(" \n\t\r\n\ufeff\u00a0\n", "text", id="whitespace-only"),
        pytest.param("ОМСК\nТекст без единого вопроса.", "achievements", id="no-questions"),
        pytest.param(
            "ОМСК\nКакие успехи коллег из других городов вы бы отметили?\nОпыт Томска.",
            "achievements",
            id="only-unknown-questions",
        ),
        pytest.param("ОМСК\nЧто удалось сделать в 2020 году?\n", "achievements", id="no-answer"),
        pytest.param("Что удалось сделать в 2020 году?\nОткрыта школа.", "city", id="no-heading"),
        pytest.param(
            "Департамент образования мэрии города Новосибирска\nЧто удалось сделать в 2020 году?"
            "\nОткрыта школа.",
            "city",
            id="prose-first-line",
        ),
        pytest.param(
            "ОМСК\nЧто удалось сделать?\nОткрыта школа.\nКакие планы?\nНовая школа.",
            "year",
            id="no-year-anywhere",
        ),
    ],
)
def test_error_parts(text: str, part: str) -> None:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire(text)
    assert info.value.part == part


def test_missing_achievements_message_names_the_question() -> None:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire(read("no-achievements.txt"))
    assert "достижени" in info.value.message
    assert "Что удалось сделать" in info.value.message


# ---------------------------------------------------------------------------
# Robustness

_PIECES = st.sampled_from(
    [
        "ОМСК",
        "Новосибирск",
        "\n",
        "\n\n",
        "\r\n",
        "\r",
        " ",
        "\u00a0",
        "\ufeff",
        "- ",
        "1. ",
        "2) ",
        "?",
        ".",
        ",",
        ":",
        "«",
        "»",
        "2020",
        "2021",
        "Что удалось сделать в 2020 году?",
        "Какие задачи стоят в 2021 году?",
        "Какую помощь может оказать АСДГ?",
        "Какие успехи коллег вы бы отметили?",
        "проведен городской фестиваль",
        "мероприятий, посвященных Дню города",
        "в онлайн режиме",
        "Дельфийские игры России",
        "а также",
        ", и ",
        "организация работы",
        "*_[]<>#`\\",
    ]
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=40).map("".join))
def test_any_text_parses_or_raises_questionnaire_error(text: str) -> None:
    try:
        parsed = parse_questionnaire(text)
    except QuestionnaireError as error:
        assert error.part in {"text", "city", "achievements", "year"}
        return
    assert parsed.city_name
    assert 1900 <= parsed.year <= 2099
    assert len(parsed.area) <= 120
    assert parsed.achievements
    for event in parsed.events:
        assert 0 < len(event.title) <= 200
        assert event.year in (parsed.year, parsed.year + 1)
