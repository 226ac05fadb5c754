"""Initial schema: accounts, collections, grants, audiences, objects, placements, statuses.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# A 64-bit integer that is SQLite's rowid alias (so `INTEGER PRIMARY KEY`) where it matters.
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the tables of the store model."""
    op.create_table(
        "meta",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("value", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("username", sa.Text(), nullable=False, unique=True),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("country", sa.Text(), nullable=True),
        sa.Column("credential_id", sa.Text(), nullable=False, unique=True),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created", sa.Text(), nullable=False),
    )
    op.create_table(
        "collections",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("id", sa.Text(), nullable=False, unique=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("owner_account", sa.Text(), sa.ForeignKey("accounts.id"), nullable=True),
        sa.Column("country", sa.Text(), nullable=True, unique=True),
        sa.Column("created", sa.Text(), nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("collection_pk", _Id, sa.ForeignKey("collections.pk"), primary_key=True),
        sa.Column("account_id", sa.Text(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("can_read", sa.Boolean(), nullable=False),
        sa.Column("can_write", sa.Boolean(), nullable=False),
    )
    op.create_index("grants_by_account", "grants", ["account_id"])
    # Member countries a partner's accepted submissions are redistributed to ("*" = all).
    op.create_table(
        "partner_recipients",
        sa.Column("account_id", sa.Text(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("country", sa.Text(), primary_key=True),
    )
    # An audience is an immutable set of collections; `members` is its canonical key.
    op.create_table(
        "audiences",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("members", sa.Text(), nullable=False, unique=True),
    )
    op.create_table(
        "audience_members",
        sa.Column("collection_pk", _Id, primary_key=True),
        sa.Column("audience_pk", _Id, primary_key=True),
        sqlite_with_rowid=False,
    )
    # Each distinct object version once, whatever number of collections see it.
    op.create_table(
        "objects",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("stix_id", sa.Text(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("spec_version", sa.Text(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )
    op.create_index("objects_by_id", "objects", ["stix_id", "version"])
    # A placement: this version became visible to this audience at date_added; `seq` breaks ties.
    op.create_table(
        "placements",
        sa.Column("seq", _Id, primary_key=True, autoincrement=True),
        sa.Column("audience_pk", _Id, nullable=False),
        sa.Column("date_added", sa.BigInteger(), nullable=False),
        sa.Column("object_pk", _Id, nullable=False),
    )
    op.create_index("placements_page", "placements", ["audience_pk", "date_added", "seq"])
    op.create_index("placements_by_object", "placements", ["object_pk", "audience_pk"])
    op.create_table(
        "statuses",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("collection_id", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop everything (only for development)."""
    for table in (
        "statuses",
        "placements",
        "objects",
        "audience_members",
        "audiences",
        "partner_recipients",
        "grants",
        "collections",
        "accounts",
        "meta",
    ):
        op.drop_table(table)
