"""city time zone: the IANA zone a city's admin pages show times in

Existing cities get the zone of their region or name (Omsk Asia/Omsk,
Khabarovsk Asia/Vladivostok...; Europe/Moscow when neither is known).

Revision ID: 0011_city_time_zone
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from service.timezones import FALLBACK_ZONE, default_time_zone

revision = "0011_city_time_zone"
down_revision = "0008_security"
branch_labels = None
depends_on = None

cities = sa.table(
    "cities",
    sa.column("id", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("region", sa.String()),
    sa.column("time_zone", sa.String()),
)


def upgrade() -> None:
    op.add_column(
        "cities",
        sa.Column("time_zone", sa.String(length=64), nullable=False, server_default=FALLBACK_ZONE),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(cities.c.id, cities.c.name, cities.c.region)).all()
    for city_id, name, region in rows:
        zone = default_time_zone(region, name)
        if zone != FALLBACK_ZONE:
            connection.execute(cities.update().where(cities.c.id == city_id).values(time_zone=zone))


def downgrade() -> None:
    # A plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of the table
    # would have to drop "cities", which the entries' foreign keys forbid.
    op.drop_column("cities", "time_zone")
