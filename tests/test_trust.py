"""Origin authenticity with real instances over HTTP, and a hostile member (a feed server
with a key of its own): forged relays and tombstones, slug squatting, key rotation, the
network directory, unknown keys. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from feeds.signing import canonical_record, canonical_tombstone, key_id_of, public_text, sign
from service.mirror import subscriptions
from service.store.models import City, Entry, SiteKey, Subscription, db
from tests.conftest import practice_body
from tests.dbutil import instance_database, pg_base_url
from tests.feedserver import FeedServer, Instance

pytestmark = pytest.mark.federation
JSON_FEED = "https://jsonfeed.org/version/1.1"


@pytest.fixture(params=["sqlite"] + (["postgresql"] if pg_base_url() else []))
def net(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Instance]]:
    instances = {
        name: Instance(name, instance_database(request.param, "asdg_trust", name, tmp_path))
        for name in "abmt"
    }
    yield instances
    for instance in instances.values():
        instance.close()


class Hostile:
    """A member that signs what it publishes with a key of its own (and forges the rest)."""

    def __init__(self, server: FeedServer, authority: str = "h.test") -> None:
        self.server, self.authority = server, authority
        self.site = server.url("").rstrip("/")
        self.key = Ed25519PrivateKey.generate()
        self.key_id = key_id_of(self.key.public_key())

    def statement(self) -> dict[str, str]:
        public = public_text(self.key.public_key())
        return {"id": self.key_id, "public_key": public, "site": self.site,
                "authority": self.authority}  # fmt: skip

    def signed(self, record: dict[str, Any]) -> dict[str, Any]:
        bare = {k: v for k, v in record.items() if k not in ("signature", "key_id")}
        return {**bare, "signature": sign(self.key, canonical_record(bare)), "key_id": self.key_id}

    def tombstone(self, uid: str, when: str, *, signed: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"id": uid, "when": when}
        if signed:
            out.update(signature=sign(self.key, canonical_tombstone(uid, when)), key_id=self.key_id)
        return out

    def publish(
        self, path: str, records: list[dict[str, Any]], deleted: tuple[Any, ...] = ()
    ) -> str:
        items = [
            {"id": r["id"], "title": r["title"], "date_modified": r["updated"],
             "content_html": "<p>x</p>", "_asdg": r}
            for r in records
        ]  # fmt: skip
        doc = {"version": JSON_FEED, "title": "Чужой сервер", "items": items,
               "_asdg": {"keys": [self.statement()], "deleted": list(deleted)}}  # fmt: skip
        return self.server.add(path, json.dumps(doc), content_type="application/feed+json")


def genuine(instance: Instance) -> dict[str, dict[str, Any]]:
    """The instance's published records (signed), by id."""
    doc = instance.app.test_client().get("/feeds/all.json").json
    return {item["id"]: item["_asdg"] for item in doc["items"]}


def subscribe_and_poll(instance: Instance, url: str) -> tuple[int, Any]:
    with instance.app.app_context():
        sub_id = subscriptions.add_subscription(url).id
        return sub_id, subscriptions.poll_subscription(sub_id)


def poll(instance: Instance, sub_id: int) -> Any:
    with instance.app.app_context():
        return subscriptions.poll_subscription(sub_id)


def reasons(instance: Instance, sub_id: int) -> str:
    with instance.app.app_context():
        sub = db.session.get(Subscription, sub_id)
        return sub.refusal_reasons or "" if sub else ""


def titles(instance: Instance) -> dict[str, str]:
    with instance.app.app_context():
        return {uid: title for uid, title in db.session.execute(select(Entry.uid, Entry.title))}


