"""How the change log stores a snapshot: compact UTF-8 JSON, zstd-compressed with a dictionary.

A snapshot is a few KB of JSON: the same keys in every row, and Russian text
whose common words and word parts recur from row to row. Compressing each row
alone (zlib, as migration 0005 stored them) finds none of that; a shared
dictionary does: Zstandard with a raw-content dictionary of real records (the
records of the questionnaires in ``tests/data``, built once by
``python -m bench.dictionary``) stores a row in about three quarters of zlib's
bytes, and compresses three times as fast (this is on the mirror's critical
path).

Stored value: one byte naming the dictionary (``\\x01`` for
``snapshots-1.zdict``), then the zstd frame. Dictionaries are never changed
once shipped, so every stored row stays readable; a better one gets the next
number. Rows of migration 0005 (zlib, first byte ``0x78``) and older JSON text
still read, so a half-converted database never fails.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import text

#: The dictionary new rows are written with.
CURRENT = 1
#: zstd level 3: as small as level 6 within 2 % here, at a third of the time.
LEVEL = 3
_HERE = Path(__file__).parent
_local = threading.local()  # compressor and decompressor objects are not thread-safe


def dictionary_path(number: int) -> Path:
    return _HERE / f"snapshots-{number}.zdict"


@cache
def _dictionary(number: int) -> zstandard.ZstdCompressionDict:
    data = dictionary_path(number).read_bytes()
    compression = zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    compression.precompute_compress(level=LEVEL)
    return compression


def _compressor() -> zstandard.ZstdCompressor:
    compressor = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(CURRENT))
        _local.compressor = compressor
    return compressor


def _decompressor(number: int) -> zstandard.ZstdDecompressor:
    cached: dict[int, zstandard.ZstdDecompressor] = _local.__dict__.setdefault("readers", {})
    reader = cached.get(number)
    if reader is None:
        reader = cached[number] = zstandard.ZstdDecompressor(dict_data=_dictionary(number))
    return reader


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON (never ``\\u`` escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def compress(data: bytes) -> bytes:
    """Bytes compressed with the current dictionary, behind the byte that names it."""
    return bytes((CURRENT,)) + _compressor().compress(data)


def decompress(value: bytes) -> bytes:
    """The bytes :func:`compress` was given (any shipped dictionary)."""
    return _decompressor(value[0]).decompress(value[1:])


def pack(value: dict[str, Any]) -> bytes:
    """A snapshot as the change log stores it."""
    return compress(dumps(value))


def unpack(value: bytes | memoryview | str) -> dict[str, Any]:
    """A stored snapshot as data, whichever way it was stored."""
    if isinstance(value, str):  # JSON text (before migration 0005)
        return json.loads(value)  # type: ignore[no-any-return]
    raw = bytes(value)
    first = raw[:1]
    if first in (b"{", b"["):
        return json.loads(raw)  # type: ignore[no-any-return]
    if first == b"\x78":  # zlib (migration 0005)
        return json.loads(zlib.decompress(raw))  # type: ignore[no-any-return]
    return json.loads(decompress(raw))  # type: ignore[no-any-return]


#: Rows per statement when a migration rewrites the change log.
REWRITE_BATCH = 500


def rewrite_rows(bind: Any, convert: Callable[[Any], Any]) -> None:
    """Rewrite every change-log row's data with ``convert`` (stored value -> new value).

    For migrations (0005, 0012): in ``seq`` batches, with plain SQL, so it
    works whatever the models say the column is.
    """
    last = 0
    while True:
        rows = bind.execute(
            text("SELECT seq, data FROM entry_changes WHERE seq > :last ORDER BY seq LIMIT :n"),
            {"last": last, "n": REWRITE_BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            text("UPDATE entry_changes SET data = :data WHERE seq = :seq"),
            [{"seq": seq, "data": convert(data)} for seq, data in rows],
        )
        last = rows[-1][0]
