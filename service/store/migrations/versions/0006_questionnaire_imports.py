"""questionnaire imports: an uploaded questionnaire kept beside its drafts for review

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "city_id",
            sa.Integer(),
            sa.ForeignKey(
                "cities.id",
                ondelete="CASCADE",
                name="fk_questionnaire_imports_city_id_cities",
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(300), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("entry_ids", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_questionnaire_imports"),
    )
    op.create_index(
        "ix_questionnaire_imports_city_id", "questionnaire_imports", ["city_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_questionnaire_imports_city_id", table_name="questionnaire_imports")
    op.drop_table("questionnaire_imports")
