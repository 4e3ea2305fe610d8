"""Writes through the API that hold: ETag and If-Match, PUT replaces and PATCH merges,
numbers never reused, ``related`` only to readable notes, authentication before
validation, and input bounds (ids, NUL, lone surrogates, nesting, huge numbers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import Api, event_body, practice_body

P = "/api/v1/practices"


def _json(api: Api, method: str, path: str, raw: str, token: str | None) -> Any:
    headers = {**api.headers(token), "Content-Type": "application/json"}
    return api.client.open(path, method=method, data=raw.encode(), headers=headers)


def test_etag_and_if_match(api: Api, omsk: str) -> None:
    made = api.post(P, practice_body(), omsk)
    path = f"{P}/{made.json['local_id']}"
    tag = made.headers["ETag"]
    read = api.get(path)
    assert read.headers["ETag"] == tag and tag.startswith('"')
    stale = api.client.patch(
        path, json={"title": "Новое"}, headers={**api.headers(omsk), "If-Match": '"1-0"'}
    )
    assert stale.status_code == 412 and "If-Match" in stale.json["errors"]["json"]
    assert api.get(path).json["title"] == practice_body()["title"]  # nothing changed
    fresh = api.client.patch(
        path, json={"title": "Новое"}, headers={**api.headers(omsk), "If-Match": tag}
    )
    assert fresh.status_code == 200 and fresh.headers["ETag"] != tag
    # The old tag is stale now: PUT and DELETE refuse it too; W/ and * are understood.
    for method in ("PUT", "DELETE"):
        answer = api.client.open(
            path,
            method=method,
            json=practice_body(),
            headers={**api.headers(omsk), "If-Match": tag},
        )
        assert answer.status_code == 412, method
    weak = {**api.headers(omsk), "If-Match": "W/" + fresh.headers["ETag"]}
    assert api.client.patch(path, json={"year": 2021}, headers=weak).status_code == 200
    anything = {**api.headers(omsk), "If-Match": "*"}
    assert api.client.delete(path, headers=anything).status_code == 204


def test_put_replaces_patch_merges_status_only_when_given(api: Api, omsk: str) -> None:
    body = practice_body(body="Подробности", contact={"name": "Иванова", "phone": "123"})
    made = api.post(P, body, omsk).json
    path = f"{P}/{made['local_id']}"
    merged = api.patch(path, {"title": "Только заголовок"}, omsk).json
    assert merged["body"] == "Подробности" and merged["contact"]["name"] == "Иванова"
    assert merged["topics"] == made["topics"] and merged["status"] == "published"

    required_only = {k: body[k] for k in ("title", "area", "year", "summary")}
    replaced = api.put(path, required_only, omsk)
    assert replaced.status_code == 200, replaced.json
    entry = replaced.json
    assert entry["status"] == "published"  # not unpublished by omission
    assert not entry["body"] and not entry["achievements"] and entry["contact"] is None
    assert entry["topics"] == [] and entry["tags"] == []
    missing = api.put(path, {"title": "Без остального"}, omsk)
    assert missing.status_code == 422
    assert {"area", "year", "summary"} <= set(missing.json["errors"]["json"])
    assert api.put(path, {**required_only, "status": "draft"}, omsk).json["status"] == "draft"
    # A new entry without a status is a draft.
    fresh = dict(practice_body())
    fresh.pop("status")
    assert api.post(P, fresh, omsk).json["status"] == "draft"


def test_numbers_are_never_reused(api: Api, omsk: str) -> None:
    first = api.post(P, practice_body(title="Первая"), omsk).json["local_id"]
    second = api.post(P, practice_body(title="Вторая"), omsk).json["local_id"]
    assert api.delete(f"{P}/{second}", omsk).status_code == 204
    third = api.post(P, practice_body(title="Третья"), omsk).json["local_id"]
    assert third > second > first
    assert api.get(f"{P}/{second}").status_code == 404


def test_related_only_to_notes_the_city_may_read(api: Api, omsk: str, tomsk: str) -> None:
    draft = api.post(P, practice_body(status="draft"), tomsk).json
    published = api.post(P, practice_body(), tomsk).json
    own_draft = api.post(P, practice_body(status="draft"), omsk).json
    hidden = api.post("/api/v1/events", event_body(related=draft["id"]), omsk)
    absent = api.post("/api/v1/events", event_body(related="tag:nowhere,2020:x"), omsk)
    assert hidden.status_code == absent.status_code == 422
    assert hidden.json["errors"] == absent.json["errors"]  # a draft of another city: "none"
    assert "related" in hidden.json["errors"]["json"]
    for note in (published, own_draft):
        made = api.post("/api/v1/events", event_body(related=note["id"]), omsk)
        assert made.status_code == 201, made.json


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_authentication_comes_before_validation(api: Api, omsk: str, method: str) -> None:
    path = P if method == "POST" else f"{P}/1"
    for raw in ("{not json", '{"year": "x"}', "[" * 5000):
        answer = _json(api, method, path, raw, None)
        assert answer.status_code == 401, (method, raw[:10])
        assert answer.json["errors"]["json"] == {"Authorization": [answer.json["message"]]}
    bad_token = _json(api, method, path, '{"year": "x"}', "asdg_wrong")
    assert bad_token.status_code == 401


@pytest.mark.parametrize(
    "ident",
    ["9223372036854775808", "99999999999999999999999999", "0", "-1", "١٢", "²", "1\x00",
     "%ED%A0%80", "tag:x\x00y", "x" * 600],
)  # fmt: skip
def test_ids_out_of_bounds_are_404(api: Api, omsk: str, ident: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        body = {"title": "x"} if method == "PATCH" else None
        answer = api.client.open(
            f"{P}/{ident}", method=method, json=body, headers=api.headers(omsk)
        )
        assert answer.status_code == 404, (method, ident)
        assert answer.is_json


def test_admin_and_subscription_numbers_beyond_the_columns_are_404(api: Api, omsk: str) -> None:
    operator = api.token(None)
    huge = 2**63 + 5
    assert api.delete(f"/api/v1/subscriptions/{huge}", operator).status_code == 404
    assert api.client.get(f"/admin/practices/{huge}/edit").status_code == 404
    api.post(P, practice_body(), omsk)
    assert api.client.get("/practices/1").status_code == 200
    assert api.client.get("/practices/١").status_code == 404  # Arabic-Indic one


@pytest.mark.parametrize(
    ("raw", "field", "code"),
    [
        ('{"title": "a\\u0000b"}', "title", 422),
        ('{"title": "\\ud800"}', "title", 422),
        ('{"tags": ["ok", "\\udfff"]}', "tags[1]", 422),
        ('{"contact": {"name": "\\u0000"}}', "contact.name", 422),
        ('{"\\u0000": 1}', "\ufffd", 422),
        ('{"year": ' + "9" * 5000 + "}", "year", 422),
        ('{"participants": 99999999999999999999}', "participants", 422),
        ("[" * 1000 + "]" * 1000, "json", 400),
        ('{"a": ' * 100 + "1" + "}" * 100, "json", 400),
    ],
)
def test_bad_json_is_a_4xx_naming_the_field(
    api: Api, omsk: str, raw: str, field: str, code: int
) -> None:
    for method, path in (("POST", P), ("POST", "/api/v1/events")):
        answer = _json(api, method, path, raw, omsk)
        assert answer.status_code == code, (raw[:40], answer.json)
        assert field in answer.json["errors"]["json"], answer.json


def test_nul_in_query_and_form_is_a_4xx(api: Api, omsk: str) -> None:
    for params in ({"city": "om\x00sk"}, {"topic": "\x00"}, {"origin\x00": "local"}):
        answer = api.get(P, **params)
        assert answer.status_code == 422, params
    page = api.client.get("/", query_string={"city": "\x00"})
    assert page.status_code == 422 and page.mimetype == "text/html"
    login = api.client.post("/admin/login", data={"email": "a\x00@x", "password": "x"})
    assert login.status_code == 422


def test_own_and_mirrored_dates_share_one_range(api: Api, omsk: str) -> None:
    for change in ({"year": 1}, {"year": 9999}, {"starts_on": "0001-01-01"}):
        body = event_body(**change)
        if "year" in change:
            body.pop("starts_on"), body.pop("ends_on")
        answer = api.post("/api/v1/events", body, omsk)
        assert answer.status_code == 422, change
    from service.mirror.records import RecordError, load_record

    record = {
        "kind": "event",
        "id": "tag:x,2020:e",
        "title": "x",
        "year": 9999,
        "city": {"slug": "tomsk", "name": "Томск"},
        "updated": "2020-01-01T00:00:00+00:00",
    }
    now = datetime.now(UTC)
    with pytest.raises(RecordError):
        load_record(record, now)
    with pytest.raises(RecordError):
        load_record({**record, "year": 2020, "starts_on": "0001-01-01"}, now)


def test_remote_images_become_links(api: Api, omsk: str) -> None:
    text = "Фото: ![Праздник](https://tracker.example/pixel.gif) и ссылка."
    made = api.post(P, practice_body(summary=text), omsk).json
    page = api.client.get(f"/practices/{made['local_id']}").get_data(as_text=True)
    assert "<img" not in page and 'href="https://tracker.example/pixel.gif"' in page
    assert "[Праздник]" in page
    feed = api.client.get("/feeds/all.json").json
    assert "<img" not in feed["items"][0]["content_html"]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<img src="https://t.example/p.gif" alt="Фото">',
         '<a href="https://t.example/p.gif" rel="noopener noreferrer nofollow">[Фото]</a>'),
        ('<a href="https://x.example/">see <img src="https://t.example/p.gif"></a>',
         '<a href="https://x.example/" rel="noopener noreferrer nofollow">see [изображение]</a>'),
        ('<img alt="без адреса">', "[без адреса]"),
        ('<img src="javascript:alert(1)" alt="x" onerror="alert(2)">', "[x]"),
    ],
)  # fmt: skip
def test_mirrored_html_loads_no_images(html: str, expected: str) -> None:
    """The one HTML policy (feeds.html), which mirrored content passes in the fetcher."""
    from feeds.html import sanitize

    assert sanitize(html) == expected
