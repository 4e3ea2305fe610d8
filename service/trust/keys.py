"""This instance's signing keys: made once, kept in ``instance/``, rotated on request.

The keys live in one JSON file (``SIGNING_KEY_PATH``, default
``instance/signing-keys.json``, mode 0600): the raw Ed25519 private keys,
oldest first; the last one signs. It is created atomically (written to a
temporary file, then linked into place, which fails if another process was
first), so several processes starting at once agree on one key. A rotation
(:func:`rotate`, ``flask key rotate``) appends a new key and replaces the
file atomically; every process notices the new file on its next use.

:func:`signed` adds the signature to a record or tombstone this instance
publishes; :func:`statements` are the key statements feeds and the
well-known document carry, each key after the first with its rotation
signed by the key before it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from flask import Flask, current_app

from feeds.signing import (
    KeyStatement,
    canonical_record,
    canonical_tombstone,
    key_id_of,
    public_text,
    rotation_message,
    sign,
    statement_json,
)
from feeds.types import Record, TombstoneData
from feeds.urls import origin_of
from service.errors import ConfigError
from service.vocab import Origin

_lock = threading.Lock()


@dataclass(frozen=True)
class KeySet:
    """The instance's keys, oldest first; the last one signs."""

    keys: tuple[Ed25519PrivateKey, ...]
    stamp: float

    @property
    def current(self) -> Ed25519PrivateKey:
        return self.keys[-1]

    @property
    def current_id(self) -> str:
        return key_id_of(self.current.public_key())


def key_path(app: Flask | None = None) -> Path:
    app = app or current_app
    configured = app.config.get("SIGNING_KEY_PATH")
    return Path(configured) if configured else Path(app.instance_path) / "signing-keys.json"


def _raw(key: Ed25519PrivateKey) -> str:
    data = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(data).decode()


def _write_new(path: Path, keys: list[Ed25519PrivateKey], *, replace: bool) -> None:
    """Write the key file in full, then put it in place (link: only if absent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".signing-keys-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"keys": [_raw(k) for k in keys]}, out)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            # Another process made it first: theirs is the key.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _read(path: Path) -> KeySet:
    try:
        data = json.loads(path.read_text())
        keys = tuple(
            Ed25519PrivateKey.from_private_bytes(base64.b64decode(k)) for k in data["keys"]
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ConfigError(f"Файл ключей подписи {path} не прочитан: {error}") from error
    if not keys:
        raise ConfigError(f"В файле ключей подписи {path} нет ключей")
    return KeySet(keys, path.stat().st_mtime)


def key_set(app: Flask | None = None) -> KeySet:
    """The instance's keys: read once per process, again when the file changed; made if absent."""
    app = app or current_app
    path = key_path(app)
    with _lock:
        cached: KeySet | None = app.extensions.get("asdg_keys")
        try:
            stamp = path.stat().st_mtime
        except FileNotFoundError:
            _write_new(path, [Ed25519PrivateKey.generate()], replace=False)
            stamp = path.stat().st_mtime
        if cached is None or cached.stamp != stamp:
            cached = app.extensions["asdg_keys"] = _read(path)
        return cached


def rotate(app: Flask | None = None) -> KeySet:
    """Make a new signing key; the old ones stay (their rotation statements sign the new)."""
    app = app or current_app
    keys = list(key_set(app).keys)
    keys.append(Ed25519PrivateKey.generate())
    _write_new(key_path(app), keys, replace=True)
    return key_set(app)


def statements(app: Flask | None = None) -> tuple[KeyStatement, ...]:
    """Every key of this instance, oldest first, each after the first with its rotation."""
    app = app or current_app
    site = origin_of(app.config["BASE_URL"])
    authority = app.config["FEED_AUTHORITY"]
    out: list[KeyStatement] = []
    previous: Ed25519PrivateKey | None = None
    for key in key_set(app).keys:
        public = public_text(key.public_key())
        rotates = signature = None
        if previous is not None:
            rotates = key_id_of(previous.public_key())
            signature = sign(previous, rotation_message(rotates, public))
        out.append(
            KeyStatement(key_id_of(key.public_key()), public, site, authority, rotates, signature)
        )
        previous = key
    return tuple(out)


def signed(data: Record | TombstoneData, *, deleted: bool, at: datetime) -> Record | TombstoneData:
    """A change-log item as published: this instance's own records and tombstones signed.

    A mirrored item keeps the signature its origin made (stored with it); an
    unsigned mirrored item (an ordinary feed's entry) stays unsigned.
    Ed25519 signatures are deterministic, so every process renders the same bytes.
    """
    if data.get("signature") or data.get("origin") != Origin.LOCAL:
        return data
    keys = key_set()
    message = canonical_tombstone(str(data["id"]), at) if deleted else canonical_record(data)
    out = {**data, "signature": sign(keys.current, message), "key_id": keys.current_id}
    return cast(Record | TombstoneData, out)


def well_known(app: Flask | None = None) -> dict[str, Any]:
    """``/.well-known/asdg.json``: the site, its id authority, its keys and their rotations."""
    app = app or current_app
    keys = statements(app)
    return {
        "site": origin_of(app.config["BASE_URL"]),
        "authority": app.config["FEED_AUTHORITY"],
        "current": keys[-1].id,
        "keys": [statement_json(k) for k in keys],
        "rotation": (
            "Each key after the first is signed by the key before it: rotation_signature is "
            'Ed25519 over the canonical JSON {"key": <new public key>, "rotates": <old id>}.'
        ),
    }
