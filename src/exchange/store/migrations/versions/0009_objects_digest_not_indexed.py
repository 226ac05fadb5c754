"""Objects: no index on the digest.

Every object version was indexed twice: by id and version (`objects_by_id`, which every look-up
uses) and by its digest (a UNIQUE constraint, 45 bytes and one random B-tree insert per object).
The hub finds an object by its id and then compares digests, inside the store's write lock, so
the digest index only cost space (3% of the store at a million objects) and ingest time.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# SQLite keeps the constraint unnamed: batch mode names what it reflects, so it can be dropped.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    """Drop the UNIQUE constraint on `objects.digest` (SQLite: the table is rebuilt)."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("objects", naming_convention=_NAMING) as batch:
            batch.drop_constraint("uq_objects_digest", type_="unique")
    else:
        op.drop_constraint("objects_digest_key", "objects", type_="unique")


def downgrade() -> None:
    """Put it back (only for development)."""
    with op.batch_alter_table("objects", naming_convention=_NAMING) as batch:
        batch.create_unique_constraint("uq_objects_digest", ["digest"])