def test_forged_relays_and_tombstones_are_refused(
    net: dict[str, Instance], server: FeedServer
) -> None:
    a, m = net["a"], net["m"]
    token = a.add_city("irkutsk", "Иркутск")
    for i in range(3):
        a.api("POST", "/api/v1/practices", token, practice_body(title=f"Иркутск {i}"))
    _, first = subscribe_and_poll(m, a.url("/feeds/all.atom"))
    assert first.new == 3 and first.refused == 0
    records = genuine(a)
    victim, other = sorted(records)[:2]
    later = datetime.now(UTC).isoformat()  # newer than what A published
    defaced = {**records[victim], "title": "Подделка", "updated": later}
    relayed_source = {"id": a.url("/feeds/all.atom"), "title": "A", "url": a.url("/feeds/all.atom")}
    h = Hostile(server)
    url = h.publish(
        "/h.json",
        [
            h.signed({**defaced, "source": relayed_source}),  # H's key naming A's id
            {
                **defaced,
                "id": other,
                "source": relayed_source,  # A's signature kept, text changed
                "signature": records[other]["signature"],
                "key_id": records[other]["key_id"],
            },
        ],
        (h.tombstone(victim, later), h.tombstone(other, later, signed=False)),
    )
    h_id, result = subscribe_and_poll(m, url)
    assert result.new == result.updated == result.deleted == 0
    why = reasons(m, h_id)
    assert "id принадлежит другому сайту" in why and "подпись неверна" in why
    assert "удаление отклонено" in why
    assert titles(m)[victim] == records[victim]["title"]
    assert titles(m)[other] == records[other]["title"]

    # The real origin still serves the entry and is still heard: an edit and a deletion apply.
    a.api("PATCH", f"/api/v1/practices/{victim}", token, {"title": "Правка из Иркутска"})
    a.api("DELETE", f"/api/v1/practices/{other}", token)
    with m.app.app_context():
        a_id = db.session.scalar(
            select(Subscription.id).where(Subscription.url.contains("all.atom"))
        )
    step = poll(m, a_id)
    assert (step.updated, step.deleted) == (1, 1)
    assert titles(m)[victim] == "Правка из Иркутска" and other not in titles(m)


def test_a_relay_cannot_change_what_a_signed_record_shows(
    net: dict[str, Instance], server: FeedServer
) -> None:
    """The HTML beside a record is not signed: a mirror renders a record from its signed fields."""
    a, m = net["a"], net["m"]
    token = a.add_city("irkutsk", "Иркутск")
    a.api("POST", "/api/v1/practices", token, practice_body(summary="Озеленение дворов."))
    subscribe_and_poll(m, a.url("/feeds/all.atom?kind=event"))  # A's key pinned, no records
    ((uid, record),) = genuine(a).items()
    h = Hostile(server)
    source = {"id": a.url("/feeds/all.atom"), "title": "A", "url": a.url("/feeds/all.atom")}
    _, result = subscribe_and_poll(m, h.publish("/relay.json", [{**record, "source": source}]))
    assert result.new == 1 and result.refused == 0  # A's signature holds: the record applies
    items = m.app.test_client().get("/feeds/network.json").json["items"]
    (item,) = [i for i in items if i["id"] == uid]
    assert item["content_html"] != "<p>x</p>"  # what the relay put beside the record
    assert "Озеленение дворов." in item["content_html"]


