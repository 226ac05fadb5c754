"""Feedback: the sightings routed to each partner's feedback collection, for their counts.

The sightings themselves are objects placed in the partner's feedback collection (a collection
of kind "feedback"; `collections.kind` is text, so it needs no change). This table keeps what
the per-object counts need, one row per sighting and partner, the newest version of each.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `feedback_sightings`."""
    op.create_table(
        "feedback_sightings",
        sa.Column("partner_account", sa.Text(), primary_key=True),
        sa.Column("sighting_id", sa.Text(), primary_key=True),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("false_positive", sa.Boolean(), nullable=False),
        sa.Column("sighted_count", sa.BigInteger(), nullable=False),
        sa.Column("sighted_at", sa.BigInteger(), nullable=False),
        sa.Column("reported_at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "feedback_sightings_by_object", "feedback_sightings", ["partner_account", "object_id"]
    )


def downgrade() -> None:
    """Drop `feedback_sightings` (only for development)."""
    op.drop_table("feedback_sightings")
