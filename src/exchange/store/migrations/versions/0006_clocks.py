"""Clocks: the store's strictly increasing counters get a table of their own (64-bit integers).

The date_added clock lived in `meta` beside the secrets, a blob column; PostgreSQL types its
columns strictly, so it moves here.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `clocks` and move the date_added clock into it."""
    op.create_table(
        "clocks",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "INSERT INTO clocks (name, value) "
            "SELECT 'date_added', CAST(value AS INTEGER) FROM meta WHERE key = 'clock'"
        )
        op.execute("DELETE FROM meta WHERE key = 'clock'")


def downgrade() -> None:
    """Drop `clocks` (only for development)."""
    op.drop_table("clocks")
