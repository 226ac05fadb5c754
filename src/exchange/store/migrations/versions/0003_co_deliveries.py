"""Record deliveries of an object version to a collection that already held it.

When two partners send the same object version to the same country, the country sees it once
(one placement, the first). The second delivery is recorded here, so that narrowing, ending or
purging the first partner's sharing leaves the object visible where the second one still
delivers it.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the table of co-deliveries."""
    op.create_table(
        "co_deliveries",
        sa.Column("object_pk", _Id, primary_key=True),
        sa.Column("collection_pk", _Id, primary_key=True),
        sa.Column("submission_pk", _Id, primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("co_deliveries_by_submission", "co_deliveries", ["submission_pk"])


def downgrade() -> None:
    """Drop the table of co-deliveries."""
    op.drop_table("co_deliveries")
