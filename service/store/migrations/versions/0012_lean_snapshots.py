"""lean snapshots: change-log rows as zstd with a shared dictionary

Every row of ``entry_changes`` is rewritten, in batches, from zlib-compressed
JSON (migration 0005) to the format of service.store.snapshots: compact UTF-8
JSON compressed with zstd and the shipped dictionary of real records (one byte
names it). About a quarter fewer bytes, three times faster to write. Downgrade
writes zlib again. Both directions read whatever a row holds (JSON text, zlib,
zstd), so an interrupted run can simply be run again.

Revision ID: 0012
Revises: 0007
"""

import zlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.store import snapshots

revision = "0012"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 500


def _rewrite(convert: Any) -> None:
    """Rewrite every row's data with ``convert`` (stored value -> new bytes), in seq batches."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.text("SELECT seq, data FROM entry_changes WHERE seq > :last ORDER BY seq LIMIT :n"),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            return
        bind.execute(
            sa.text("UPDATE entry_changes SET data = :data WHERE seq = :seq"),
            [{"seq": seq, "data": convert(data)} for seq, data in rows],
        )
        last = rows[-1][0]


def upgrade() -> None:
    _rewrite(lambda old: snapshots.pack(snapshots.unpack(old)))


def downgrade() -> None:
    _rewrite(lambda old: zlib.compress(snapshots.dumps(snapshots.unpack(old)), 6))
