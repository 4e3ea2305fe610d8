"""events: stage (held/planned) and month; no placeholder dates (contract v2)

An event is known by its ``year`` and optional ``month``; ``starts_on`` and
``ends_on`` are optional and, when given, set both. Existing events are held;
their month comes from their start date; the placeholder dates that imports
used to write (1 January to 31 December of the year) are removed, the year
stays.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("entries", sa.Column("stage", sa.String(16), nullable=True))
    op.add_column("entries", sa.Column("month", sa.Integer(), nullable=True))
    entries = sa.table(
        "entries",
        sa.column("kind", sa.String),
        sa.column("stage", sa.String),
        sa.column("month", sa.Integer),
        sa.column("year", sa.Integer),
        sa.column("starts_on", sa.Date),
        sa.column("ends_on", sa.Date),
    )
    events = entries.c.kind == "event"
    op.execute(entries.update().where(events).values(stage="held"))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(entries.c.starts_on, entries.c.ends_on)
        .where(events, entries.c.starts_on.is_not(None))
        .distinct()
    ).all()
    for starts, ends in rows:
        placeholder = (
            ends is not None
            and (starts.month, starts.day, ends.month, ends.day) == (1, 1, 12, 31)
            and starts.year == ends.year
        )
        where = (events, entries.c.starts_on == starts, entries.c.ends_on == ends)
        if placeholder:
            values = {"starts_on": None, "ends_on": None, "month": None, "year": starts.year}
        else:
            values = {"month": starts.month, "year": starts.year}
        connection.execute(entries.update().where(*where).values(**values))


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_column("month")
        batch.drop_column("stage")