def test_relayed_records_keep_their_signatures_and_unknown_keys_wait(
    net: dict[str, Instance], tmp_path: Path
) -> None:
    a, b, m = net["a"], net["b"], net["m"]
    token = a.add_city("irkutsk", "Иркутск")
    for i in range(2):
        a.api("POST", "/api/v1/practices", token, practice_body(title=f"Иркутск {i}"))
    own_b = b.api("POST", "/api/v1/practices", b.add_city("tomsk", "Томск"), practice_body())
    subscribe_and_poll(b, a.url("/feeds/all.atom"))
    relayed = {
        i["id"]: i["_asdg"] for i in b.app.test_client().get("/feeds/network.json").json["items"]
    }
    for uid, record in genuine(a).items():  # B republishes A's signatures unchanged
        assert (relayed[uid]["signature"], relayed[uid]["key_id"]) == (
            record["signature"], record["key_id"])  # fmt: skip
    directory = a.app.test_client().get("/.well-known/asdg.json").json

    # A is off the network: M, which only hears B, cannot learn A's key; A's records wait.
    a.stop()
    m_b, result = subscribe_and_poll(m, b.url("/feeds/network.atom"))
    assert result.new == 1 and result.refused == 2
    assert "ключ сайта неизвестен" in reasons(m, m_b)
    assert set(titles(m)) == {own_b["id"]}

    # The operator imports the network directory with A's key: the waiting records apply.
    key = directory["keys"][-1]
    opml = tmp_path / "network.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>АСДГ</title></head><body>'
        f'<outline text="Иркутск" xmlUrl="{a.url("/feeds/all.atom")}" site="{directory["site"]}" '
        f'keyId="{key["id"]}" publicKey="{key["public_key"]}" authority="{directory["authority"]}" '
        'cities="irkutsk"/></body></opml>',
        encoding="utf-8",
    )
    imported = m.app.test_cli_runner().invoke(args=["network", "import", str(opml)])
    assert imported.exit_code == 0, imported.output
    assert "Участников сети в каталоге: 1" in imported.output
    again = poll(m, m_b)
    assert again.new == 2 and again.refused == 0
    with m.app.app_context():
        pinned = db.session.scalar(select(SiteKey).where(SiteKey.key_id == key["id"]))
        assert pinned is not None and pinned.via == "directory"
        assert (
            db.session.scalar(select(City.instance_url).where(City.slug == "irkutsk")) == a.base_url
        )
    bad = m.app.test_cli_runner().invoke(args=["network", "import", str(tmp_path / "none.opml")])
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_an_unknown_key_is_fetched_from_the_sites_well_known(net: dict[str, Instance]) -> None:
    a, b, m = net["a"], net["b"], net["m"]
    token = a.add_city("irkutsk", "Иркутск")
    a.api("POST", "/api/v1/practices", token, practice_body(title="Иркутск"))
    subscribe_and_poll(b, a.url("/feeds/all.atom"))
    _, result = subscribe_and_poll(m, b.url("/feeds/network.json"))
    assert result.new == 1 and result.refused == 0
    with m.app.app_context():
        vias = {row.site: row.via for row in db.session.scalars(select(SiteKey))}
    assert vias == {a.base_url: "well-known", b.base_url: "subscription"}


def test_slug_squatting_is_undone_by_removing_the_squatter(
    net: dict[str, Instance], server: FeedServer
) -> None:
    m, t = net["m"], net["t"]
    h = Hostile(server)
    squat = h.signed({
        "id": "tag:h.test,2026-01-01:practice/1", "kind": "practice", "title": "Томск от H",
        "city": {"slug": "tomsk", "name": "Томск"}, "topics": [], "tags": [], "year": 2020,
        "summary": "Чужая запись", "area": "Организационная деятельность",
        "updated": "2026-01-01T00:00:00+00:00", "published": "2026-01-01T00:00:00+00:00",
    })  # fmt: skip
    h_id, first = subscribe_and_poll(m, h.publish("/h.json", [squat]))
    assert first.new == 1
    token = t.add_city("tomsk", "Томск")
    t.api("POST", "/api/v1/practices", token, practice_body(title="Настоящий Томск"))
    t_id, refused = subscribe_and_poll(m, t.url("/feeds/all.atom"))
    assert refused.new == 0 and "другом сервере" in reasons(m, t_id)

    with m.app.app_context():
        subscriptions.remove_subscription(h_id, purge=True)
    assert poll(m, t_id).new == 1
    assert "Настоящий Томск" in titles(m).values()

    # Back again, H cannot take the city: it belongs to T's site now.
    squat2 = h.signed({**squat, "id": "tag:h.test,2026-01-01:practice/2"})
    _, again = subscribe_and_poll(m, h.publish("/h2.json", [squat2]))
    assert again.new == 0 and again.refused == 1


