"""Origin signatures: the canonical form of a record and a tombstone, Ed25519, key statements.

Pure functions (no Flask, no database); the service keeps the keys
(:mod:`service.trust`). The canonical form, documented in the README
("Trust"), is JSON with sorted keys, UTF-8, no whitespace, of:

- a record: every field except the envelope a relay changes (:data:`UNSIGNED`:
  ``url``, ``origin``, ``source``, ``status``, ``content_html``, ``generic``
  and the signature itself), with empty values (None, "", [], {}) left out,
  lists of strings sorted, ``published``/``updated`` as UTC
  ``YYYY-MM-DDTHH:MM:SS.ffffffZ``;
- a tombstone: ``{"deleted": true, "id": ..., "when": ...}`` (the same time form);
- a key rotation: ``{"key": <new public key>, "rotates": <old key id>}``, signed by the old key.

A key id is the first 16 hex digits of the SHA-256 of the raw public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

#: Fields of a record outside the signature: a relay or the mirror sets them.
UNSIGNED = frozenset(
    {"url", "origin", "source", "status", "content_html", "generic", "signature", "key_id"}
)
TIMESTAMPS = frozenset({"published", "updated"})
MAX_SIGNATURE = 200
MAX_KEY_ID = 64


class SignatureError(ValueError):
    """A key or signature that cannot be read."""


@dataclass(frozen=True)
class KeyStatement:
    """A site's public key as its feeds and ``/.well-known/asdg.json`` state it."""

    id: str
    public_key: str
    site: str | None = None
    #: The domain of the site's ``tag:`` ids.
    authority: str | None = None
    #: A rotation: the id of the previous key, and its signature over :func:`rotation_message`.
    rotates: str | None = None
    rotation_signature: str | None = None


def utc_text(value: str | datetime) -> str:
    """A timestamp in the one form signatures use (UTC, microseconds, ``Z``).

    Text that is no timestamp stays as it is (the record is refused later).
    """
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except (ValueError, OverflowError, TypeError):
        return str(value)


def _normal(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = {k: _normal(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list | tuple):
        items = [_normal(v) for v in value]
        return sorted(items) if all(isinstance(v, str) for v in items) else items
    return value


def _dumps(value: Any) -> bytes:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate is refused, never a crash


def canonical_record(data: Mapping[str, Any]) -> bytes:
    """The bytes a record's signature covers."""
    fields = {k: v for k, v in data.items() if k not in UNSIGNED}
    for name in TIMESTAMPS & fields.keys():
        if fields[name] is not None:
            fields[name] = utc_text(fields[name])
    return _dumps(_normal(fields))


def canonical_tombstone(entry_id: str, when: str | datetime) -> bytes:
    """The bytes a tombstone's signature covers."""
    return _dumps({"deleted": True, "id": entry_id, "when": utc_text(when)})


def rotation_message(old_key_id: str, new_public_key: str) -> bytes:
    return _dumps({"key": new_public_key, "rotates": old_key_id})


def public_text(key: Ed25519PublicKey) -> str:
    """The raw public key, base64."""
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def key_id_of(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def load_public(text: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as error:
        raise SignatureError("не ключ Ed25519") from error


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return base64.b64encode(key.sign(message)).decode()


def verify(key: Ed25519PublicKey, message: bytes, signature: str | None) -> bool:
    """True when ``signature`` (base64) is ``key``'s over ``message``."""
    if not signature or len(signature) > MAX_SIGNATURE:
        return False
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def authority_of(entry_id: str) -> str | None:
    """The authority (domain) of a ``tag:`` id (RFC 4151), lowercase; None for other ids."""
    if not entry_id.startswith("tag:"):
        return None
    authority = entry_id[4:].split(",", 1)[0].lower()
    return authority if authority and "," in entry_id else None


def read_statement(raw: Mapping[str, Any]) -> KeyStatement | None:
    """A key statement from a JSON object (feeds, well-known, directory); None when unusable."""
    texts = {k: raw.get(k) for k in ("id", "public_key", "site", "authority", "rotates")}
    texts["rotation_signature"] = raw.get("rotation_signature")
    if not all(v is None or (isinstance(v, str) and len(v) <= 2000) for v in texts.values()):
        return None
    if not texts["id"] or not texts["public_key"] or len(str(texts["id"])) > MAX_KEY_ID:
        return None
    try:  # the id is derived from the key: one id never names two keys
        if key_id_of(load_public(str(texts["public_key"]))) != texts["id"]:
            return None
    except SignatureError:
        return None
    return KeyStatement(**texts)  # type: ignore[arg-type]


def statement_json(statement: KeyStatement) -> dict[str, str]:
    return {k: v for k, v in vars(statement).items() if v is not None}
