"""Helpers for the feed tests: strict validators, a feed walker, generated data.

- :func:`validate_atom_files` runs Debian's ``jing`` once over many files with
  the RFC 4287 RELAX NG schema (``tests/atom.rnc``).
- :func:`check_json_feed` checks a document against a JSON Schema of JSON
  Feed 1.1 plus the rules a schema cannot say (RFC 3339 dates, absolute URLs).
- :func:`walk` fetches a head document and every ``prev-archive``/``next_url``.
- :func:`generate_entries` makes a reproducible data set through the service
  functions (also used by ``bench/feeds_bench.py``); :func:`age_log` dates it
  back, as data written a while ago (feeds give an exact ``Last-Modified``
  only a moment after a write).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import feedparser
import jsonschema
from flask.testing import FlaskClient
from lxml import etree

from service.cities import add_city
from service.entries.service import create_entry
from service.store.models import City, Entry, LogStamp, db
from service.vocab import TOPIC_CODES, Origin, Status

HERE = Path(__file__).parent
ATOM_RNC = HERE / "atom.rnc"
JING = "/usr/bin/jing"
ATOM = "{http://www.w3.org/2005/Atom}"
FH = "{http://purl.org/syndication/history/1.0}"
AT = "{http://purl.org/atompub/tombstones/1.0}"

# -- validators ---------------------------------------------------------------

_URI = {"type": "string", "minLength": 1}
_EXTENSIONS = {"^_[a-zA-Z]": {}}
_AUTHOR = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "url": _URI, "avatar": _URI},
    "anyOf": [{"required": ["name"]}, {"required": ["url"]}, {"required": ["avatar"]}],
    "patternProperties": _EXTENSIONS,
    "additionalProperties": False,
}
_ITEM = {
    "type": "object",
    "required": ["id"],
    "anyOf": [{"required": ["content_html"]}, {"required": ["content_text"]}],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "url": _URI,
        "external_url": _URI,
        "title": {"type": "string"},
        "content_html": {"type": "string"},
        "content_text": {"type": "string"},
        "summary": {"type": "string"},
        "image": _URI,
        "banner_image": _URI,
        "date_published": {"type": "string"},
        "date_modified": {"type": "string"},
        "authors": {"type": "array", "items": _AUTHOR, "minItems": 1},
        "tags": {"type": "array", "items": {"type": "string"}},
        "language": {"type": "string"},
        "attachments": {"type": "array", "items": {"type": "object"}},
    },
    "patternProperties": _EXTENSIONS,
    "additionalProperties": False,
}
#: JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) as a JSON Schema.
JSON_FEED_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "title", "items"],
    "properties": {
        "version": {"const": "https://jsonfeed.org/version/1.1"},
        "title": {"type": "string"},
        "home_page_url": _URI,
        "feed_url": _URI,
        "description": {"type": "string"},
        "user_comment": {"type": "string"},
        "next_url": _URI,
        "icon": _URI,
        "favicon": _URI,
        "authors": {"type": "array", "items": _AUTHOR, "minItems": 1},
        "language": {"type": "string"},
        "expired": {"type": "boolean"},
        "hubs": {"type": "array", "items": {"type": "object", "required": ["type", "url"]}},
        "items": {"type": "array", "items": _ITEM},
    },
    "patternProperties": _EXTENSIONS,
    "additionalProperties": False,
}
_validator = jsonschema.Draft202012Validator(JSON_FEED_SCHEMA)
RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
URL_KEYS = ("home_page_url", "feed_url", "next_url", "url", "external_url")


def _absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_json_feed(doc: dict[str, Any]) -> None:
    """Raise AssertionError when ``doc`` breaks a rule of JSON Feed 1.1."""
    errors = sorted(_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    for key in URL_KEYS:
        if key in doc:
            assert _absolute(doc[key]), (key, doc[key])
    for item in doc["items"]:
        for key in URL_KEYS:
            if key in item:
                assert _absolute(item[key]), (key, item[key])
        for key in ("date_published", "date_modified"):
            if key in item:
                assert RFC3339.match(item[key]), (key, item[key])
                datetime.fromisoformat(item[key].replace("Z", "+00:00"))


def validate_atom_files(paths: Iterable[Path]) -> None:
    """Validate Atom documents against RFC 4287's RELAX NG schema, one jing run."""
    files = [str(p) for p in paths]
    assert files
    done = subprocess.run(
        [JING, "-c", str(ATOM_RNC), *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def check_feedparser(body: bytes) -> Any:
    """feedparser reads the Atom document without complaint (``bozo == 0``).

    (feedparser 6.0 does not read JSON Feed; JSON documents get
    :func:`check_json_feed` and :func:`feeds.parse.parse_feed` instead.)
    """
    # Sanitizing and URI resolution do not change bozo; off, they save ~90% of the time.
    parsed = feedparser.parse(
        body,
        response_headers={"content-type": "application/atom+xml"},
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


# -- walking a feed -------------------------------------------------------------


def get_ok(client: FlaskClient, url: str) -> bytes:
    path = url.removeprefix("http://test.example")
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.data[:300])
    return response.data


def atom_links(body: bytes) -> dict[str, str]:
    root = etree.fromstring(body)
    return {
        link.get("rel", "alternate"): link.get("href") for link in root.iterchildren(f"{ATOM}link")
    }


def walk(client: FlaskClient, head: str) -> list[tuple[str, bytes]]:
    """The head and every older document, following prev-archive / next_url."""
    documents: list[tuple[str, bytes]] = []
    url: str | None = head
    atom = head.split("?")[0].endswith(".atom")
    while url is not None:
        assert len(documents) < 1000, "endless archive chain"
        body = get_ok(client, url)
        documents.append((url, body))
        url = atom_links(body).get("prev-archive") if atom else json.loads(body).get("next_url")
    return documents


# -- generated data ---------------------------------------------------------------

WORDS = (
    "развитие",
    "город",
    "проект",
    "жители",
    "онлайн",
    "конкурс",
    "молодёжь",
    "парк",
    "транспорт",
    "школа",
    "бюджет",
    "цифровой",
    "праздник",
    "двор",
    "форум",
    "опыт",
)
CITIES = (
    ("omsk", "Омск", "Омская область"),
    ("tomsk", "Томск", "Томская область"),
    ("irkutsk", "Иркутск", "Иркутская область"),
)


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _markdown(rng: random.Random) -> str:
    parts = [_words(rng, rng.randint(8, 30)).capitalize() + "."]
    if rng.random() < 0.5:
        parts.append("\n".join(f"- {_words(rng, 4)}" for _ in range(rng.randint(2, 4))))
    if rng.random() < 0.3:
        parts.append(
            f"Подробнее: [сайт](https://example.ru/{rng.randint(1, 99)}) и **итоги** "
            "«года» & планы <2022>."
        )
    return "\n\n".join(parts)


def ensure_cities() -> list[City]:
    found = []
    for slug, name, region in CITIES:
        city = db.session.scalar(db.select(City).where(City.slug == slug))
        found.append(city or add_city(slug, name, region))
    return found


def generate_entries(count: int, *, seed: int = 5) -> list[Entry]:
    """``count`` published entries (about 1 in 3 events) in three cities."""
    rng = random.Random(seed)
    cities = ensure_cities()
    codes = sorted(TOPIC_CODES)
    created: list[Entry] = []
    practices: list[Entry] = []
    for n in range(count):
        city = cities[n % len(cities)]
        topics = rng.sample(codes, rng.randint(1, 3))
        if n % 3 == 2:
            start = rng.randint(1, 28)
            data: dict[str, Any] = {
                "title": f"Мероприятие {n}: {_words(rng, 3)}",
                "starts_on": date(2021, rng.randint(1, 12), start),
                "format": rng.choice(("online", "offline", "hybrid")),
                "level": rng.choice(("municipal", "regional", "interregional", "international")),
                "location": f"{city.name}, {_words(rng, 2)}",
                "participants": rng.choice((None, rng.randint(10, 5000))),
                "summary": _markdown(rng),
                "results": _markdown(rng),
                "topics": topics,
                "status": Status.PUBLISHED,
            }
            data["ends_on"] = data["starts_on"]
            if practices and rng.random() < 0.5:
                data["related"] = rng.choice(practices).uid
            entry = create_entry("event", data, city=city, commit=False)
        else:
            data = {
                "title": f"Практика {n}: {_words(rng, 3)}",
                "area": _words(rng, 2).capitalize(),
                "year": rng.randint(2018, 2023),
                "summary": _markdown(rng),
                "achievements": _markdown(rng),
                "plans": _markdown(rng),
                "assistance": _markdown(rng),
                "body": _markdown(rng) if rng.random() < 0.3 else None,
                "topics": topics,
                "tags": rng.sample(("онлайн", "дети", "цифра", "город"), rng.randint(0, 2)),
                "status": Status.PUBLISHED,
            }
            if rng.random() < 0.5:
                data["contact"] = {
                    "name": "Иванова И. И.",
                    "position": "начальник отдела",
                    "email": f"user{n}@example.ru",
                    "phone": None,
                }
            entry = create_entry("practice", data, city=city, commit=False)
            practices.append(entry)
        created.append(entry)
        if n % 200 == 199:
            db.session.commit()
    db.session.commit()
    return created


def age_log(by: timedelta = timedelta(hours=1)) -> None:
    """Date every change-log stamp ``by`` earlier: the data was written a while ago."""
    for stamp in db.session.scalars(db.select(LogStamp)):
        stamp.logged -= by
    db.session.commit()


def add_mirrored_entry(title: str, *, city_slug: str = "barnaul") -> Entry:
    """A mirrored entry as the mirror stores one: a remote city, origin and source."""
    from service.entries.changelog import record_change

    city = db.session.scalar(db.select(City).where(City.slug == city_slug))
    if city is None:
        city = City(
            slug=city_slug,
            name="Барнаул",
            region="Алтайский край",
            local=False,
            instance_url="https://barnaul.example",
        )
        db.session.add(city)
        db.session.flush()
    now = datetime.fromisoformat("2021-03-04T05:06:07+00:00")
    entry = Entry(
        uid="tag:barnaul.example,2021-03-04:practice/"
        + hashlib.sha1(title.encode()).hexdigest()[:12],
        kind="practice",
        city=city,
        city_id=city.id,
        title=title,
        tags=[],
        year=2021,
        summary="Опыт Барнаула.",
        area="Благоустройство",
        achievements="Сделано.",
        plans="Планы.",
        assistance="",
        status=Status.PUBLISHED,
        origin=Origin.MIRROR,
        created=now,
        published=now,
        updated=now,
        link="https://barnaul.example/practices/7",
        source_id="https://barnaul.example/feeds/all.atom",
        source_title="Барнаул: все записи",
        source_url="https://barnaul.example/feeds/all.atom",
    )
    db.session.add(entry)
    db.session.flush()
    record_change(entry)
    db.session.commit()
    return entry
