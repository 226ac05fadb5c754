"""Audience members by audience: the lookup from a placement to the collections that see it.

`audience_members` is keyed (collection, audience), which serves "the audiences a collection
sees" (every page). Placing objects asks the other way round, "which collections see this
placement", once per placement of an object that is sent again; without this index that is a
scan of the whole table.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create `audience_members_by_audience`."""
    op.create_index(
        "audience_members_by_audience", "audience_members", ["audience_pk", "collection_pk"]
    )


def downgrade() -> None:
    """Drop it (only for development)."""
    op.drop_index("audience_members_by_audience", "audience_members")
