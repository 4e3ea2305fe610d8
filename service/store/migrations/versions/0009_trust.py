"""trust: pinned site keys, signatures of mirrored records, refusals, poll now, backfill cursor

``site_keys``: the public keys pinned per site (origin authenticity).
``entries.signature``/``key_id``: a mirrored record's origin signature,
republished unchanged. ``subscriptions``: the last poll's refused count and
reasons and dropped links; "poll now" requests and progress; the resumable
cursor of a backfill. Links stored from remote input that are not absolute
http(s) URLs (``javascript:`` and the like) are removed. Every subscription
is read in full at its next poll, so mirrored records get their signatures.

Revision ID: 0009_trust
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_trust"
down_revision = "0011_city_time_zone"
branch_labels = None
depends_on = None

SUBSCRIPTION_COLUMNS = (
    ("refused_count", sa.Integer(), "0"),
    ("refusal_reasons", sa.Text(), None),
    ("links_dropped", sa.Integer(), "0"),
    ("poll_requested", sa.DateTime(timezone=True), None),
    ("poll_progress", sa.String(500), None),
    ("backfill_cursor", sa.String(2000), None),
    ("backfill_pages", sa.Integer(), "0"),
)


def _drop_unsafe_links() -> None:
    """Remote links that are not http(s) never reach a page again."""
    safe = "(lower({0}) LIKE 'http://%' OR lower({0}) LIKE 'https://%')"
    for table, column in (
        ("entries", "link"),
        ("entries", "source_url"),
        ("subscriptions", "site_url"),
    ):
        op.execute(
            f"UPDATE {table} SET {column} = NULL "
            f"WHERE {column} IS NOT NULL AND NOT {safe.format(column)}"
        )


def upgrade() -> None:
    op.create_table(
        "site_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=500), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("authority", sa.String(length=255), nullable=True),
        sa.Column("cities", sa.String(length=2000), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscriptions.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_site_keys_site", "site_keys", ["site"])
    op.create_index("ix_site_keys_authority", "site_keys", ["authority"])
    op.create_index("ux_site_keys_site_key", "site_keys", ["site", "key_id"], unique=True)
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("signature", sa.String(200), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:
        for name, type_, default in SUBSCRIPTION_COLUMNS:
            batch.add_column(
                sa.Column(name, type_, nullable=default is None, server_default=default)
            )
    _drop_unsafe_links()
    # Read every feed in full once more: the records mirrored so far carry no signature, and
    # their signed copies replace them (see feeds.decide).
    op.execute("UPDATE subscriptions SET etag = NULL, last_modified = NULL, backfilled = false")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35), never a batch copy: copying "entries" or
    # "subscriptions" would drop the table under its foreign keys (entry topics deleted,
    # entries' subscriptions set NULL) and lose the AUTOINCREMENT counter and search triggers.
    for name, _, _ in reversed(SUBSCRIPTION_COLUMNS):
        op.drop_column("subscriptions", name)
    op.drop_column("entries", "key_id")
    op.drop_column("entries", "signature")
    op.drop_index("ux_site_keys_site_key", table_name="site_keys")
    op.drop_index("ix_site_keys_authority", table_name="site_keys")
    op.drop_index("ix_site_keys_site", table_name="site_keys")
    op.drop_table("site_keys")
