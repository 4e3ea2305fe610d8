"""The keys this instance pins for other sites, and the key ring a poll verifies with.

A site is an origin (``scheme://host[:port]``). Its keys are learned

- from the site itself when this instance subscribes to one of its feeds
  directly: the feed's key statements, on first use (``via="subscription"``);
- from a network directory the operator imports (``via="directory"``, OPML
  with key attributes, :func:`import_directory`): it is authoritative and
  replaces what trust on first use pinned for the same site or authority;
- from the site's ``/.well-known/asdg.json`` when a relayed record names a
  site whose key is not known yet (``via="well-known"``, fetched through the
  network guard);
- from a rotation: a new key statement signed by a key already pinned for
  the site (``via="rotation"``; the old key is kept, ``retired``).

An id authority (the domain of ``tag:`` ids) belongs to one site: a key
statement naming an authority another site's key holds is not pinned
(unless it comes from the directory). :class:`KeyRing` loads pinned keys by
id once per poll and keeps the public key objects.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from feeds.discover import read_directory
from feeds.errors import FeedsError
from feeds.fetch import Fetched, Fetcher
from feeds.signing import (
    KeyStatement,
    SignatureError,
    load_public,
    read_statement,
    rotation_message,
    verify,
)
from feeds.urls import origin_of
from service.errors import ValidationError
from service.store.models import City, Entry, SiteKey, Subscription, db, utcnow

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/asdg.json"
#: Well-known documents one poll may fetch (sites named by relayed records).
MAX_LOOKUPS = 5


@dataclass(frozen=True)
class Pinned:
    """A pinned key, ready to verify with."""

    key_id: str
    site: str
    authority: str | None
    key: Ed25519PublicKey


def _pinned(row: SiteKey) -> Pinned | None:
    try:
        return Pinned(row.key_id, row.site, row.authority, load_public(row.public_key))
    except SignatureError:
        return None


def _authority_holder(authority: str | None) -> str | None:
    if not authority:
        return None
    return db.session.scalar(
        select(SiteKey.site).where(SiteKey.authority == authority.lower()).limit(1)
    )


def _readable(public_key: str) -> bool:
    try:
        load_public(public_key)
    except SignatureError:
        return False
    return True


def _pinned_elsewhere(key_id: str, site: str) -> bool:
    """True when the key is pinned for another site already (a copied public key)."""
    query = select(SiteKey.id).where(SiteKey.key_id == key_id, SiteKey.site != site).limit(1)
    return db.session.scalar(query) is not None


def _rotation_ok(old: SiteKey, statement: KeyStatement) -> bool:
    """True when ``statement`` (a new key) is signed by the pinned key ``old`` it rotates."""
    old_key = _pinned(old)
    message = rotation_message(old.key_id, statement.public_key)
    return old_key is not None and verify(old_key.key, message, statement.rotation_signature)


def learn(
    site: str, statements: Iterable[KeyStatement], *, via: str, subscription_id: int | None
) -> list[str]:
    """Pin what ``site`` says of its own keys, in the current transaction; the ids pinned.

    Only statements naming ``site`` itself count. The first key of a site is
    pinned on trust (``via``); a later new key only with a rotation signed
    by a key pinned for the site. Nothing is committed here.
    """
    pinned: list[str] = []
    rows = {r.key_id: r for r in db.session.scalars(select(SiteKey).where(SiteKey.site == site))}
    for statement in statements:
        if statement.site not in (None, site) or statement.id in rows:
            continue
        if not _readable(statement.public_key) or _pinned_elsewhere(statement.id, site):
            continue
        authority = (statement.authority or "").lower() or None
        holder = _authority_holder(authority)
        if holder is not None and holder != site:
            log.warning("key %s of %s names the authority of %s", statement.id, site, holder)
            continue
        how = via
        if rows:
            old = rows.get(statement.rotates or "")
            if old is None or not _rotation_ok(old, statement):
                continue
            old.retired, how = True, "rotation"
            authority = authority or old.authority
        row = SiteKey(
            site=site,
            key_id=statement.id,
            public_key=statement.public_key,
            authority=authority,
            via=how,
            subscription_id=subscription_id,
            retired=False,
        )
        db.session.add(row)
        rows[statement.id] = row
        pinned.append(statement.id)
    return pinned


def commit_learned(learned: object) -> None:
    """Commit keys just pinned (when any); a concurrent poll pinning the same key first is fine."""
    if not learned:
        db.session.rollback()
        return
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


@dataclass
class KeyRing:
    """Pinned keys by id, loaded once (per poll) from the database."""

    keys: dict[str, Pinned | None] = field(default_factory=dict)
    lookups: set[str] = field(default_factory=set)

    def load(self, key_ids: Iterable[str]) -> None:
        wanted = {k for k in key_ids if k and k not in self.keys}
        if not wanted:
            return
        for row in db.session.scalars(select(SiteKey).where(SiteKey.key_id.in_(sorted(wanted)))):
            self.keys[row.key_id] = _pinned(row)
        for key_id in wanted:
            self.keys.setdefault(key_id, None)

    def get(self, key_id: str | None) -> Pinned | None:
        if not key_id:
            return None
        if key_id not in self.keys:
            self.load([key_id])
        return self.keys.get(key_id)

    def forget_unknown(self) -> None:
        """Drop the negative answers (after new keys were pinned)."""
        self.keys = {k: v for k, v in self.keys.items() if v is not None}

    def look_up(self, fetcher: Fetcher, wanted: dict[str, str], subscription_id: int) -> None:
        """Fetch the well-known documents of the sites that hold unknown keys, and pin them.

        ``wanted`` maps an unknown key id to the site the record names
        (its source feed's origin). At most :data:`MAX_LOOKUPS` sites per
        poll; a site that fails is left: its records wait for a later poll.
        """
        sites = [s for s in dict.fromkeys(wanted.values()) if s and s not in self.lookups]
        learned = False
        for site in sites[:MAX_LOOKUPS]:
            self.lookups.add(site)
            statements = fetch_well_known(fetcher, site)
            if statements:
                learned |= bool(
                    learn(site, statements, via="well-known", subscription_id=subscription_id)
                )
        commit_learned(learned)
        self.forget_unknown()


def fetch_well_known(fetcher: Fetcher, site: str) -> list[KeyStatement]:
    """The key statements of ``site``'s ``/.well-known/asdg.json`` (empty when unreadable)."""
    try:
        answer = fetcher.fetch(site + WELL_KNOWN)
    except FeedsError as error:
        log.info("well-known of %s not read: %s", site, error)
        return []
    if not isinstance(answer, Fetched) or origin_of(answer.url) != site:
        return []
    try:
        doc = json.loads(answer.body)
    except ValueError:
        return []
    raw = doc.get("keys") if isinstance(doc, dict) else None
    found = (
        (read_statement(k) for k in raw[:20] if isinstance(k, dict))
        if isinstance(raw, list)
        else ()
    )
    return [s for s in found if s is not None and s.site in (None, site)]


def release(subscription_id: int) -> None:
    """Forget the keys only this subscription brought (not the directory's)."""
    db.session.execute(
        delete(SiteKey).where(
            SiteKey.subscription_id == subscription_id, SiteKey.via != "directory"
        )
    )


def site_keys() -> list[SiteKey]:
    return list(db.session.scalars(select(SiteKey).order_by(SiteKey.site, SiteKey.id)))


def import_directory(data: bytes) -> list[SiteKey]:
    """Pin every member of a network directory (OPML with keys); it overrides first use.

    For each member: the keys pinned for its site or its authority by other
    means are replaced by the directory's, and the cities it lists belong to
    its site (``City.instance_url``). Commits; raises :class:`ValidationError`
    for a file that is not a directory.
    """
    try:
        members = read_directory(data)
    except FeedsError as error:
        raise ValidationError(str(error), field="file") from error
    rows: list[SiteKey] = []
    for member in members:
        authority = (member.key.authority or "").lower() or None
        stale = or_(SiteKey.site == member.site, SiteKey.key_id == member.key.id)
        if authority:
            stale = or_(stale, SiteKey.authority == authority)
        db.session.execute(delete(SiteKey).where(stale))
        row = SiteKey(
            site=member.site,
            key_id=member.key.id,
            public_key=member.key.public_key,
            authority=authority,
            cities=" ".join(member.cities) or None,
            via="directory",
            retired=False,
        )
        db.session.add(row)
        rows.append(row)
        if member.cities:
            db.session.execute(
                update(City)
                .where(City.slug.in_(member.cities), City.local.is_(False))
                .values(instance_url=member.site)
            )
    retry_refused()
    db.session.commit()
    return rows


def directory_cities() -> dict[str, str]:
    """The cities a network directory assigns, slug -> site."""
    out: dict[str, str] = {}
    query = select(SiteKey.site, SiteKey.cities).where(
        SiteKey.via == "directory", SiteKey.cities.is_not(None)
    )
    for site, cities in db.session.execute(query):
        for slug in (cities or "").split():
            out.setdefault(slug, site)
    return out


def release_cities(site: str | None, subscription_id: int) -> None:
    """Unbind the remote cities of ``site`` that no other subscription delivers entries of."""
    if not site:
        return
    claimed = directory_cities()
    for city in db.session.scalars(
        select(City).where(City.instance_url == site, City.local.is_(False))
    ):
        if city.slug in claimed:
            continue
        others = db.session.scalar(
            select(Entry.id)
            .where(
                Entry.city_id == city.id,
                Entry.subscription_id.is_not(None),
                Entry.subscription_id != subscription_id,
            )
            .limit(1)
        )
        if others is None:
            city.instance_url = None


def retry_refused() -> None:
    """Have every subscription that refused records read its feed in full again, soon.

    After what decides on refusals changed (a directory imported, a squatter
    removed), records refused before may now be accepted; their archives and
    unchanged heads (304) would never bring them again otherwise.
    """
    db.session.execute(
        update(Subscription)
        .where(Subscription.refused_count > 0)
        .values(etag=None, last_modified=None, backfilled=False, next_poll=utcnow())
    )
