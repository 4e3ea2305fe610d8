"""Search latency over 100,000 generated entries on SQLite (FTS5) or PostgreSQL.

Builds a temporary database with entries whose text is Russian made from a
vocabulary (each word in several grammatical forms, common and rare words in
a Zipf-like mix), then times a few hundred inflected queries, some with
filters, through the service's search function, and a few through HTTP.
Target: 95th percentile under 50 ms.

``python -m bench search``; ``SEARCH_BENCH_ENTRIES=20000`` for a quicker run;
``SEARCH_BENCH_DATABASE_URL=postgresql://...`` (an empty database) for PostgreSQL;
``SEARCH_BENCH_REUSE=1`` keeps the entries of an earlier run in that database.
Also times the facet counts of the search page and of the overview.
"""

from __future__ import annotations

import logging
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select
from sqlalchemy import text as sql_text
from werkzeug.serving import make_server

from service import create_app
from service.entries.facets import facet_counts
from service.entries.filters import EntryFilter
from service.entries.search import index_text, search_entries
from service.fields import searchable
from service.language import lemma_forms
from service.store.db import init_db
from service.store.models import City, Entry, Topic, db, entry_topics
from service.vocab import TOPICS

ENTRIES = int(os.environ.get("SEARCH_BENCH_ENTRIES", "100000"))
QUERIES = 400
HTTP_QUERIES = 50
FACET_QUERIES = 40
BATCH = 5000
SEED = 20210315

CITIES = (
    "Омск", "Томск", "Новосибирск", "Красноярск", "Иркутск", "Барнаул", "Кемерово",
    "Новокузнецк", "Улан-Удэ", "Чита", "Якутск", "Хабаровск", "Владивосток", "Благовещенск",
    "Абакан", "Кызыл", "Горно-Алтайск", "Бийск", "Братск", "Ангарск", "Норильск",
    "Магадан", "Петропавловск-Камчатский", "Южно-Сахалинск", "Тюмень", "Сургут",
)  # fmt: skip

