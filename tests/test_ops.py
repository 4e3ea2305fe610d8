"""``/healthz`` and ``/metrics``: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from service.mirror import subscriptions
from service.store.models import Subscription, db
from tests.conftest import base_config


def scrape(app: Flask) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of a scrape: {name: {labels: value}}."""
    answer = app.test_client().get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.get_data(as_text=True)):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def test_healthz_answers_when_the_database_does(app: Flask) -> None:
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json["status"] == "ok" and answer.json["database"] == "ok"
    with app.app_context():
        assert answer.json["dialect"] == db.engine.dialect.name
    assert answer.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_the_database_is_down(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database file" * 100)
    for url in (f"sqlite:///{broken}", "postgresql://postgres@127.0.0.1:9/nowhere"):
        app = create_app(base_config(url, tmp_path))
        answer = app.test_client().get("/healthz")
        assert answer.status_code == 503, url
        assert answer.json == {
            "status": "error",
            "database": "unavailable",
            "dialect": url.split(":")[0],
        }
        # The metrics endpoint still answers, and says the database is down.
        assert scrape(app)["asdg_database_up"] == {(): 0.0}
        with app.app_context():
            db.engine.dispose()


def test_metrics_show_the_state_of_subscriptions(app: Flask) -> None:
    with app.app_context():
        db.session.add_all(
            [
                Subscription(url="https://a.example/feed.atom"),
                Subscription(url="https://b.example/feed.atom", state="error"),
            ]
        )
        db.session.commit()
        assert len(subscriptions.list_subscriptions()) == 2
    samples = scrape(app)
    assert samples["asdg_database_up"] == {(): 1.0}
    assert samples["asdg_subscriptions"] == {(("state", "active"),): 1, (("state", "error"),): 1}
    assert samples["asdg_subscriptions_due"] == {(): 2}
    assert samples["asdg_change_log_seq"] == {(): 0}
    # Counters are declared (with their help text) before anything happened.
    assert "asdg_hub_delivery_seconds_count" in samples
