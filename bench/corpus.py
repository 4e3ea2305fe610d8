"""Generated feeds for the mirroring benchmarks, like the ones people subscribe to.

Plain Atom 1.0 feeds (no ASDG extension) of city news sites: every entry has
2-3.6 KB of Russian HTML (paragraphs, lists, links, emphasis, the odd image and
table), a title, an author, categories, dates and a link. Reproducible from a
seed; a feed's "version" edits one entry and adds one, as a site would.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SAMPLES = Path(__file__).parent.parent / "tests" / "data" / "questionnaires"

TEXT = (
    "администрация города провела заседание комиссии по вопросам благоустройства дворовых "
    "территорий жители микрорайона обсудили проект реконструкции парка культуры и отдыха "
    "в рамках национального проекта отремонтированы дороги школы детские сады поликлиники "
    "молодёжный совет организовал форум волонтёров конкурс социальных проектов для старшего "
    "поколения управление образования подвело итоги учебного года выпускники получили "
    "медали департамент транспорта изменил маршруты автобусов и трамваев на летний период "
    "мэр встретился с представителями бизнеса обсуждались меры поддержки малого и среднего "
    "предпринимательства в условиях цифровой экономики открылась выставка местных художников "
    "в музее истории края состоялся фестиваль народного творчества собравший тысячи гостей "
    "спортсмены завоевали награды на региональных соревнованиях по лёгкой атлетике и плаванию"
)
WORDS = tuple(TEXT.split())
_ENDINGS = tuple(
    [
        "",
        "а",
        "ы",
        "у",
        "ой",
        "ом",
        "ов",
        "ами",
        "ах",
        "е",
        "и",
        "ого",
        "ому",
        "ых",
        "ые",
        "ая",
        "ую",
        "ий",
        "ия",
        "ию",
        "ение",
        "ения",
        "ность",
        "ости",
        "ский",
    ]
)


def _vocabulary() -> tuple[list[str], list[float]]:
    """Word forms (stems of :data:`WORDS` with Russian endings) and Zipf weights.

    Real Russian prose compresses about 3x with zlib; these random sequences of
    a few thousand forms drawn by Zipf's law do about the same, so storage
    figures are not flattered by a small vocabulary.
    """
    words = set(WORDS)
    for path in sorted(SAMPLES.glob("*.txt")):  # the questionnaires of the tests: real words
        text = path.read_bytes().decode("utf-8", errors="ignore").lower()
        words.update(re.findall(r"[а-яё]{4,}", text))
    stems = sorted({w[:-2] if len(w) > 5 else w for w in words})
    forms = sorted({stem + ending for stem in stems for ending in _ENDINGS})
    random.Random(0).shuffle(forms)
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(forms))]
    return forms, list(itertools.accumulate(weights))


FORMS, _CUMULATIVE = _vocabulary()
SECTIONS = ("Новости", "Благоустройство", "Образование", "Транспорт", "Культура", "Спорт")


def _sentence(rng: random.Random) -> str:
    words = rng.choices(FORMS, cum_weights=_CUMULATIVE, k=rng.randint(8, 18))
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", "!", "?"))


def _paragraph(rng: random.Random) -> str:
    text = " ".join(_sentence(rng) for _ in range(rng.randint(2, 4)))
    words = text.split(" ")
    if rng.random() < 0.5:
        i = rng.randrange(len(words))
        words[i] = f"<strong>{words[i]}</strong>"
    if rng.random() < 0.4:
        i = rng.randrange(len(words))
        href = f"https://city{rng.randint(1, 99)}.example/news/{rng.randint(1, 9999)}"
        words[i] = f'<a href="{href}">{words[i]}</a>'
    return "<p>" + " ".join(words) + "</p>"


def russian_html(rng: random.Random, low: int = 2000, high: int = 3600) -> str:
    """An HTML fragment of ``low``..``high`` bytes of Russian text (UTF-8)."""
    target = rng.randint(low, high)
    parts: list[str] = []
    size = 0
    while size < target:
        roll = rng.random()
        if roll < 0.12:
            items = "".join(f"<li>{_sentence(rng)}</li>" for _ in range(rng.randint(2, 4)))
            part = f"<ul>{items}</ul>"
        elif roll < 0.16:
            part = (
                f'<p><img src="https://city.example/img/{rng.randint(1, 999)}.jpg" '
                f'alt="{rng.choice(WORDS)}"></p>'
            )
        elif roll < 0.18:
            row = "".join(f"<td>{rng.choice(WORDS)}</td>" for _ in range(3))
            head = "<tr><th>Показатель</th><th>2023</th><th>2024</th></tr>"
            part = f"<table>{head}<tr>{row}</tr></table>"
        else:
            part = _paragraph(rng)
        grown = size + len(part.encode())
        if grown > high:
            if size >= low:
                break
            continue  # too long: draw another, shorter part
        parts.append(part)
        size = grown
    return "".join(parts)


def _entry(feed: int, n: int, version: int) -> str:
    rng = random.Random(f"{feed}-{n}-{version}")
    updated = T0 + timedelta(minutes=feed * 100 + n + version * 100_000)
    published = T0 + timedelta(minutes=feed * 100 + n)
    title = _sentence(rng)[:90].rstrip(".!?") + (" (обновлено)" if version else "")
    link = f"https://city{feed}.example/news/{n}"
    categories = "".join(
        f"<category term={quoteattr(c)}/>" for c in rng.sample(SECTIONS, rng.randint(1, 2))
    )
    return (
        f"<entry><id>https://city{feed}.example/news/{n}</id>"
        f"<title>{escape(title)}</title>"
        f'<link rel="alternate" type="text/html" href="{link}"/>'
        f"<updated>{updated.isoformat()}</updated><published>{published.isoformat()}</published>"
        f"<author><name>Пресс-служба города {feed}</name></author>{categories}"
        f'<content type="html">{escape(russian_html(rng))}</content></entry>'
    )


def generic_feed(feed: int, url: str, entries: int = 50, version: int = 0) -> bytes:
    """Feed ``feed`` as an Atom document; ``version`` > 0 edits entry 0 and adds one."""
    items = [(n, version if n == 0 else 0) for n in range(entries)]
    if version:
        items.append((entries + version - 1, version))
    bodies = [_entry(feed, n, v) for n, v in reversed(items)]
    updated = T0 + timedelta(minutes=feed * 100 + entries + version * 100_000)
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru">'
        f"<id>{escape(url)}</id><title>Новости города {feed}</title>"
        f"<updated>{updated.isoformat()}</updated>"
        f'<link rel="self" href="{escape(url)}"/>'
        f'<link rel="alternate" type="text/html" href="https://city{feed}.example/"/>'
    )
    return (head + "".join(bodies) + "</feed>").encode()


def changed_feeds(feeds: int, share: float = 0.1) -> list[int]:
    """Which feeds change in a "changed" round: a fixed pseudo-random ``share``."""
    count = max(1, int(feeds * share))
    order = sorted(range(feeds), key=lambda i: hashlib.sha1(str(i).encode()).hexdigest())
    return sorted(order[:count])


# -- records of our own kind (practice notes and events), for the storage and join benches


def markdown_text(rng: random.Random, low: int, high: int) -> str:
    """Markdown of ``low``..``high`` characters: paragraphs, a list now and then, emphasis."""
    target = rng.randint(low, high)
    parts: list[str] = []
    size = 0
    while size < target:
        if rng.random() < 0.2:
            part = "\n".join(f"- {_sentence(rng)}" for _ in range(rng.randint(2, 4)))
        else:
            sentences = [_sentence(rng) for _ in range(rng.randint(2, 4))]
            if rng.random() < 0.3:
                sentences[0] = f"**{sentences[0]}**"
            part = " ".join(sentences)
        parts.append(part)
        size += len(part) + 2
    return "\n\n".join(parts)


def practice_data(rng: random.Random, n: int, text: int = 6000) -> dict[str, object]:
    """A practice note's fields with about ``text`` characters of Russian Markdown."""
    share = text // 5
    return {
        "title": f"{_sentence(rng)[:80].rstrip('.!?')} ({n})",
        "area": " ".join(rng.choice(WORDS) for _ in range(3)).capitalize(),
        "year": 2018 + n % 7,
        "summary": markdown_text(rng, share, share + 300),
        "achievements": markdown_text(rng, share * 2 - 300, share * 2),
        "plans": markdown_text(rng, share - 200, share),
        "assistance": markdown_text(rng, share // 2, share // 2 + 200),
        "body": markdown_text(rng, share // 2, share // 2 + 200) if n % 3 == 0 else None,
        "topics": rng.sample(TOPIC_SAMPLE, rng.randint(1, 3)),
        "tags": rng.sample(("онлайн", "дети", "цифра", "двор", "молодёжь"), rng.randint(0, 2)),
        "contact": {
            "name": "Иванова Ирина Ивановна",
            "position": "начальник отдела",
            "email": f"user{n}@city.example",
            "phone": None,
        }
        if n % 2
        else None,
        "status": "published",
    }


def event_data(rng: random.Random, n: int, text: int = 2500) -> dict[str, object]:
    """An event summary's fields with about ``text`` characters of Russian Markdown."""
    return {
        "title": f"{_sentence(rng)[:70].rstrip('.!?')} ({n})",
        "year": 2019 + n % 6,
        "month": 1 + n % 12 if n % 4 else None,
        "format": rng.choice(("online", "offline", "hybrid")),
        "level": rng.choice(("municipal", "regional", "interregional", "international")),
        "location": " ".join(rng.choice(WORDS) for _ in range(2)).capitalize(),
        "participants": rng.choice((None, rng.randint(10, 5000))),
        "summary": markdown_text(rng, text // 2, text // 2 + 200),
        "results": markdown_text(rng, text // 2 - 200, text // 2),
        "topics": rng.sample(TOPIC_SAMPLE, rng.randint(1, 2)),
        "status": "published",
    }


TOPIC_SAMPLE = ("culture", "education", "sport", "organization-hr", "urban-planning", "ecology")


def publish(cities: list[Any], count: int, rng: random.Random, *, edit: int, delete: int) -> int:
    """``count`` published entries through the service, spread over ``cities``; live ones.

    Four in five are practice notes, the rest events; then one in ``edit`` is
    edited and one in ``delete`` deleted, so the change log holds versions and
    tombstones as it does in use. Needs an app context.
    """
    from service.entries.service import create_entry, delete_entry, update_entry
    from service.http.api.schemas import IN_SCHEMAS
    from service.store.models import Entry, db

    ids: list[int] = []
    for n in range(count):
        kind = "event" if n % 5 == 4 else "practice"
        raw = event_data(rng, n) if kind == "event" else practice_data(rng, n)
        data = IN_SCHEMAS[kind]().load(raw)
        ids.append(create_entry(kind, data, city=cities[n % len(cities)], commit=False).id)
        if n % 200 == 199:
            db.session.commit()
    db.session.commit()
    live = 0
    for n, entry_id in enumerate(ids):
        entry = db.session.get(Entry, entry_id)
        assert entry is not None
        if n % delete == delete // 3:
            delete_entry(entry)
            continue
        if n % edit == 3:
            update_entry(entry, {"title": entry.title + " (исправлено)"})
        live += 1
    return live
