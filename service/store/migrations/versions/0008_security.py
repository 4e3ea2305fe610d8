"""security: admin session versions and roles, rate-limit counters, never-reused entry numbers

``admin_users`` gains ``session_version`` (logout and a password change end every
session signed before), ``password_changed`` and ``instance_admin`` (the role that
manages instance-wide settings). ``rate_limits`` holds the login counters that
every process shares. On SQLite ``entries`` is rebuilt with ``AUTOINCREMENT``, so
the number of a deleted entry is never given to a new one (PostgreSQL's
sequences never reuse numbers). The rebuild keeps every row and number, the
entries' topics (``entry_topics``, whose rows a ``DROP TABLE`` with foreign keys
on would cascade away) and the full-text triggers (a table rebuild drops them).
The counter starts after the highest number ever used: of the entries there,
and of the deleted ones that the change log's tombstones name.

Revision ID: 0008_security
Revises: 0007
"""

import json
import re
import zlib

import sqlalchemy as sa
from alembic import op

revision = "0008_security"
down_revision = "0007"
branch_labels = None
depends_on = None


#: The local number at the end of an own entry's URL (a tombstone's ``url``).
_NUMBER = re.compile(r"/(?:practice|event)s/(\d+)$")


def _highest_deleted(bind: sa.engine.Connection) -> int:
    """The highest local number that the tombstones of own entries name."""
    highest = 0
    rows = bind.execute(
        sa.text("SELECT data FROM entry_changes WHERE deleted AND origin = 'local'")
    ).scalars()
    for data in rows:
        raw = bytes(data)
        found = _NUMBER.search(json.loads(zlib.decompress(raw)).get("url") or "")
        if found:
            highest = max(highest, int(found.group(1)))
    return highest


def _rebuild_entries(autoincrement: bool) -> None:
    """Recreate ``entries`` on SQLite with or without AUTOINCREMENT, keeping everything."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    triggers = (
        bind.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'entries'")
        )
        .scalars()
        .all()
    )
    topics = bind.execute(sa.text("SELECT entry_id, topic_code FROM entry_topics")).all()
    with op.batch_alter_table(
        "entries", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass
    bind.execute(sa.text("DELETE FROM entry_topics"))
    if topics:
        bind.execute(
            sa.text("INSERT INTO entry_topics (entry_id, topic_code) VALUES (:e, :t)"),
            [{"e": entry_id, "t": code} for entry_id, code in topics],
        )
    for sql in triggers:
        bind.execute(sa.text(sql))
    if not autoincrement:
        return
    highest = bind.execute(sa.text("SELECT max(id) FROM entries")).scalar() or 0
    used = max(_highest_deleted(bind), highest)
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'entries'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('entries', :n)"), {"n": used}
    )


def upgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(
            sa.Column("session_version", sa.Integer(), nullable=False, server_default="1")
        )
        batch.add_column(sa.Column("password_changed", sa.DateTime(timezone=True)))
        batch.add_column(
            sa.Column("instance_admin", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    op.create_index(op.f("ix_rate_limits_expires"), "rate_limits", ["expires"])
    _rebuild_entries(autoincrement=True)


def downgrade() -> None:
    _rebuild_entries(autoincrement=False)
    op.drop_index(op.f("ix_rate_limits_expires"), table_name="rate_limits")
    op.drop_table("rate_limits")
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("instance_admin")
        batch.drop_column("password_changed")
        batch.drop_column("session_version")
