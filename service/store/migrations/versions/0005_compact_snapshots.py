"""compact change-log snapshots: zlib-compressed UTF-8 JSON

Snapshots were JSON text with every Cyrillic letter as a ``\\uXXXX`` escape
(about five times the record's size with the rendered HTML beside it). The
column becomes binary and every row is rewritten, in batches, as compact UTF-8
JSON compressed with zlib (service.store.models.Snapshot); on PostgreSQL the
column's storage is EXTERNAL (out of line, not compressed a second time).
Downgrade turns the rows back into JSON text.

Revision ID: 0005
Revises: 0004
"""

import json
import zlib
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.store.snapshots import rewrite_rows

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _load(old: Any) -> Any:
    """A stored snapshot as Python data: JSON text (as text or bytes) or compressed JSON."""
    if isinstance(old, bytes | memoryview):
        raw = bytes(old)
        return json.loads(raw if raw[:1] in (b"{", b"[") else zlib.decompress(raw))
    return json.loads(old)


def _pack(old: Any) -> bytes:
    """As service.store.models.pack_snapshot: compact UTF-8 JSON, zlib-compressed."""
    text = json.dumps(_load(old), ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode(), 6)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE entry_changes ALTER COLUMN data TYPE bytea "
            "USING convert_to(data::text, 'UTF8')"
        )
        op.execute("ALTER TABLE entry_changes ALTER COLUMN data SET STORAGE EXTERNAL")
    else:
        with op.batch_alter_table("entry_changes") as batch:
            batch.alter_column("data", type_=sa.LargeBinary(), existing_nullable=False)
    rewrite_rows(bind, _pack)


def downgrade() -> None:
    bind = op.get_bind()
    postgresql = bind.dialect.name == "postgresql"
    # bytea takes bytes until its type changes; SQLite's JSON column takes text.
    rewrite_rows(
        bind, lambda old: json.dumps(_load(old)).encode() if postgresql else json.dumps(_load(old))
    )
    if postgresql:
        op.execute("ALTER TABLE entry_changes ALTER COLUMN data SET STORAGE EXTENDED")
        op.execute(
            "ALTER TABLE entry_changes ALTER COLUMN data TYPE json "
            "USING convert_from(data, 'UTF8')::json"
        )
    else:
        with op.batch_alter_table("entry_changes") as batch:
            batch.alter_column("data", type_=sa.JSON(), existing_nullable=False)
