"""Three real instances on 127.0.0.1, each with its own database and port.

A publishes; B subscribes to A; C subscribes to B's network feed and to A.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from service.entries.service import create_entry
from service.http.api.schemas import EventInSchema, PracticeInSchema
from service.mirror import subscriptions
from service.store.models import City, Entry, EntryChange, Subscription, db
from tests.conftest import event_body, practice_body
from tests.dbutil import instance_database, pg_base_url
from tests.feedserver import Instance

pytestmark = pytest.mark.federation

HISTORY = 500
PAGE = 50
#: Differ on purpose between an entry and its copies.
PROVENANCE = {"origin", "source", "local_id", "signature", "key_id"}


def database(backend: str, name: str, tmp_path: Path) -> str:
    return instance_database(backend, "asdg_fed", name, tmp_path)


@pytest.fixture(params=["sqlite"] + (["postgresql"] if pg_base_url() else []))
def network(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Instance]]:
    instances = {
        name: Instance(name, database(request.param, name, tmp_path), FEED_PAGE_SIZE=PAGE)
        for name in "abc"
    }
    yield instances
    for instance in instances.values():
        instance.close()


def fill_history(a: Instance, count: int) -> None:
    """``count`` published entries of two kinds, every field filled in."""
    with a.app.app_context():
        city = db.session.scalar(select(City).where(City.slug == "irkutsk"))
        for i in range(count):
            if i % 5 == 4:
                body = event_body(
                    title=f"Событие {i}", participants=i, related=None, topics=["culture", "sport"]
                )
                create_entry("event", EventInSchema().load(body), city=city, commit=False)
            else:
                body = practice_body(
                    title=f"Практика {i}",
                    year=2000 + i % 25,
                    body=f"Подробности **{i}**",
                    contact={
                        "name": "Петров П. П.",
                        "position": "специалист",
                        "email": "p@irk.example",
                        "phone": "+7 3952 00 00 00",
                    },
                    tags=["онлайн", f"метка {i % 7}"],
                )
                create_entry("practice", PracticeInSchema().load(body), city=city, commit=False)
        db.session.commit()


def poll(instance: Instance, sub_id: int) -> Any:
    with instance.app.app_context():
        return subscriptions.poll_subscription(sub_id)


def subscribe(instance: Instance, url: str) -> int:
    with instance.app.app_context():
        return subscriptions.add_subscription(url).id


def api_view(instance: Instance) -> dict[str, dict[str, Any]]:
    """Every entry as the JSON API shows it, minus provenance."""
    client = instance.app.test_client()
    out: dict[str, dict[str, Any]] = {}
    for plural in ("practices", "events"):
        page = 1
        while True:
            answer = client.get(f"/api/v1/{plural}", query_string={"page": page, "per_page": 100})
            assert answer.status_code == 200
            for item in answer.json["items"]:
                assert item["id"] not in out, "an entry is listed twice"
                out[item["id"]] = {k: v for k, v in item.items() if k not in PROVENANCE}
            if page >= answer.json["pages"]:
                break
            page += 1
    return out


def records(instance: Instance) -> dict[str, dict[str, Any]]:
    return {
        uid: {k: v for k, v in snap.items() if k not in PROVENANCE}
        for uid, snap in instance.snapshots().items()
    }


def change_log_is_clean(instance: Instance) -> None:
    """No entry version was logged twice (the same entry reached by two paths)."""
    with instance.app.app_context():
        rows = db.session.execute(
            select(EntryChange.entry_uid, EntryChange.at, EntryChange.deleted, func.count())
            .group_by(EntryChange.entry_uid, EntryChange.at, EntryChange.deleted)
            .having(func.count() > 1)
        ).all()
    assert rows == []


def test_federation(network: dict[str, Instance]) -> None:
    a, b, c = network["a"], network["b"], network["c"]
    token_a = a.add_city("irkutsk", "Иркутск", "Иркутская область")
    token_b = b.add_city("tomsk", "Томск", "Томская область")
    fill_history(a, HISTORY)
    own_b = b.api("POST", "/api/v1/practices", token_b, practice_body(title="Томская практика"))

    # B subscribes to A: the whole history comes from the archives.
    b_from_a = subscribe(b, a.url("/feeds/all.atom"))
    first = poll(b, b_from_a)
    assert first.new == HISTORY and first.pages >= HISTORY // PAGE and first.refused == 0
    # C subscribes to B's network feed (Atom) and to A (JSON Feed); B's copy first.
    c_from_b = subscribe(c, b.url("/feeds/network.atom"))
    c_from_a = subscribe(c, a.url("/feeds/all.json"))
    assert poll(c, c_from_b).new == HISTORY + 1
    from_a = poll(c, c_from_a)
    assert from_a.new == 0 and from_a.skipped == HISTORY  # stored once

    view_a = api_view(a)
    assert len(view_a) == HISTORY
    view_b, view_c = api_view(b), api_view(c)
    assert {uid: view_b[uid] for uid in view_a} == view_a
    assert {uid: view_c[uid] for uid in view_a} == view_a
    assert view_c[own_b["id"]] == view_b[own_b["id"]]
    assert set(view_c) == set(view_a) | {own_b["id"]}
    snaps_a, snaps_b, snaps_c = records(a), records(b), records(c)
    assert (
        {uid: snaps_c[uid] for uid in snaps_a} == snaps_a == {uid: snaps_b[uid] for uid in snaps_a}
    )
    with c.app.app_context():
        copy = db.session.scalar(select(Entry).where(Entry.uid == next(iter(snaps_a))))
        assert copy.source_url == a.url("/feeds/all.atom")  # provenance kept through B
        assert (
            db.session.scalar(select(City.instance_url).where(City.slug == "tomsk")) == b.base_url
        )

    # Create, edit and delete on A propagate to B and C.
    uids = sorted(snaps_a)
    created = a.api("POST", "/api/v1/events", token_a, event_body(title="Новое событие"))
    edited = next(u for u in uids if ":practice/" in u)
    deleted = next(u for u in uids if ":event/" in u)
    a.api("PATCH", f"/api/v1/practices/{edited}", token_a, {"title": "Изменено", "plans": "Новые"})
    a.api("DELETE", f"/api/v1/events/{deleted}", token_a)
    step = poll(b, b_from_a)
    assert (step.new, step.updated, step.deleted) == (1, 1, 1)
    assert (poll(c, c_from_b).new, poll(c, c_from_a).new) == (1, 0)
    view_a = api_view(a)
    assert view_a[edited]["title"] == "Изменено" and deleted not in view_a
    for other in (b, c):
        view = api_view(other)
        assert {uid: view.get(uid) for uid in view_a} == view_a
        assert deleted not in view and created["id"] in view

    # B is down while C polls: C keeps what it has and records the error.
    b.stop()
    a.api("PATCH", f"/api/v1/practices/{edited}", token_a, {"title": "Пока B спит"})
    before = api_view(c)
    down = poll(c, c_from_b)
    assert down.status == "error" and down.error
    with c.app.app_context():
        state = db.session.get(Subscription, c_from_b)
        assert state.state == "error" and state.failures == 1 and state.last_error
    assert api_view(c) == before
    assert poll(c, c_from_a).updated == 1  # the direct path still works
    b.start()
    b_tombstones_before = api_view(b)
    assert poll(b, b_from_a).updated == 1
    back = poll(c, c_from_b)
    assert back.status == "ok" and back.error is None
    assert api_view(b) != b_tombstones_before
    with c.app.app_context():
        state = db.session.get(Subscription, c_from_b)
        assert state.state == "active" and state.failures == 0 and state.last_error is None
    final_a, final_b, final_c = api_view(a), api_view(b), api_view(c)
    assert final_a[edited]["title"] == "Пока B спит"
    assert {u: final_b[u] for u in final_a} == final_a == {u: final_c[u] for u in final_a}
    assert set(final_c) == set(final_a) | {own_b["id"]}
    for instance in (a, b, c):
        change_log_is_clean(instance)
