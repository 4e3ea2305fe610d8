"""Search relevance on the fixed corpus of the tests (tests/data/relevance/corpus.json).

Loads the 30 entries through the API into a temporary SQLite database (and
into PostgreSQL when ``RELEVANCE_DATABASE_URL`` names an empty database), asks
the 28 queries and reports recall: the share of the expected entries found at
all, and within the first 3 hits, overall and per class of query (inflected,
irregular, ё/е, partial). Only the public interface is used, so the same
module measures an older checkout of the service (the figures of the README
compare main before issue 11 with this version).

``python -m bench relevance``
"""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

from service import create_app
from service.store.db import init_db
from service.store.models import db
from tests import relevance
from tests.conftest import base_config


def measure(url: str, tmp: Path) -> None:
    app = create_app(base_config(url, tmp))
    with app.app_context():
        init_db()
    client = app.test_client()
    relevance.load(app, client)
    answers = [relevance.ask(client, q) for q in relevance.corpus()["queries"]]
    by_class = defaultdict(list)
    for answer in answers:
        by_class[answer.query["class"]].append(answer)
    name = url.split(":", 1)[0]
    print(
        f"{name}: {len(answers)} queries, recall {relevance.recall(answers):.0%}, "
        f"in the first 3 hits {relevance.recall(answers, 3):.0%}, "
        f"queries with no hit {sum(1 for a in answers if not a.titles)}, "
        f"other hits per query {sum(len(a.titles) - a.found for a in answers) / len(answers):.1f}"
    )
    for label, group in sorted(by_class.items()):
        print(
            f"  {label}: {len(group)} queries, recall {relevance.recall(group):.0%}, "
            f"first 3 {relevance.recall(group, 3):.0%}"
        )
    for answer in answers:
        missing = [t for t in answer.query["expected"] if t not in answer.titles]
        if missing:
            print(f"    «{answer.query['q']}» misses {len(missing)}: {', '.join(missing)}")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        measure(f"sqlite:///{Path(tmp) / 'relevance.sqlite3'}", Path(tmp))
        if os.environ.get("RELEVANCE_DATABASE_URL"):
            measure(os.environ["RELEVANCE_DATABASE_URL"], Path(tmp))


if __name__ == "__main__":
    main()