#: Words of the domain, each in several forms; earlier lexemes are more frequent.
LEXICON = (
    ("мероприятие", "мероприятия", "мероприятий", "мероприятиям", "мероприятиях"),
    ("город", "города", "городов", "городу", "городе", "городской", "городских"),
    ("администрация", "администрации", "администрацией"),
    ("работа", "работы", "работу", "работе", "работой"),
    ("проведение", "проведения", "проведено", "проведены", "проведён", "провести"),
    ("организация", "организации", "организацию", "организовано", "организованы"),
    ("развитие", "развития", "развитию", "развивать"),
    ("жители", "жителей", "жителям", "жителями"),
    ("проект", "проекта", "проекты", "проектов", "проектом"),
    ("программа", "программы", "программу", "программ", "программой"),
    ("онлайн", "онлайн-формат", "онлайн-режиме"),
    ("культура", "культуры", "культурных", "культурные"),
    ("молодёжь", "молодёжи", "молодёжной", "молодёжных"),
    ("спорт", "спорта", "спортивные", "спортивных", "спортивного"),
    ("благоустройство", "благоустройства", "благоустроены", "благоустроенных"),
    ("транспорт", "транспорта", "транспортной", "транспортных"),
    ("образование", "образования", "образовательных", "школ", "школы"),
    ("экономика", "экономики", "экономического", "экономических"),
    ("бюджет", "бюджета", "бюджетных", "бюджете"),
    ("обращение", "обращения", "обращений", "граждан"),
    ("совещание", "совещания", "совещаний", "заседание", "заседания"),
    ("праздник", "праздника", "праздничные", "праздничных", "празднования"),
    ("конкурс", "конкурса", "конкурсы", "конкурсов"),
    ("фестиваль", "фестиваля", "фестивали", "фестивалей"),
    ("выставка", "выставки", "выставок", "выставку"),
    ("игры", "игр", "играх", "игра", "игрой"),
    ("дельфийские", "дельфийских", "дельфийским"),
    ("субботник", "субботника", "субботники", "субботников"),
    ("двор", "двора", "дворов", "дворах", "дворовых"),
    ("парк", "парка", "парков", "парках", "сквер", "скверов"),
    ("дорога", "дороги", "дорог", "дорожного", "ремонт", "ремонта"),
    ("трамвай", "трамвая", "трамваев", "троллейбус", "троллейбусов"),
    ("отопление", "отопления", "теплоснабжения", "котельных"),
    ("выборы", "выборов", "избирательной", "избирательных"),
    ("пожарная", "пожарной", "безопасность", "безопасности"),
    ("паводок", "паводка", "паводков", "наводнения"),
    ("здравоохранение", "здравоохранения", "поликлиник", "больниц"),
    ("ветераны", "ветеранов", "ветеранам", "победы"),
    ("волонтёры", "волонтёров", "волонтёрских", "добровольцев"),
    ("туризм", "туризма", "туристических", "туристов"),
    ("инвестиции", "инвестиций", "инвестиционных", "инвесторов"),
    ("цифровизация", "цифровизации", "цифровых", "информатизации"),
    ("архив", "архива", "архивных", "документов"),
    ("кадры", "кадров", "кадровой", "сотрудников", "специалистов"),
    ("побратимы", "побратимами", "международного", "делегации", "делегаций"),
    ("ярмарка", "ярмарки", "ярмарок", "торговли", "торговых"),
    ("экология", "экологии", "экологических", "озеленения", "деревьев"),
    ("библиотека", "библиотеки", "библиотек", "чтения"),
    ("театр", "театра", "театров", "спектакли", "спектаклей"),
    ("хоккей", "хоккея", "хоккейных", "катка", "катков"),
    ("байкал", "байкала", "байкальской", "байкальских"),
    ("юбилей", "юбилея", "юбилейных", "годовщины"),
    ("стажировка", "стажировки", "стажировок", "обучения"),
    ("семинар", "семинара", "семинаров", "вебинар", "вебинаров"),
    ("грант", "гранта", "грантов", "субсидий"),
    ("мэр", "мэра", "мэрии", "главы"),
    ("депутаты", "депутатов", "думы", "совета"),
    ("земля", "земельных", "участков", "имущества"),
    ("приватизация", "приватизации", "аренды", "аукционов"),
    ("снегоуборка", "снегоуборки", "снега", "наледи"),
    # the long tail: words of particular practices
    ("акселератор", "акселератора", "акселераторе"), ("аллея", "аллеи", "аллей"),
    ("антитеррористическая", "антитеррористической"), ("аудит", "аудита", "аудиту"),
    ("бассейн", "бассейна", "бассейнов"), ("беспилотник", "беспилотников"),
    ("бизнес-инкубатор", "бизнес-инкубатора"), ("благотворительность", "благотворительной"),
    ("блокада", "блокады", "блокадного"), ("велодорожка", "велодорожки", "велодорожек"),
    ("видеонаблюдение", "видеонаблюдения"), ("водоотведение", "водоотведения"),
    ("водопровод", "водопровода", "водопроводных"),
    ("военно-патриотический", "военно-патриотических"),
    ("газификация", "газификации"), ("геоинформационная", "геоинформационной"),
    ("гимназия", "гимназии", "гимназий"), ("голосование", "голосования", "голосованию"),
    ("госпиталь", "госпиталя", "госпиталей"), ("градостроительный", "градостроительного"),
    ("дебаты", "дебатов"), ("детсад", "детсада", "детсадов", "детских садов"),
    ("диспансеризация", "диспансеризации"), ("дискуссия", "дискуссии", "дискуссий"),
    ("единоборства", "единоборствам"), ("енисей", "енисея", "енисейской"),
    ("жилфонд", "жилфонда", "аварийного", "расселения"), ("заповедник", "заповедника"),
    ("застройка", "застройки", "застройщиков"), ("зоопарк", "зоопарка"),
    ("иммиграция", "мигрантов", "миграционной"), ("инклюзия", "инклюзивной", "инклюзивных"),
    ("ипотека", "ипотеки", "ипотечных"), ("казначейство", "казначейства"),
    ("канализация", "канализации"), ("карантин", "карантина", "карантинных"),
    ("квест", "квеста", "квестов"), ("кибербезопасность", "кибербезопасности"),
    ("кинофестиваль", "кинофестиваля"), ("клещ", "клещей", "клещевого"),
    ("коворкинг", "коворкинга", "коворкингов"), ("колокол", "колокола"),
    ("компостирование", "компостирования"), ("концессия", "концессии", "концессионного"),
    ("краеведение", "краеведческого", "краеведческих"), ("ледокол", "ледокола"),
    ("лыжня", "лыжни", "лыжных", "лыжников"), ("марафон", "марафона", "марафонов"),
    ("медиация", "медиации"), ("метрополитен", "метрополитена"),
    ("мусоросортировка", "мусоросортировки", "сортировки", "отходов"),
    ("наставничество", "наставничества", "наставников"), ("набережная", "набережной"),
    ("некоммерческие", "некоммерческих", "нко"), ("оркестр", "оркестра", "оркестров"),
    ("освещение", "освещения", "фонарей"), ("паспортизация", "паспортизации"),
    ("пешеходный", "пешеходных", "переходов"), ("планетарий", "планетария"),
    ("платформа", "платформы", "платформе"), ("подтопление", "подтопления", "подтоплений"),
    ("половодье", "половодья"), ("приют", "приюта", "приютов", "бездомных"),
    ("реестр", "реестра", "реестров"), ("реновация", "реновации"),
    ("самбо", "борьбы", "борцов"), ("светофор", "светофоров", "светофорных"),
    ("скейтпарк", "скейтпарка"), ("сквош", "теннис", "тенниса"),
    ("смотр", "смотра", "смотров"), ("стадион", "стадиона", "стадионов"),
    ("тайга", "тайги", "таёжных"), ("тарифы", "тарифов", "тарифного"),
    ("техосмотр", "автобусов", "автобусного"), ("тифлокомментирование", "незрячих"),
    ("урбанистика", "урбанистики", "урбанистов"), ("фонтан", "фонтана", "фонтанов"),
    ("хакатон", "хакатона", "хакатонов"), ("хор", "хора", "хоровых"),
    ("чемпионат", "чемпионата", "чемпионатов"), ("шахматы", "шахматного", "шахматистов"),
    ("электробус", "электробусов"), ("эвакуация", "эвакуации", "эвакуационных"),
    ("юннаты", "юннатов"), ("ясли", "ясельных", "ясельных групп"),
    ("якутия", "якутии", "якутских"), ("сахалин", "сахалина", "сахалинских"),
    ("камчатка", "камчатки", "камчатских"), ("амур", "амура", "амурских"),
    ("ангара", "ангары", "ангарских"), ("обь", "оби", "обского"),
    ("фестиваль-конкурс", "фестиваля-конкурса"), ("эстафета", "эстафеты"),
    ("олимпиада", "олимпиады", "олимпиад"), ("стипендия", "стипендии", "стипендий"),
    ("соцзащита", "малоимущих", "многодетных"), ("инвалиды", "инвалидов", "доступной среды"),
    ("пенсионеры", "пенсионеров", "долголетия"), ("вакцинация", "вакцинации", "прививок"),
    ("телемедицина", "телемедицины"), ("скорая", "скорой помощи"),
    ("пожарные", "пожарных", "пожаров"), ("спасатели", "спасателей"),
    ("кадастр", "кадастра", "кадастровых"), ("межевание", "межевания"),
    ("лицензирование", "лицензий"), ("торги", "торгов", "закупок"),
    ("антикоррупционная", "антикоррупционной", "коррупции"), ("ревизия", "ревизии", "ревизий"),
)  # fmt: skip
FILLER = (
    "в", "и", "на", "с", "по", "для", "а также", "в рамках", "в течение года",
    "совместно с", "при участии", "в соответствии с планом", "на территории",
)  # fmt: skip
VERBS = (
    "проведены", "организованы", "подготовлены", "реализованы", "продолжена", "начата",
    "обеспечено", "запланировано", "рассмотрены", "утверждены", "состоялись", "прошли",
)  # fmt: skip


