"""``/api/v1/subscriptions`` through HTTP, and the mirroring CLI commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from tests.conftest import Api, practice_body, running_worker
from tests.feedserver import Instance, sqlite_instance
from tests.websubtools import eventually

SUBS = "/api/v1/subscriptions"


@pytest.fixture
def source(tmp_path: Path, sqlite_template: Path) -> Iterator[Instance]:
    instance = sqlite_instance(tmp_path, sqlite_template)
    token = instance.add_city("irkutsk", "Иркутск")
    for i in range(2):
        instance.api("POST", "/api/v1/practices", token, practice_body(title=f"Запись {i}"))
    yield instance
    instance.close()


@pytest.fixture
def mirror(app: Flask) -> Flask:
    app.config.update(MIRROR_ALLOW_PRIVATE_ADDRESSES=True, MIRROR_TIMEOUT=5.0)
    return app


@pytest.fixture
def operator(api: Api) -> str:
    return api.token(None)


def test_subscribe_list_poll_delete(
    api: Api, mirror: Flask, source: Instance, operator: str
) -> None:
    created = api.post(SUBS, {"url": source.url("/")}, operator)
    assert created.status_code == 201, created.json
    sub = created.json
    assert sub["url"] == source.url("/feeds/all.atom") and sub["state"] == "active"
    assert sub["entries_mirrored"] == 0 and sub["backfilled"] is False

    polled = api.post(f"{SUBS}/{sub['id']}/poll", None, operator)
    assert polled.status_code == 202, polled.json
    assert polled.json["poll_requested"] and polled.json["entries_mirrored"] == 0
    with running_worker(mirror):  # `mirror run` does the poll
        done = eventually(lambda: api.get(SUBS, operator).json[0]["poll_requested"] is None)
    assert done
    listed = api.get(SUBS, operator).json
    assert "новых записей 2" in listed[0]["poll_progress"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert listed[0]["entries_mirrored"] == 2 and listed[0]["last_success"]
    mirrored = api.get("/api/v1/practices", origin="mirror").json
    assert mirrored["total"] == 2

    again = api.post(SUBS, {"url": source.url("/feeds/all.atom")}, operator)
    assert again.status_code == 409 and again.json["errors"]["json"]["url"]

    assert api.delete(f"{SUBS}/{sub['id']}?purge=true", operator).status_code == 204
    assert api.get(SUBS, operator).json == []
    assert api.get("/api/v1/practices", origin="mirror").json["total"] == 0
    network = api.client.get("/feeds/network.json").json
    assert len(network["_asdg"]["deleted"]) == 2 and network["items"] == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", SUBS, None),
        ("post", SUBS, {"url": "http://x.example/"}),
        ("delete", f"{SUBS}/1", None),
        ("post", f"{SUBS}/1/poll", None),
    ],
)
def test_operator_token_required(api: Api, method: str, path: str, body: object) -> None:
    api.city("omsk", "Омск")
    city_token = api.token("omsk")
    call = getattr(api.client, method)
    assert call(path, json=body).status_code == 401
    headers = api.headers(city_token)
    assert call(path, json=body, headers=headers).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": ""}, "url"),
        ({"url": 5}, "url"),
        ({"url": "x" * 2001}, "url"),
        ({"url": "ftp://example.org/"}, "url"),
        ({"url": "http://example.org/", "extra": 1}, "extra"),
    ],
)
def test_bad_input_names_the_field(api: Api, operator: str, body: dict, field: str) -> None:
    answer = api.post(SUBS, body, operator)
    assert answer.status_code in (400, 422), answer.json
    assert field in answer.json["errors"]["json"]


def test_unknown_subscription_is_404(api: Api, operator: str) -> None:
    assert api.delete(f"{SUBS}/999", operator).status_code == 404
    assert api.post(f"{SUBS}/999/poll", None, operator).status_code == 404
    assert api.delete(f"{SUBS}/x", operator).status_code == 404


def test_poll_now_of_a_stopped_feed_answers_at_once_and_the_worker_polls_it(
    api: Api, mirror: Flask, source: Instance, operator: str, runner: FlaskCliRunner
) -> None:
    from service.store.models import Subscription, db

    sub = api.post(SUBS, {"url": source.url("/feeds/all.atom")}, operator).json
    with mirror.app_context():  # stopped (410) and not due: only "poll now" brings it back
        row = db.session.get(Subscription, sub["id"])
        row.state, row.next_poll = "gone", row.next_poll.replace(year=2100)
        db.session.commit()
    assert json.loads(runner.invoke(args=["mirror", "poll", "--json"]).output)["feeds"] == 0
    assert api.post(f"{SUBS}/{sub['id']}/poll", None, operator).status_code == 202
    summary = json.loads(runner.invoke(args=["mirror", "poll", "--json"]).output)
    assert summary["feeds"] == 1 and summary["new"] == 2
    (after,) = api.get(SUBS, operator).json
    assert after["state"] == "active" and after["poll_requested"] is None


def test_openapi_documents_the_endpoints(api: Api) -> None:
    paths = api.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/subscriptions",
        "/api/v1/subscriptions/{sub_id}",
        "/api/v1/subscriptions/{sub_id}/poll",
    } <= set(paths)


# -- command line ------------------------------------------------------------------


def test_cli_subscribe_list_and_poll(
    runner: FlaskCliRunner, mirror: Flask, source: Instance, tmp_path: Path
) -> None:
    result = runner.invoke(args=["subscribe", source.url("/")])
    assert result.exit_code == 0, result.output
    assert source.url("/feeds/all.atom") in result.output

    opml = tmp_path / "feeds.opml"
    opml.write_text(
        '<opml version="2.0"><head/><body>'
        f'<outline text="JSON" xmlUrl="{source.url("/feeds/all.json")}"/>'
        f'<outline text="Та же" xmlUrl="{source.url("/feeds/all.atom")}"/></body></opml>',
        encoding="utf-8",
    )
    result = runner.invoke(args=["subscribe", "--opml", str(opml)])
    assert result.exit_code == 0, result.output
    assert result.output.count("Подписка #") == 1 and "all.json" in result.output

    result = runner.invoke(args=["mirror", "poll"])
    assert result.exit_code == 0, result.output
    assert "Опрошено лент: 2" in result.output and "записей новых: 2" in result.output
    assert "ошибок: 0" in result.output

    result = runner.invoke(args=["subscriptions"])
    assert result.exit_code == 0
    assert result.output.count("работает") == 2 and "записей: 2" in result.output

    result = runner.invoke(args=["mirror", "poll"])
    assert "Опрошено лент: 0" in result.output  # nothing due yet


def test_cli_poll_all_and_json(runner: FlaskCliRunner, mirror: Flask, source: Instance) -> None:
    for path in ("/feeds/all.atom", "/feeds/all.json"):
        assert runner.invoke(args=["subscribe", source.url(path)]).exit_code == 0
    result = runner.invoke(args=["mirror", "poll", "--json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.output)
    assert list(first) == [
        "feeds", "new", "updated", "deleted", "not_modified", "refused", "errors", "not_due",
        "seconds",
    ]  # fmt: skip
    assert (first["feeds"], first["new"], first["errors"], first["not_due"]) == (2, 2, 0, 0)
    assert isinstance(first["seconds"], float)
    again = json.loads(runner.invoke(args=["mirror", "poll", "--json"]).output)
    assert (again["feeds"], again["not_due"]) == (0, 2)  # nothing due, and it says so
    result = runner.invoke(args=["mirror", "poll"])
    assert "Опрошено лент: 0" in result.output and "не подошёл срок опроса: 2" in result.output
    forced = json.loads(runner.invoke(args=["mirror", "poll", "--all", "--json"]).output)
    assert (forced["feeds"], forced["not_modified"], forced["not_due"]) == (2, 2, 0)
    result = runner.invoke(args=["mirror", "poll", "--all"])
    assert result.exit_code == 0 and "Опрошено лент: 2" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subscribe"], "URL"),
        (["subscribe", "ftp://x.example/"], "http"),
    ],
)
def test_cli_errors(runner: FlaskCliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output


def test_cli_bad_opml(runner: FlaskCliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_bytes(b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><opml/>")
    result = runner.invoke(args=["subscribe", "--opml", str(bad)])
    assert result.exit_code == 1 and "OPML" in result.output
