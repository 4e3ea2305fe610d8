"""push (WebSub): the hub's subscribers and this instance's subscriptions at other hubs

``hub_subscriptions``: who subscribed to this instance's feeds at its hub, the
change-log version each has received, requests waiting for verification of
intent, work claims. ``push_subscriptions``: for a subscription of ours, the
hub it was pushed from, the callback token, the secret and the lease.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "hub_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=2000), nullable=False),
        sa.Column("callback", sa.String(length=2000), nullable=False),
        sa.Column("feed", sa.String(length=500), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=False),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_seq", sa.Integer(), nullable=False),
        sa.Column("pending_mode", sa.String(length=16), nullable=True),
        sa.Column("pending_secret", sa.String(length=200), nullable=True),
        sa.Column("pending_lease", sa.Integer(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_delivery", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deliveries", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_subscriptions")),
        sa.UniqueConstraint("key", name=op.f("uq_hub_subscriptions_key")),
    )
    with op.batch_alter_table("hub_subscriptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_subscriptions_feed"), ["feed"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hub_subscriptions_next_attempt"), ["next_attempt"], unique=False
        )

    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("hub", sa.String(length=2000), nullable=False),
        sa.Column("topic", sa.String(length=2000), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("lease_seconds", sa.Integer(), nullable=True),
        sa.Column("expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_request", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_push", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pushes", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["subscriptions.id"],
            name=op.f("fk_push_subscriptions_subscription_id_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscriptions")),
        sa.UniqueConstraint("subscription_id", name=op.f("uq_push_subscriptions_subscription_id")),
        sa.UniqueConstraint("token", name=op.f("uq_push_subscriptions_token")),
    )
    with op.batch_alter_table("push_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscriptions_next_request"), ["next_request"], unique=False
        )


def downgrade():
    op.drop_table("push_subscriptions")
    op.drop_table("hub_subscriptions")
