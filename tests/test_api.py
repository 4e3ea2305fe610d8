"""The JSON API through HTTP: every endpoint, permissions and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api, event_body, practice_body

KINDS = {"practices": practice_body, "events": event_body}


@pytest.mark.parametrize("plural", KINDS)
def test_create_read_update_delete(api: Api, omsk: str, plural: str) -> None:
    body = KINDS[plural]()
    created = api.post(f"/api/v1/{plural}", body, omsk)
    assert created.status_code == 201, created.json
    entry = created.json
    assert entry["id"].startswith("tag:test.example,")
    assert entry["city"] == "omsk" and entry["city_name"] == "Омск"
    assert entry["title"] == body["title"]
    assert entry["topics"] == body["topics"]
    assert entry["published"] and entry["updated"].endswith("+00:00")

    by_tag = api.get(f"/api/v1/{plural}/{entry['id']}")
    by_number = api.get(f"/api/v1/{plural}/{entry['local_id']}")
    assert by_tag.status_code == by_number.status_code == 200
    assert by_tag.json == by_number.json == entry

    patched = api.patch(f"/api/v1/{plural}/{entry['id']}", {"title": "Новое название"}, omsk)
    assert patched.status_code == 200, patched.json
    assert patched.json["title"] == "Новое название"
    assert patched.json["id"] == entry["id"]
    assert patched.json["published"] == entry["published"]
    assert patched.json["updated"] > entry["updated"]

    replaced = api.put(f"/api/v1/{plural}/{entry['id']}", KINDS[plural](title="Заменено"), omsk)
    assert replaced.status_code == 200, replaced.json
    assert replaced.json["title"] == "Заменено"
    assert replaced.json["updated"] > patched.json["updated"]

    assert api.delete(f"/api/v1/{plural}/{entry['id']}", omsk).status_code == 204
    assert api.get(f"/api/v1/{plural}/{entry['id']}").status_code == 404


def test_practice_fields_round_trip(api: Api, omsk: str) -> None:
    contact = {"name": "Иванова И. И.", "position": "начальник отдела",
               "email": "ivanova@example.ru", "phone": "+7 3812 00-00-00"}  # fmt: skip
    body = practice_body(body="Подробности", contact=contact)
    entry = api.post("/api/v1/practices", body, omsk).json
    for name in ("area", "year", "summary", "achievements", "plans", "assistance", "body",
                 "tags", "status"):  # fmt: skip
        assert entry[name] == body[name], name
    assert entry["contact"] == contact
    assert entry["origin"] == "local" and entry["source"] is None


def test_event_fields_and_related_practice(api: Api, omsk: str) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    body = event_body(related=note["id"])
    event = api.post("/api/v1/events", body, omsk).json
    for name in ("starts_on", "ends_on", "format", "level", "location", "participants",
                 "summary", "results", "related"):  # fmt: skip
        assert event[name] == body[name], name
    assert event["year"] == 2020
    missing = api.post("/api/v1/events", event_body(related="tag:nowhere,2020:x/1"), omsk)
    assert missing.status_code == 422
    assert "related" in missing.json["errors"]["json"]


def test_writes_need_a_token(api: Api, omsk: str) -> None:
    response = api.post("/api/v1/practices", practice_body(), None)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization" in response.json["errors"]["json"]
    assert api.post("/api/v1/practices", practice_body(), "asdg_wrong").status_code == 401
    bad_scheme = api.client.post(
        "/api/v1/practices", json=practice_body(), headers={"Authorization": "Basic abc"}
    )
    assert bad_scheme.status_code == 401


@pytest.mark.parametrize("plural", KINDS)
def test_another_citys_token_gets_403_and_changes_nothing(
    api: Api, omsk: str, tomsk: str, plural: str
) -> None:
    entry = api.post(f"/api/v1/{plural}", KINDS[plural](), omsk).json
    path = f"/api/v1/{plural}/{entry['id']}"
    assert api.patch(path, {"title": "Чужое"}, tomsk).status_code == 403
    assert api.put(path, KINDS[plural](title="Чужое"), tomsk).status_code == 403
    assert api.delete(path, tomsk).status_code == 403
    assert api.get(path).json == entry
    create_for_other = api.post(f"/api/v1/{plural}", KINDS[plural](city="omsk"), tomsk)
    assert create_for_other.status_code == 403
    assert create_for_other.json["errors"]["json"]["city"]


def test_operator_token_writes_for_any_city(api: Api, omsk: str) -> None:
    operator = api.token(None)
    no_city = api.post("/api/v1/practices", practice_body(), operator)
    assert no_city.status_code == 422 and "city" in no_city.json["errors"]["json"]
    created = api.post("/api/v1/practices", practice_body(city="omsk"), operator)
    assert created.status_code == 201 and created.json["city"] == "omsk"
    assert api.patch(f"/api/v1/practices/{created.json['id']}", {"year": 2021},
                     operator).json["year"] == 2021  # fmt: skip


def test_drafts_are_visible_only_to_their_city(api: Api, omsk: str, tomsk: str) -> None:
    draft = api.post("/api/v1/practices", practice_body(status="draft"), omsk).json
    assert draft["published"] is None
    path = f"/api/v1/practices/{draft['id']}"
    assert api.get(path).status_code == 404
    assert api.get(path, tomsk).status_code == 404
    assert api.get(path, omsk).status_code == 200
    assert api.get("/api/v1/practices").json["total"] == 0
    assert api.get("/api/v1/practices", omsk).json["total"] == 1
    published = api.patch(path, {"status": "published"}, omsk).json
    assert published["published"] is not None
    assert api.get("/api/v1/practices").json["total"] == 1


def test_list_filters_and_pagination(api: Api, omsk: str, tomsk: str) -> None:
    for year in (2019, 2020, 2021):
        api.post("/api/v1/practices", practice_body(year=year, topics=["culture"]), omsk)
    api.post(
        "/api/v1/practices",
        practice_body(year=2020, topics=["sport"], summary="Спортивные мероприятия"),
        tomsk,
    )
    get = api.get
    assert get("/api/v1/practices").json["total"] == 4
    assert get("/api/v1/practices", city="tomsk").json["total"] == 1
    assert get("/api/v1/practices", year=2020).json["total"] == 2
    assert get("/api/v1/practices", topic="sport").json["total"] == 1
    assert get("/api/v1/practices", origin="mirror").json["total"] == 0
    assert get("/api/v1/practices", kind="event").json["total"] == 0
    assert get("/api/v1/practices", q="спортивное").json["total"] == 1
    assert get("/api/v1/practices", q="мероприятие").json["total"] == 4
    assert get("/api/v1/practices", q="спортивных мероприятий").json["total"] == 1
    first = get("/api/v1/practices", per_page=3, page=1).json
    second = get("/api/v1/practices", per_page=3, page=2).json
    assert first["pages"] == 2 and len(first["items"]) == 3 and len(second["items"]) == 1
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert len(set(ids)) == 4
    assert get("/api/v1/practices", page=9).json["items"] == []


def test_cities_and_topics(api: Api, omsk: str) -> None:
    cities = api.get("/api/v1/cities").json
    assert [c["slug"] for c in cities] == ["omsk"]
    assert cities[0]["name"] == "Омск" and cities[0]["local"] is True
    topics = api.get("/api/v1/topics").json
    codes = {t["code"]: t["name"] for t in topics}
    assert len(codes) == 22
    assert codes["housing-construction"] == "ЖКХ и строительство"
    assert codes["civil-defence"] == "ГО, ЧС и пожарная безопасность"


def test_openapi_document_and_docs_page(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    for path in ("/api/v1/practices", "/api/v1/practices/{entry_id}", "/api/v1/events",
                 "/api/v1/events/{entry_id}", "/api/v1/cities", "/api/v1/topics"):  # fmt: skip
        assert path in paths, path
    assert spec.json["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    assert "/api/v1/practices" in docs.get_data(as_text=True)


BAD_PRACTICES: list[tuple[str, dict[str, Any]]] = [
    ("title", {"title": ""}),
    ("title", {"title": "   "}),
    ("title", {"title": 5}),
    ("title", {"title": "я" * 501}),
    ("year", {"year": "2020"}),
    ("year", {"year": 1800}),
    ("year", {"year": 2020.5}),
    ("topics", {"topics": ["no-such-topic"]}),
    ("topics", {"topics": "culture"}),
    ("tags", {"tags": [""]}),
    ("status", {"status": "archived"}),
    ("contact", {"contact": {"email": "not-an-email"}}),
    ("contact", {"contact": {"fax": "1"}}),
    ("unexpected", {"unexpected": 1}),
    ("summary", {"summary": None}),
]


@pytest.mark.parametrize(("field", "change"), BAD_PRACTICES)
def test_bad_practice_fields_are_named(api: Api, omsk: str, field: str, change: dict) -> None:
    response = api.post("/api/v1/practices", practice_body(**change), omsk)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]
    assert response.json["message"]


def test_missing_required_fields_are_named(api: Api, omsk: str) -> None:
    response = api.post("/api/v1/practices", {}, omsk)
    assert response.status_code == 422
    assert {"title", "area", "year", "summary"} <= set(response.json["errors"]["json"])


BAD_EVENTS: list[tuple[str, dict[str, Any]]] = [
    ("starts_on", {"starts_on": "01.08.2020"}),
    ("starts_on", {"starts_on": "2020-02-30"}),
    ("ends_on", {"ends_on": "2020-07-01"}),
    ("format", {"format": "zoom"}),
    ("level", {"level": "galactic"}),
    ("participants", {"participants": -1}),
    ("participants", {"participants": "many"}),
    ("location", {"location": ""}),
]


@pytest.mark.parametrize(("field", "change"), BAD_EVENTS)
def test_bad_event_fields_are_named(api: Api, omsk: str, field: str, change: dict) -> None:
    response = api.post("/api/v1/events", event_body(**change), omsk)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_patch_cannot_put_end_before_stored_start(api: Api, omsk: str) -> None:
    event = api.post("/api/v1/events", event_body(), omsk).json
    response = api.patch(f"/api/v1/events/{event['id']}", {"ends_on": "2019-01-01"}, omsk)
    assert response.status_code == 422
    assert "ends_on" in response.json["errors"]["json"]
    assert api.get(f"/api/v1/events/{event['id']}").json == event


def test_malformed_json_wrong_type_and_oversized(api: Api, omsk: str) -> None:
    headers = {"Authorization": f"Bearer {omsk}", "Content-Type": "application/json"}
    broken = api.client.post("/api/v1/practices", data=b'{"title": ', headers=headers)
    assert broken.status_code == 400 and broken.json["code"] == 400
    array = api.client.post("/api/v1/practices", data=b"[1, 2]", headers=headers)
    assert array.status_code == 422
    form = api.client.post(
        "/api/v1/practices", data={"title": "x"}, headers={"Authorization": f"Bearer {omsk}"}
    )
    assert form.status_code == 415 and "Content-Type" in form.json["errors"]["json"]
    huge = api.post("/api/v1/practices", practice_body(body="я" * 2_000_000), omsk)
    assert huge.status_code == 413 and huge.json["code"] == 413
    assert api.get("/api/v1/practices").json["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"page": 0}, {"page": "x"}, {"per_page": 1000}, {"year": "двадцатый"},
     {"topic": "nope"}, {"kind": "other"}, {"origin": "elsewhere"}],
)  # fmt: skip
def test_bad_list_parameters(api: Api, params: dict[str, Any]) -> None:
    response = api.get("/api/v1/practices", **params)
    assert response.status_code == 422
    assert set(params) <= set(response.json["errors"]["query"])


def test_unknown_entries_and_routes_are_json_404(api: Api) -> None:
    for path in ("/api/v1/practices/999", "/api/v1/events/tag:x,2020:y/z", "/api/v1/nothing"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json["code"] == 404


def test_kind_mismatch_is_404(api: Api, omsk: str) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    assert api.get(f"/api/v1/events/{note['id']}").status_code == 404
    assert api.delete(f"/api/v1/events/{note['id']}", omsk).status_code == 404


def test_an_entry_cannot_move_to_another_city(api: Api, omsk: str, tomsk: str) -> None:
    note = api.post("/api/v1/practices", practice_body(), omsk).json
    path = f"/api/v1/practices/{note['id']}"
    assert api.patch(path, {"city": "omsk", "year": 2019}, omsk).status_code == 200
    assert api.patch(path, {"city": "tomsk"}, omsk).status_code == 403
    moved = api.patch(path, {"city": "tomsk"}, api.token(None))
    assert moved.status_code == 422 and "city" in moved.json["errors"]["json"]
    assert api.get(path).json["city"] == "omsk"
