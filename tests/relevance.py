"""The relevance corpus (tests/data/relevance/corpus.json): loading it and scoring a search.

Used by tests/test_relevance.py and by ``python -m bench relevance``, which
reports the figures for whatever code is checked out. Only the public
interface is used (the JSON API; cities and tokens through the service's own
functions), so the same scoring runs against an older version of the service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from service.accounts import create_token
from service.cities import add_city
from service.store.models import db
from tests.conftest import event_body, practice_body

CORPUS = Path(__file__).parent / "data" / "relevance" / "corpus.json"


def corpus() -> dict[str, Any]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def load(app: Flask, client: FlaskClient) -> None:
    """Post every entry of the corpus through the API, as its city's admin would."""
    data = corpus()
    tokens = {}
    with app.app_context():
        for slug, name in data["cities"]:
            tokens[slug] = create_token(add_city(slug, name, "Регион"), "relevance")[1]
        db.session.commit()
    for entry in data["entries"]:
        fields = {k: v for k, v in entry.items() if k not in ("city", "kind")}
        if entry["kind"] == "event":
            body = event_body(results="", location=entry["city"], topics=[])
            path = "/api/v1/events"
        else:
            body = practice_body(area="Деятельность отдела", achievements="", plans="")
            body |= {"assistance": "", "topics": []}
            body["tags"] = []
            path = "/api/v1/practices"
        body |= fields
        response = client.post(
            path, json=body, headers={"Authorization": f"Bearer {tokens[entry['city']]}"}
        )
        assert response.status_code == 201, response.json


@dataclass(frozen=True)
class Answer:
    """What the search answered to one query of the corpus."""

    query: dict[str, Any]
    titles: list[str]
    partial: list[bool]

    @property
    def found(self) -> int:
        return sum(1 for t in self.query["expected"] if t in self.titles)

    def found_in(self, first: int) -> int:
        return sum(1 for t in self.query["expected"] if t in self.titles[:first])


def ask(client: FlaskClient, query: dict[str, Any]) -> Answer:
    response = client.get("/api/v1/search", query_string={"q": query["q"], "per_page": 100})
    assert response.status_code == 200, response.json
    items = response.json["items"]
    return Answer(
        query,
        [i["entry"]["title"] for i in items],
        [bool(i.get("partial", False)) for i in items],
    )


def recall(answers: list[Answer], first: int | None = None) -> float:
    """Share of the expected hits found (within the first ``first`` hits, if given)."""
    wanted = sum(len(a.query["expected"]) for a in answers)
    got = sum(a.found if first is None else a.found_in(first) for a in answers)
    return got / wanted if wanted else 1.0