def test_key_rotation_is_followed_and_a_silent_key_change_is_not(
    net: dict[str, Instance], server: FeedServer
) -> None:
    a, m = net["a"], net["m"]
    token = a.add_city("irkutsk", "Иркутск")
    a.api("POST", "/api/v1/practices", token, practice_body(title="До смены ключа"))
    a_id, _ = subscribe_and_poll(m, a.url("/feeds/all.atom"))
    old = a.app.test_client().get("/.well-known/asdg.json").json["current"]
    rotated = a.app.test_cli_runner().invoke(args=["key", "rotate"])
    assert rotated.exit_code == 0 and "Новый ключ подписи" in rotated.output
    known = a.app.test_client().get("/.well-known/asdg.json").json
    assert known["current"] != old and known["keys"][-1]["rotates"] == old
    a.api("POST", "/api/v1/practices", token, practice_body(title="После смены ключа"))
    step = poll(m, a_id)
    assert step.new == 1 and step.refused == 0
    with m.app.app_context():
        keys = {row.key_id: (row.via, row.retired) for row in db.session.scalars(select(SiteKey))}
    assert keys == {old: ("subscription", True), known["current"]: ("rotation", False)}

    # A member that swaps its key without a rotation signed by the old one is not believed.
    h = Hostile(server)
    record = h.signed({
        "id": "tag:h.test,2026-01-01:practice/1", "kind": "practice", "title": "H",
        "city": {"slug": "h-city", "name": "Город H"}, "topics": [], "tags": [], "year": 2020,
        "summary": "Запись", "area": "Область", "updated": "2026-01-01T00:00:00+00:00",
    })  # fmt: skip
    h_id, first = subscribe_and_poll(m, h.publish("/h.json", [record]))
    assert first.new == 1
    h.key = Ed25519PrivateKey.generate()
    h.key_id = key_id_of(h.key.public_key())
    h.publish(
        "/h.json", [h.signed({**record, "title": "H2", "updated": "2026-01-02T00:00:00+00:00"})]
    )
    swapped = poll(m, h_id)
    assert swapped.updated == 0 and "ключ сайта неизвестен" in reasons(m, h_id)


def test_the_admin_page_imports_a_directory(app: Any, api: Any, runner: Any) -> None:
    from tests.test_web_admin import logged_in

    city_admin = logged_in(app, api, runner, "omsk", "Омск")
    assert city_admin.client.get("/admin/network").status_code == 403  # instance admins only
    admin = logged_in(app, api, runner, "tomsk", "Томск", instance=True)
    page = admin.client.get("/admin/network").get_data(as_text=True)
    own = app.test_client().get("/.well-known/asdg.json").json
    assert own["current"] in page and "Ключей других серверов пока нет" in page
    bad = admin.client.post("/admin/network", data={"directory": (BytesIO(b"<x/>"), "x.opml")})
    assert bad.status_code == 422 and "Каталог не прочитан" in bad.get_data(as_text=True)
    key = Ed25519PrivateKey.generate()
    opml = (
        '<opml version="2.0"><head/><body><outline text="Тара" site="https://tara.example" '
        f'keyId="{key_id_of(key.public_key())}" publicKey="{public_text(key.public_key())}" '
        'authority="tara.example" cities="tara"/></body></opml>'
    ).encode()
    done = admin.client.post("/admin/network", data={"directory": (BytesIO(opml), "net.opml")})
    assert done.status_code == 302
    listed = admin.client.get("/admin/network").get_data(as_text=True)
    assert "https://tara.example" in listed and "каталог сети" in listed


def test_a_key_statement_must_name_its_own_key() -> None:
    from feeds.signing import read_statement

    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    public = public_text(key.public_key())
    assert read_statement({"id": key_id_of(key.public_key()), "public_key": public})
    assert read_statement({"id": key_id_of(other.public_key()), "public_key": public}) is None
    assert read_statement({"id": "x", "public_key": "not base64!"}) is None