class Words:
    """Random Russian-looking sentences over the lexicon, common words more often."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.weights = [1 / (rank + 1) ** 1.1 for rank in range(len(LEXICON))]

    def word(self) -> str:
        return self.rng.choice(self.rng.choices(LEXICON, self.weights)[0])

    def sentence(self) -> str:
        parts = [self.rng.choice(VERBS)]
        for _ in range(self.rng.randint(5, 12)):
            parts.append(self.word() if self.rng.random() < 0.75 else self.rng.choice(FILLER))
        text = " ".join(parts)
        return text[0].upper() + text[1:] + "."

    def text(self, low: int, high: int) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def title(self) -> str:
        words = [self.word() for _ in range(self.rng.randint(2, 5))]
        return " ".join(words).capitalize()


def _cities() -> list[City]:
    cities = []
    for number, name in enumerate(CITIES):
        city = City(slug=f"city{number}", name=name, region="Регион", local=number < 20)
        if not city.local:
            city.instance_url = f"https://city{number}.example"
        cities.append(city)
    db.session.add_all(cities)
    db.session.commit()
    return cities


def populate(
    count: int,
    rng: random.Random,
    words: Any = None,
    forms: Callable[[str], tuple[str, ...]] = lemma_forms,
    quiet: bool = False,
) -> None:
    """``count`` entries, inserted in bulk (no service functions: those are per entry).

    ``words`` makes the text (default :class:`Words`); ``forms`` lemmatizes it
    (the backfill benchmark compares the Snowball stemmer).
    """
    cities = _cities()
    topics = list(db.session.scalars(select(Topic)))
    words = words or Words(rng)
    start = datetime(2015, 1, 1, tzinfo=UTC)
    for first in range(0, count, BATCH):
        rows: list[dict[str, Any]] = []
        links: list[tuple[int, list[Topic]]] = []
        for number in range(first, min(first + BATCH, count)):
            city = rng.choice(cities)
            chosen = rng.sample(topics, rng.randint(1, 3))
            kind = "practice" if rng.random() < 0.7 else "event"
            when = start + timedelta(minutes=rng.randint(0, 10 * 365 * 24 * 60))
            row: dict[str, Any] = {
                "uid": f"tag:bench.example,2021-01-01:{kind}/{number}",
                "kind": kind,
                "city_id": city.id,
                "title": words.title(),
                "tags": [words.word() for _ in range(rng.randint(0, 3))],
                "year": when.year,
                "summary": words.text(2, 4),
                "status": "published" if rng.random() < 0.95 else "draft",
                "origin": "local" if city.local else "mirror",
                "created": when,
                "published": when,
                "updated": when,
            }
            if kind == "practice":
                row.update(
                    area=words.title(),
                    achievements=words.text(3, 8),
                    plans=words.text(1, 4),
                    assistance=words.text(0, 2),
                    body=words.text(0, 6) or None,
                )
            else:
                starts = date(when.year, rng.randint(1, 12), rng.randint(1, 28))
                row.update(
                    starts_on=starts,
                    ends_on=starts + timedelta(days=rng.randint(0, 3)),
                    format=rng.choice(("online", "offline", "hybrid")),
                    level=rng.choice(("municipal", "regional", "interregional")),
                    location=city.name,
                    results=words.text(1, 4),
                )
            # The same words as service.entries.service.refresh_search_text keeps.
            row["search_text"] = index_text(
                [row.get(spec.attr) for spec in searchable(row["kind"])]
                + row["tags"]
                + [t.name for t in chosen]
                + [city.name],
                [t.code for t in chosen],
                forms,
            )
            rows.append(row)
            links.append((number, chosen))
        ids = db.session.scalars(
            insert(Entry).returning(Entry.id, sort_by_parameter_order=True), rows
        ).all()
        db.session.execute(
            insert(entry_topics),
            [
                {"entry_id": ids[i], "topic_code": t.code}
                for i, (_, ts) in enumerate(links)
                for t in ts
            ],
        )
        db.session.commit()
        if not quiet:
            print(f"  {min(first + BATCH, count):>7} entries", end="\r", flush=True)
    if not quiet:
        print()


def queries(rng: random.Random, count: int) -> list[tuple[str, str, EntryFilter]]:
    """(label, text, filter): inflected queries of one to three words; some with a filter."""
    cities = [f"city{n}" for n in range(len(CITIES))]
    topics = [code for code, _ in TOPICS]
    out = []
    for _ in range(count):
        text = " ".join(rng.choice(rng.choice(LEXICON)) for _ in range(rng.choice((1, 1, 2, 3))))
        label, flt = "no filter", EntryFilter()
        roll = rng.random()
        if roll < 0.1:
            label, flt = "city", EntryFilter(city=rng.choice(cities))
        elif roll < 0.2:
            label, flt = "kind", EntryFilter(kind=rng.choice(("practice", "event")))
        elif roll < 0.3:
            label, flt = "year", EntryFilter(year=rng.randint(2015, 2024))
        elif roll < 0.35:
            label, flt = "topic", EntryFilter(topic=(rng.choice(topics),))
        out.append((label, text, flt))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def report(label: str, times: list[float]) -> None:
    ms = [t * 1000 for t in times]
    print(
        f"{label}: n={len(ms)} median={statistics.median(ms):.1f} ms "
        f"p95={percentile(ms, 0.95):.1f} ms max={max(ms):.1f} ms"
    )


def _facets(work: list[tuple[str, str, EntryFilter]]) -> None:
    """The facet counts a search page and the overview add to a search."""
    search_times, list_times = [], []
    for _, words, flt in work[:FACET_QUERIES]:
        began = time.perf_counter()
        facet_counts(flt, text=words)
        search_times.append(time.perf_counter() - began)
        began = time.perf_counter()
        facet_counts(flt)
        list_times.append(time.perf_counter() - began)
    report("facet counts of a search page (7 facets)", search_times)
    report("facet counts of the overview (no words)", list_times)


def main() -> None:
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        url = os.environ.get("SEARCH_BENCH_DATABASE_URL") or f"sqlite:///{path}"
        app = create_app({"DATABASE_URL": url, "FEED_AUTHORITY": "bench.example"})
        with app.app_context():
            init_db()
            print(f"database: {db.engine.dialect.name}")
            began = time.perf_counter()
            if os.environ.get("SEARCH_BENCH_REUSE") and db.session.scalar(
                select(Entry.id).limit(1)
            ):
                print("reusing the entries already in the database")
            else:
                populate(ENTRIES, rng)
            if db.engine.dialect.name == "postgresql":
                db.session.commit()
                autocommit = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                with autocommit as connection:  # visibility map and statistics, as autovacuum would
                    connection.execute(sql_text("VACUUM ANALYZE entries"))
            size = path.stat().st_size / 2**20 if path.exists() else 0
            print(
                f"loaded {ENTRIES} entries in {time.perf_counter() - began:.0f} s "
                f"({size:.0f} MiB with the index)"
            )

            work = queries(rng, QUERIES)
            for _, text, flt in work[:20]:  # warm the page cache
                search_entries(text, flt)
            times: list[float] = []
            totals: list[int] = []
            inexact: list[bool] = []
            by_label: dict[str, list[float]] = {}
            for label, text, flt in work:
                began = time.perf_counter()
                result = search_entries(text, flt)
                elapsed = time.perf_counter() - began
                times.append(elapsed)
                totals.append(result.page.total)
                inexact.append(not result.total_exact)
                by_label.setdefault(label, []).append(elapsed)
            report("search_entries, 20 per page, snippets", times)
            print(
                f"  matches per query: median {statistics.median(totals):.0f}, "
                f"max {max(totals)}, none for {sum(1 for t in totals if not t)}, "
                f"counted only in part (PostgreSQL's count limit) for {sum(inexact)}"
            )
            for label, values in sorted(by_label.items()):
                report(f"  {label}", values)
            common = [
                t
                for t, n, more in zip(times, totals, inexact, strict=True)
                if n > ENTRIES // 10 or more
            ]
            if common:
                report(f"  matching over {ENTRIES // 10} entries (or past the count limit)", common)
            _facets(work)

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            base = f"http://127.0.0.1:{server.server_port}/api/v1/search"
            http_times = []
            with httpx.Client(timeout=30) as client:
                for _, text, _ in work[:HTTP_QUERIES]:
                    began = time.perf_counter()
                    response = client.get(base, params={"q": text})
                    http_times.append(time.perf_counter() - began)
                    response.raise_for_status()
            report("GET /api/v1/search over HTTP", http_times)
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main()
