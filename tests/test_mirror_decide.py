"""feeds.decide: the pure rules of what a feed batch changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feeds.decide import KnownCity, Plan, Refusal, Removal, Stored, Version, decide, newest

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
A = "http://a.example"
B = "http://b.example"
CITIES = {
    "omsk": KnownCity("omsk", local=True, instance_url=None),
    "irkutsk": KnownCity("irkutsk", local=False, instance_url=A),
}


def t(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def version(uid: str, minutes: int, city: str = "irkutsk", origin: str = A) -> Version:
    return Version(uid, t(minutes), city, origin, payload={"uid": uid})


def stored(
    uid: str,
    minutes: int,
    city: str = "irkutsk",
    *,
    local: bool = False,
    sub: int | None = 1,
    signed: bool = False,
) -> Stored:
    return Stored(uid, t(minutes), local, city, sub, signed)


def run(versions=(), removals=(), *, have=(), deleted=None, origin=A, sub=1, cities=None) -> Plan:
    return decide(
        versions,
        removals,
        stored={s.uid: s for s in have},
        deleted=deleted or {},
        cities=CITIES if cities is None else cities,
        feed_origin=origin,
        subscription_id=sub,
    )


def test_new_entries_are_inserted_oldest_first() -> None:
    plan = run([version("x", 5), version("y", 1), version("z", 3)])
    assert [v.uid for v in plan.insert] == ["y", "z", "x"]
    assert plan.update == plan.delete == plan.refused == ()
    assert plan.skipped == 0


@pytest.mark.parametrize(("incoming", "expect"), [(11, "update"), (10, "skip"), (9, "skip")])
def test_update_only_when_newer(incoming: int, expect: str) -> None:
    plan = run([version("x", incoming)], have=[stored("x", 10)])
    assert (len(plan.update), plan.skipped) == ((1, 0) if expect == "update" else (0, 1))
    assert plan.insert == ()


def test_two_versions_of_one_entry_in_a_batch_keep_the_newest() -> None:
    plan = run([version("x", 1), version("x", 7), version("x", 4)])
    assert len(plan.insert) == 1 and plan.insert[0].updated == t(7)


def test_same_entry_from_two_paths_is_stored_once() -> None:
    relayed = version("x", 3, origin=A)  # a relay names A as the source
    first = run([relayed], origin=B)
    assert [v.uid for v in first.insert] == ["x"]
    second = run([version("x", 3)], have=[stored("x", 3, sub=2)])
    assert second.insert == second.update == () and second.skipped == 1


def test_signed_tombstone_of_the_entrys_site_deletes_whoever_relays_it() -> None:
    plan = run(removals=[Removal("x", t(20), A)], have=[stored("x", 10, sub=7, signed=True)])
    assert plan.delete == (Removal("x", t(20), A),)


def test_unsigned_tombstone_never_deletes_a_signed_entry() -> None:
    plan = run(removals=[Removal("x", t(20))], have=[stored("x", 10, sub=1, signed=True)])
    assert plan.delete == () and plan.skipped == 1


def test_unsigned_version_never_replaces_a_signed_entry() -> None:
    plan = run([version("x", 20)], have=[stored("x", 10, signed=True)])
    assert plan.update == () and [r.reason for r in plan.refused] == [Refusal.UNSIGNED]


def test_generic_entry_of_another_feed_is_left_alone() -> None:
    plan = run([version("x", 20)], have=[stored("x", 10, sub=2)], sub=1)
    assert plan.update == plan.refused == () and plan.skipped == 1


def test_tombstone_from_the_delivering_relay_deletes() -> None:
    plan = run(removals=[Removal("x", t(20))], have=[stored("x", 10, sub=3)], origin=B, sub=3)
    assert [r.uid for r in plan.delete] == ["x"]


def test_tombstone_from_an_unrelated_feed_is_ignored_quietly() -> None:
    plan = run(removals=[Removal("x", t(20))], have=[stored("x", 10, sub=3)], origin=B, sub=4)
    assert plan.delete == plan.refused == () and plan.skipped == 1


def test_tombstone_older_than_the_stored_version_is_skipped() -> None:
    plan = run(removals=[Removal("x", t(5))], have=[stored("x", 10)])
    assert plan.delete == () and plan.skipped == 1


def test_tombstone_for_unknown_entry_is_skipped() -> None:
    plan = run(removals=[Removal("nope", t(5))])
    assert plan.changes == 0 and plan.skipped == 1


def test_tombstone_wins_a_tie_and_later_version_wins_over_tombstone() -> None:
    tie = newest([version("x", 5)], [Removal("x", t(5))])
    assert isinstance(tie["x"], Removal)
    later = newest([version("x", 6)], [Removal("x", t(5))])
    assert isinstance(later["x"], Version)


def test_deleted_entry_is_not_brought_back_by_a_stale_copy() -> None:
    stale = run([version("x", 10)], deleted={"x": t(12)})
    assert stale.insert == () and stale.skipped == 1
    republished = run([version("x", 13)], deleted={"x": t(12)})
    assert [v.uid for v in republished.insert] == ["x"]


@pytest.mark.parametrize(
    ("versions", "have", "reason"),
    [
        ([version("mine", 50)], [stored("mine", 1, "omsk", local=True)], Refusal.LOCAL_ENTRY),
        ([version("new", 50, city="omsk")], [], Refusal.LOCAL_CITY),
        ([version("x", 50, city="irkutsk", origin=B)], [], Refusal.FOREIGN_CITY),
        ([version("x", 50, city="tomsk")], [stored("x", 1, "irkutsk")], Refusal.CITY_MOVED),
    ],
)
def test_claims_on_other_cities_are_refused(versions, have, reason: Refusal) -> None:
    plan = run(versions, have=have, origin=versions[0].origin)
    assert [r.reason for r in plan.refused] == [reason]
    assert plan.changes == 0


def test_tombstone_for_a_local_entry_is_refused() -> None:
    plan = run(removals=[Removal("mine", t(50))], have=[stored("mine", 1, "omsk", local=True)])
    assert plan.delete == () and [r.reason for r in plan.refused] == [Refusal.LOCAL_ENTRY]


def test_new_city_is_bound_to_the_first_site_in_the_batch() -> None:
    plan = run(
        [version("a1", 1, city="tomsk", origin=B), version("a2", 2, city="tomsk", origin=A)],
        cities={},
    )
    assert plan.bind == {"tomsk": B}
    assert [v.uid for v in plan.insert] == ["a1"]
    assert [(r.uid, r.reason) for r in plan.refused] == [("a2", Refusal.FOREIGN_CITY)]


def test_refusals_do_not_stop_the_rest_of_the_batch() -> None:
    plan = run([version("ok", 1), version("bad", 2, city="omsk")], have=[stored("old", 0)])
    assert [v.uid for v in plan.insert] == ["ok"]
    assert [r.uid for r in plan.refused] == ["bad"]


def test_a_signed_copy_of_a_version_stored_unsigned_is_taken_once() -> None:
    signed = Version("x", t(10), "irkutsk", A, payload={"uid": "x"}, signed=True)
    assert [v.uid for v in run([signed], have=[stored("x", 10)]).update] == ["x"]
    assert run([signed], have=[stored("x", 10, signed=True)]).skipped == 1
