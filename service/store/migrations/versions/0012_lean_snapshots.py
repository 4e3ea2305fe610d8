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

from alembic import op

from service.store import snapshots

revision = "0012"
down_revision = "0009_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    snapshots.rewrite_rows(op.get_bind(), lambda old: snapshots.pack(snapshots.unpack(old)))


def downgrade() -> None:
    snapshots.rewrite_rows(
        op.get_bind(), lambda old: zlib.compress(snapshots.dumps(snapshots.unpack(old)), 6)
    )
