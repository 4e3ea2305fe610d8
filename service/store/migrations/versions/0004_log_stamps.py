"""change-log stamps: when the log grew, for feeds' Last-Modified

One row per append to ``entry_changes``: the newest ``seq`` it wrote and the
time after writing (never earlier than the previous stamp). Existing rows get
one stamp, at the time of this migration.

Revision ID: 0004
Revises: 0003
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamps = op.create_table(
        "log_stamps",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("logged", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_log_stamps")),
    )
    newest = op.get_bind().scalar(sa.text("SELECT max(seq) FROM entry_changes"))
    if newest is not None:
        now = datetime.now(UTC)
        if op.get_bind().dialect.name == "sqlite":
            now = now.replace(tzinfo=None)  # naive UTC, as service.store.models.UTCDateTime
        op.bulk_insert(stamps, [{"seq": newest, "logged": now}])


def downgrade() -> None:
    op.drop_table("log_stamps")
