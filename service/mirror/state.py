"""Reading the mirror's state: what is stored for the ids a batch brings.

Reads only. :func:`plan_batch` asks :func:`feeds.decide.decide` what a batch
changes, given the stored versions (:func:`stored_state`), the tombstones in
our change log (:func:`deletions`) and the cities known (:func:`known_cities`);
:func:`page_is_known` tells an archive walk where it may stop.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from sqlalchemy import func, select

from feeds.decide import KnownCity, Plan, Stored, decide
from feeds.types import ParsedEntry
from service.mirror.records import Batch, Page
from service.store.models import City, Entry, EntryChange, db
from service.trust.pins import directory_cities
from service.vocab import Origin

#: Ids per IN (...) query.
CHUNK = 500


def chunks(items: Iterable[str]) -> Iterator[list[str]]:
    """``items`` in lists of at most :data:`CHUNK` (for IN (...) queries)."""
    items = list(items)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def stored_state(uids: Iterable[str], *, lock: bool = False) -> dict[str, Stored]:
    """What the mirror holds for these ids (locking the rows on PostgreSQL)."""
    out: dict[str, Stored] = {}
    postgres = db.engine.dialect.name == "postgresql"
    for chunk in chunks(sorted(set(uids))):
        query = (
            select(
                Entry.uid,
                Entry.updated,
                Entry.origin,
                City.slug,
                Entry.subscription_id,
                Entry.key_id,
            )
            .join(City, Entry.city_id == City.id)
            .where(Entry.uid.in_(chunk))
            .order_by(Entry.uid)
        )
        if lock and postgres:
            query = query.with_for_update(of=Entry)
        for uid, updated, origin, slug, sub_id, key_id in db.session.execute(query):
            out[uid] = Stored(
                uid, updated, origin == Origin.LOCAL, slug, sub_id, key_id is not None
            )
    return out


def deletions(uids: Iterable[str]) -> dict[str, datetime]:
    """The time of the last tombstone in our change log, for ids no longer stored."""
    out: dict[str, datetime] = {}
    for chunk in chunks(uids):
        query = (
            select(EntryChange.entry_uid, func.max(EntryChange.at))
            .where(EntryChange.entry_uid.in_(chunk), EntryChange.deleted.is_(True))
            .group_by(EntryChange.entry_uid)
        )
        out.update({uid: when for uid, when in db.session.execute(query)})
    return out


def known_cities(slugs: Iterable[str]) -> dict[str, City]:
    out: dict[str, City] = {}
    for chunk in chunks(set(slugs)):
        out.update(
            {c.slug: c for c in db.session.scalars(select(City).where(City.slug.in_(chunk)))}
        )
    return out


def plan_batch(
    batch: Batch, sub_id: int, feed_origin: str, *, lock: bool = False
) -> tuple[Plan, dict[str, City]]:
    uids = {v.uid for v in batch.versions} | {r.uid for r in batch.removals}
    stored = stored_state(uids, lock=lock)
    cities = known_cities({v.city for v in batch.versions} | {s.city for s in stored.values()})
    # A network directory assigns cities to sites: that overrides the first site seen.
    claimed = directory_cities()
    known: dict[str, KnownCity] = {}
    for slug, c in cities.items():
        bound = claimed[slug] if slug in claimed and not c.local else c.instance_url
        known[slug] = KnownCity(slug, c.local, bound)
    for slug, site in claimed.items():
        known.setdefault(slug, KnownCity(slug, False, site))
    plan = decide(
        batch.versions,
        batch.removals,
        stored=stored,
        deleted=deletions(uids - stored.keys()),
        cities=known,
        feed_origin=feed_origin,
        subscription_id=sub_id,
    )
    return plan, cities


def _updated(entry: ParsedEntry) -> datetime:
    """The exact ``updated`` of an entry: our record's, else the feed's."""
    exact = entry.record.get("updated") if entry.record else None
    if isinstance(exact, str):
        try:
            return datetime.fromisoformat(exact)
        except ValueError:
            pass
    return entry.updated


def page_is_known(page: Page, sub_id: int) -> bool:
    """True when a page shows that nothing older can be missing.

    Either an entry on it was delivered by this subscription at this version or
    later (so the log was read past it before), or the page brings nothing new.
    """
    versions = {e.id: _updated(e) for e in page.feed.entries}
    stored = stored_state(versions.keys() | {t.id for t in page.feed.tombstones})
    for uid, updated in versions.items():
        have = stored.get(uid)
        if have is not None and have.subscription_id == sub_id and have.updated >= updated:
            db.session.rollback()
            return True
    gone = deletions(versions.keys() - stored.keys())
    fresh = any(
        (uid in stored and stored[uid].updated < updated)
        or (uid not in stored and gone.get(uid, updated) < updated)
        or (uid not in stored and uid not in gone)
        for uid, updated in versions.items()
    )
    fresh = fresh or any(
        t.id in stored and stored[t.id].updated <= t.when for t in page.feed.tombstones
    )
    db.session.rollback()  # end the read: no transaction stays open during fetches
    return not fresh
