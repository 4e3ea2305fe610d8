"""Events as contract v2 says: stage, year and month, optional dates, never placeholder dates."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from feeds.parse import parse_feed
from service.store.models import db
from tests.conftest import Api, event_body


def planned(**over: Any) -> dict[str, Any]:
    body = event_body(stage="planned", year=2022, month=3)
    del body["starts_on"], body["ends_on"]
    body.update(over)
    return body


def test_planned_event_known_by_its_month(api: Api, omsk: str, client: FlaskClient) -> None:
    created = api.post("/api/v1/events", planned(), omsk)
    assert created.status_code == 201, created.json
    event = created.json
    assert (event["stage"], event["year"], event["month"]) == ("planned", 2022, 3)
    assert event["starts_on"] is None and event["ends_on"] is None
    page = client.get(f"/events/{event['local_id']}").get_data(as_text=True)
    assert "март 2022" in page and "запланировано" in page
    listing = client.get("/").get_data(as_text=True)
    assert "март 2022" in listing and "1 января" not in listing


def test_event_known_by_its_year_only(api: Api, omsk: str, client: FlaskClient) -> None:
    event = api.post("/api/v1/events", planned(stage="held", month=None), omsk).json
    assert event["stage"] == "held" and event["month"] is None
    page = client.get(f"/events/{event['local_id']}").get_data(as_text=True)
    assert "2022 год, даты уточняются" in page


def test_dates_set_year_and_month(api: Api, omsk: str) -> None:
    event = api.post("/api/v1/events", event_body(), omsk).json
    assert (event["stage"], event["year"], event["month"]) == ("held", 2020, 8)
    moved = api.patch(
        f"/api/v1/events/{event['id']}", {"starts_on": "2021-05-03", "ends_on": None}, omsk
    )
    assert moved.status_code == 200, moved.json
    assert (moved.json["year"], moved.json["month"], moved.json["ends_on"]) == (2021, 5, None)


@pytest.mark.parametrize(
    ("field", "change"),
    [
        ("year", {"year": None}),
        ("starts_on", {"ends_on": "2022-03-02"}),
        ("month", {"month": 13}),
        ("stage", {"stage": "someday"}),
        ("year", {"year": 1989}),
    ],
)
def test_bad_year_month_and_stage(api: Api, omsk: str, field: str, change: dict) -> None:
    response = api.post("/api/v1/events", planned(**change), omsk)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


def test_date_and_year_must_agree(api: Api, omsk: str) -> None:
    response = api.post("/api/v1/events", event_body(year=2019), omsk)
    assert response.status_code == 422
    assert "year" in response.json["errors"]["json"]


def test_every_rule_is_reported_in_one_round(api: Api, omsk: str) -> None:
    body = planned(year=None, participants=-1, format="zoom")
    errors = api.post("/api/v1/events", body, omsk).json["errors"]["json"]
    assert {"year", "participants", "format"} <= errors.keys()


@pytest.mark.parametrize("fmt", ["atom", "json"])
def test_stage_and_month_travel_in_the_feeds(
    api: Api, omsk: str, client: FlaskClient, fmt: str
) -> None:
    api.post("/api/v1/events", planned(status="published"), omsk)
    body = client.get(f"/feeds/all.{fmt}").data
    record = parse_feed(body, url=f"http://test.example/feeds/all.{fmt}").entries[0].record
    assert record is not None
    assert (record["stage"], record["year"], record["month"]) == ("planned", 2022, 3)
    assert record["starts_on"] is None


def test_migration_removes_placeholder_dates(app: Flask, api: Api, omsk: str) -> None:
    """Events that imports gave 1 January - 31 December keep their year, lose the dates."""
    placeholder = api.post(
        "/api/v1/events", event_body(starts_on="2020-01-01", ends_on="2020-12-31"), omsk
    ).json
    real = api.post("/api/v1/events", event_body(), omsk).json
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        from service.store.db import MIGRATIONS

        downgrade(directory=MIGRATIONS, revision="0002")
        upgrade(directory=MIGRATIONS)
        rows = dict(
            db.session.execute(
                text("SELECT id, stage || ' ' || year || ' ' || coalesce(month, 0) FROM entries")
            ).all()
        )
        db.session.commit()
    assert rows[placeholder["local_id"]] == "held 2020 0"
    assert rows[real["local_id"]] == "held 2020 8"
    after = api.get(f"/api/v1/events/{placeholder['id']}").json
    assert after["starts_on"] is None and after["year"] == 2020
