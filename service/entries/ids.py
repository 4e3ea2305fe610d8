"""Global ids (RFC 4151 ``tag:`` URIs) and the public URL of an entry."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import current_app

from service.store.models import Entry, utcnow
from service.vocab import Origin


def mint_uid(kind: str, when: datetime | None = None) -> str:
    """A new global id: ``tag:AUTHORITY,YYYY-MM-DD:KIND/RANDOM`` (RFC 4151)."""
    authority = current_app.config["FEED_AUTHORITY"]
    day = (when or utcnow()).date().isoformat()
    return f"tag:{authority},{day}:{kind}/{secrets.token_hex(8)}"


def entry_url(entry: Entry) -> str:
    """The entry's page: its own page here, or the original for mirrored ones."""
    if entry.origin == Origin.MIRROR and entry.link:
        return entry.link
    return f"{current_app.config['BASE_URL']}/{entry.kind}s/{entry.id}"
