"""Schema-driven fuzzing of every API operation: no input gives a 5xx.

Bodies and parameters are drawn by hypothesis from the OpenAPI document itself:
well-typed values, wrong types, random JSON, huge and odd strings.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Api, practice_body

METHODS = ("get", "post", "put", "patch", "delete")

odd_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\x00", "'; DROP TABLE entries; --", "../../etc/passwd",
                     "tag:x,2020:y/z", "9" * 30, "-1", "NaN", "2020-13-45", "я" * 600,
                     "<script>alert(1)</script>", "%00", "\ud7ff"]),
)  # fmt: skip
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), odd_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4),
    max_leaves=12,
)


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def value_for(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A value that is often right and often subtly wrong for the schema."""
    schema = resolve(spec, schema)
    kind = schema.get("type")
    right: st.SearchStrategy[Any]
    if "enum" in schema:
        right = st.sampled_from(schema["enum"])
    elif kind == "integer":
        right = st.integers(min_value=-(2**70), max_value=2**70)
    elif kind == "number":
        right = st.floats()
    elif kind == "boolean":
        right = st.booleans()
    elif kind == "array":
        right = st.lists(value_for(spec, schema.get("items", {})), max_size=4)
    elif kind == "object" or "properties" in schema:
        right = body_for(spec, schema)
    elif schema.get("format") == "date":
        right = st.dates().map(str) | odd_text
    else:
        right = odd_text
    return st.one_of(right, right, json_values)


def body_for(spec: dict[str, Any], schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    schema = resolve(spec, schema)
    props = schema.get("properties", {})
    if not props:
        return json_values
    return st.fixed_dictionaries(
        {}, optional={name: value_for(spec, sub) for name, sub in props.items()}
    )


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in METHODS
    ]


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json


def fuzz_operation(
    api: Api, spec: dict[str, Any], path: str, method: str, op: dict[str, Any],
    idents: list[str], tokens: list[str | None],
) -> None:  # fmt: skip
    """Send up to 60 drawn requests to one operation; none may answer 5xx."""
    body_schema = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    )
    query = {
        p["name"]: value_for(spec, p.get("schema", {}))
        for p in op.get("parameters", [])
        if p.get("in") == "query"
    }
    body = body_for(spec, body_schema) | json_values if body_schema else st.none()

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        database=None,
    )
    @given(
        query=st.fixed_dictionaries({}, optional=query),
        body=body,
        ident=st.sampled_from(idents),
        auth=st.sampled_from(tokens),
        raw=st.booleans(),
    )
    def check(query: dict, body: Any, ident: str, auth: str | None, raw: bool) -> None:
        url = path
        for name in ("{entry_id}", "{sub_id}", "{id}"):
            url = url.replace(name, ident)
        params = {k: json.dumps(v) if isinstance(v, (list, dict)) else v
                  for k, v in query.items() if v is not None}  # fmt: skip
        kwargs: dict[str, Any] = {"query_string": params, "headers": api.headers(auth)}
        if body is not None:
            if raw:
                kwargs["data"] = json.dumps(body)[:-1].encode()  # truncated JSON
                kwargs["content_type"] = "application/json"
            else:
                kwargs["json"] = body
        response = getattr(api.client, method)(url, **kwargs)
        assert response.status_code < 500, (method, url, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.is_json and response.json["code"] == response.status_code

    check()


def test_every_operation_survives_fuzzed_input(api: Api, spec: dict[str, Any]) -> None:
    api.city("omsk", "Омск")
    token = api.token("omsk")
    existing = api.post("/api/v1/practices", practice_body(), token).json
    idents = [existing["id"], str(existing["local_id"]), "0", "999999", "abc", "tag:%", "1"]
    tokens = [None, token, api.token(None), "garbage"]
    ops = operations(spec)
    assert len(ops) >= 10
    for path, method, op in ops:
        fuzz_operation(api, spec, path, method, op, idents, tokens)
