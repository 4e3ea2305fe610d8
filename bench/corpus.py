"""Generated feeds for the mirroring benchmarks, like the ones people subscribe to.

Plain Atom 1.0 feeds (no ASDG extension) of city news sites: every entry has
2-3.6 KB of Russian HTML (paragraphs, lists, links, emphasis, the odd image and
table), a title, an author, categories, dates and a link. Reproducible from a
seed; a feed's "version" edits one entry and adds one, as a site would.
"""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

T0 = datetime(2024, 1, 1, tzinfo=UTC)

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
SECTIONS = ("Новости", "Благоустройство", "Образование", "Транспорт", "Культура", "Спорт")


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
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
