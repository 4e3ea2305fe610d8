"""schemathesis over every operation of ``/api/v1/openapi.json``: no input gives a 5xx.

Cases are generated from the OpenAPI document (valid and invalid ones, schemathesis'
"positive" and "negative" modes), a bounded number per operation, and sent to the
app through WSGI without a token, with a city's token and with the operator's.
A city's entry exists, so the item operations reach real rows. Every answer must
be below 500. The figures (requests, 5xx) are printed.
"""

from __future__ import annotations

import collections
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation.modes import GenerationMode

from tests.conftest import Api, practice_body

#: Examples per operation, mode and token: the whole run stays well under a minute.
EXAMPLES = 8
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


def _operations(app: Flask) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_no_operation_answers_5xx(app: Flask, api: Api, omsk: str) -> None:
    operator = api.token(None)
    api.post("/api/v1/practices", practice_body(), omsk)
    tokens = {"none": None, "city": omsk, "operator": operator}
    counts: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    operations = _operations(app)
    assert len(operations) >= 15  # every path and method of the document

    def check(operation: Any, mode: GenerationMode, who: str, token: str | None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case: Any) -> None:
            response = case.call(headers=headers)
            counts["requests"] += 1
            if response.status_code >= 500:
                counts["5xx"] += 1
                failures.append(f"{who}: {case.method} {case.formatted_path} -> "
                                f"{response.status_code}")  # fmt: skip

        try:
            run()
        except Unsatisfiable:
            # Nothing to make invalid (an operation without parameters or body).
            assert mode is GenerationMode.NEGATIVE, operation.label
            counts["no negative cases"] += 1

    for operation in operations:
        for mode in MODES:
            for who, token in tokens.items():
                check(operation, mode, who, token)
    print(f"\nschemathesis: {len(operations)} operations, {counts['requests']} requests, "
          f"{counts['5xx']} answers 5xx")  # fmt: skip
    assert counts["requests"] >= len(operations) * len(tokens)
    assert not failures, failures[:10]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_document_names_if_match(app: Flask) -> None:
    """Writes document the If-Match header they honour."""
    spec = app.test_client().get("/api/v1/openapi.json").json
    item = spec["paths"]["/api/v1/practices/{entry_id}"]
    for method in ("put", "patch", "delete"):
        names = {p["name"] for p in item[method].get("parameters", [])}
        assert "If-Match" in names, method
