"""What one feed batch changes in the mirror: a pure function over data.

Like ``reader``'s ``_update``, :func:`decide` does not touch the network or the
database: the caller reads the stored state, hands it in with what the feed
said, and applies the returned :class:`Plan`. That keeps the rules in one
place and easy to test exhaustively.

The rules
---------
* Newest wins. Every version of an entry in the batch (from the head and any
  archive pages) is reduced to the newest one by ``updated``; a tombstone wins
  over a version with the same time (an unpublish is logged at the time of the
  edit it ends). A version is stored when the entry is new, or when it is
  newer than the stored one; an older or equal version is skipped, so the same
  entry reached through two feeds is stored once and never goes back in time.
* A deletion is remembered. A version that is not newer than a tombstone we
  already applied (``deleted``) does not bring the entry back.
* Entries of this instance are never touched: a version or a tombstone whose id
  is one of our own entries is refused (:attr:`Refusal.LOCAL_ENTRY`), and so is a
  version that names a city hosted here (:attr:`Refusal.LOCAL_CITY`).
* A city belongs to one site. The first time a remote city is seen it is bound
  to the site (origin) that published it; after that, versions of that city's
  entries are accepted only when they come from that site
  (:attr:`Refusal.FOREIGN_CITY`). An entry never moves to another city
  (:attr:`Refusal.CITY_MOVED`). The origin of a version is the site of the feed
  it was read from, or, for an entry a relay copied (``atom:source``), the site
  named by that source.
* Signed and unsigned. A version or tombstone signed by a site's pinned key
  (the caller verified the signature, and that the id's authority is the
  key's) names that site as its ``origin``, whichever feed relayed it. An
  unsigned version (an ordinary feed's entry) is a generic entry of the
  subscription that delivered it: it never replaces a signed entry
  (:attr:`Refusal.UNSIGNED`) and never touches another subscription's
  generic entry (skipped).
* A tombstone deletes a mirrored entry when it is signed by the entry's site
  (checked by the caller: the id's authority is the key's), or, unsigned,
  when it comes from the subscription that delivered an unsigned (generic)
  entry. Other tombstones are ignored without an error: a relay may announce
  a deletion before or after the origin does, and the origin's own will do.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Refusal(enum.StrEnum):
    LOCAL_ENTRY = "local-entry"
    LOCAL_CITY = "local-city"
    FOREIGN_CITY = "foreign-city"
    CITY_MOVED = "city-moved"
    UNSIGNED = "unsigned"


@dataclass(frozen=True)
class Version:
    """One incoming version of an entry."""

    uid: str
    updated: datetime
    #: The slug of the city the version names.
    city: str
    #: The site it claims to come from (``scheme://host[:port]``).
    origin: str
    #: Whatever the store needs to write the entry; opaque here.
    payload: Any = field(default=None, compare=False, repr=False)
    #: Signed by the pinned key of ``origin`` (verified by the caller).
    signed: bool = False


@dataclass(frozen=True)
class Removal:
    """An incoming tombstone."""

    uid: str
    when: datetime
    #: The site whose pinned key signed it (verified by the caller); None: unsigned.
    origin: str | None = None
    #: Whatever the store needs (the signature, to republish); opaque here.
    payload: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Stored:
    """What the mirror holds for one id."""

    uid: str
    updated: datetime
    local: bool
    city: str
    subscription_id: int | None
    #: Stored with its origin's signature (an ASDG record), not a generic entry.
    signed: bool = False


@dataclass(frozen=True)
class KnownCity:
    slug: str
    local: bool
    instance_url: str | None


@dataclass(frozen=True)
class Refused:
    uid: str
    reason: Refusal
    city: str | None = None


@dataclass(frozen=True)
class Plan:
    insert: tuple[Version, ...] = ()
    update: tuple[Version, ...] = ()
    delete: tuple[Removal, ...] = ()
    refused: tuple[Refused, ...] = ()
    #: Cities seen for the first time (or never bound): slug -> origin.
    bind: Mapping[str, str] = field(default_factory=dict)
    skipped: int = 0

    @property
    def changes(self) -> int:
        return len(self.insert) + len(self.update) + len(self.delete)


def newest(
    versions: Iterable[Version], removals: Iterable[Removal]
) -> dict[str, Version | Removal]:
    """The newest version or tombstone of every id; a tombstone wins a tie."""
    latest: dict[str, Version | Removal] = {}
    for version in versions:
        seen = latest.get(version.uid)
        if seen is None or version.updated > _time(seen):
            latest[version.uid] = version
    for removal in removals:
        seen = latest.get(removal.uid)
        if seen is None or removal.when >= _time(seen):
            latest[removal.uid] = removal
    return latest


def _time(item: Version | Removal) -> datetime:
    return item.updated if isinstance(item, Version) else item.when


def decide(
    versions: Iterable[Version],
    removals: Iterable[Removal],
    *,
    stored: Mapping[str, Stored],
    deleted: Mapping[str, datetime],
    cities: Mapping[str, KnownCity],
    feed_origin: str,
    subscription_id: int | None,
) -> Plan:
    """Split a batch into inserts, updates, deletes, refusals and skips.

    ``stored`` holds the entries the mirror has for the batch's ids,
    ``deleted`` the time of the last tombstone applied for ids no longer
    stored, ``cities`` the known cities by slug. Results come oldest first, so
    the mirror's own change log keeps the order of the source.
    """
    insert: list[Version] = []
    update: list[Version] = []
    delete: list[Removal] = []
    refused: list[Refused] = []
    bind: dict[str, str] = {}
    skipped = 0

    def city_refusal(version: Version) -> Refusal | None:
        known = cities.get(version.city)
        if known is not None and known.local:
            return Refusal.LOCAL_CITY
        bound = bind.get(version.city) or (known.instance_url if known else None)
        if bound is None:
            bind[version.city] = version.origin
            return None
        return None if bound == version.origin else Refusal.FOREIGN_CITY

    latest = sorted(newest(versions, removals).values(), key=lambda i: (_time(i), i.uid))
    for item in latest:
        have = stored.get(item.uid)
        if have is not None and have.local:
            refused.append(Refused(item.uid, Refusal.LOCAL_ENTRY, have.city))
            continue
        if isinstance(item, Removal):
            if have is None or item.when < have.updated:
                skipped += 1
                continue
            own_generic = not have.signed and have.subscription_id == subscription_id
            if item.origin is not None or own_generic:
                delete.append(item)
            else:
                skipped += 1
            continue
        if have is not None and have.signed and not item.signed:
            refused.append(Refused(item.uid, Refusal.UNSIGNED, have.city))
            continue
        if have is not None and not item.signed and have.subscription_id != subscription_id:
            skipped += 1  # another feed's generic entry
            continue
        if have is not None and have.city != item.city:
            refused.append(Refused(item.uid, Refusal.CITY_MOVED, item.city))
            continue
        reason = city_refusal(item)
        if reason is not None:
            refused.append(Refused(item.uid, reason, item.city))
        elif have is not None:
            # A signed copy of a version stored unsigned (mirrored before signatures) is taken.
            adopt = item.signed and not have.signed and item.updated == have.updated
            if item.updated > have.updated or adopt:
                update.append(item)
            else:
                skipped += 1
        elif item.uid in deleted and deleted[item.uid] >= item.updated:
            skipped += 1
        else:
            insert.append(item)
    return Plan(
        insert=tuple(insert),
        update=tuple(update),
        delete=tuple(delete),
        refused=tuple(refused),
        bind=bind,
        skipped=skipped,
    )
