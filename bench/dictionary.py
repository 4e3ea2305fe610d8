"""Build the change log's zstd dictionary (``service/store/snapshots-N.zdict``) from real records.

``python -m bench.dictionary N`` imports the questionnaires of
``tests/data/questionnaires`` (real texts of the Association's cities, not the
benchmarks' generated ones) into a scratch database, publishes them, and
writes the JSON of their snapshots, plus a mirrored generic entry, as a
raw-content dictionary of at most 64 KB. A shipped dictionary is never
rewritten (stored rows name it by number): build a new number instead.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

SIZE = 64 * 1024
QUESTIONNAIRES = Path(__file__).parent.parent / "tests" / "data" / "questionnaires"


def records() -> list[bytes]:
    from service import create_app
    from service.entries.changelog import snapshot
    from service.questionnaire.collection import import_collection
    from service.store.db import init_db
    from service.store.models import Entry, db
    from service.store.snapshots import dumps

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{Path(tmp) / 'dictionary.sqlite3'}",
                "FEED_AUTHORITY": "city.example",
                "SECRET_KEY": "dictionary",
            }
        )
        with app.app_context():
            init_db()
            files = [(p.name, p.read_bytes()) for p in sorted(QUESTIONNAIRES.glob("*.txt"))]
            import_collection(files, create_cities=True, publish=True)
            out = [dumps(snapshot(e)) for e in db.session.scalars(db.select(Entry))]
            db.session.remove()
            db.engine.dispose()
    generic = {
        "id": "https://news.example/2024/1",
        "kind": "practice",
        "city": {"slug": "news-example", "name": "Новости", "region": None},
        "topics": [],
        "tags": [],
        "status": "published",
        "origin": "mirror",
        "source": {"id": "https://news.example/feed", "title": "Новости", "url": None},
        "generic": True,
        "content_html": '<p><a href="https://news.example/" rel="noopener noreferrer nofollow">',
    }
    return [*out, dumps(generic)]


def main(argv: list[str]) -> None:
    from service.store.snapshots import dictionary_path

    path = dictionary_path(int(argv[0]))
    if path.exists():
        raise SystemExit(f"{path} exists: shipped dictionaries are never rewritten")
    data = b"".join(records())[-SIZE:]
    path.write_bytes(data)
    print(f"{path}: {len(data)} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
