"""Partners' due diligence, versioned agreements, submissions, embargoes, quotas, changes.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add the tables of sharing agreements; recipients now come from agreements."""
    op.drop_table("partner_recipients")
    # One row per partner account: lifecycle state and due-diligence record (JSON).
    op.create_table(
        "partners",
        sa.Column("account_id", sa.Text(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("vetted_until", sa.Text(), nullable=True),
        sa.Column("record", sa.LargeBinary(), nullable=False),
    )
    # Every version of every agreement; a change never edits a row, it adds the next version.
    op.create_table(
        "agreements",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("agreement_id", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("partner_account", sa.Text(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("terms", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.UniqueConstraint("agreement_id", "version", name="agreement_versions"),
    )
    op.create_index("agreements_by_partner", "agreements", ["partner_account", "version"])
    # A submission: one POST of a partner, the agreement version that decided it.
    op.create_table(
        "submissions",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("partner_account", sa.Text(), nullable=False),
        sa.Column("agreement_id", sa.Text(), nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=False),
        sa.Column("status_id", sa.Text(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
    )
    op.create_index("submissions_by_partner", "submissions", ["partner_account", "received_at"])
    with op.batch_alter_table("placements") as batch:
        batch.add_column(sa.Column("submission_pk", _Id, nullable=True))
    op.create_index("placements_by_submission", "placements", ["submission_pk"])
    # Redistribution waiting for its embargo to end.
    op.create_table(
        "embargoed",
        sa.Column("pk", _Id, primary_key=True, autoincrement=True),
        sa.Column("due_at", sa.BigInteger(), nullable=False),
        sa.Column("object_pk", _Id, nullable=False),
        sa.Column("submission_pk", _Id, nullable=False),
        sa.Column("countries", sa.Text(), nullable=False),
    )
    op.create_index("embargoed_by_due", "embargoed", ["due_at"])
    op.create_table(
        "quota_usage",
        sa.Column("partner_account", sa.Text(), primary_key=True),
        sa.Column("day", sa.Text(), primary_key=True),
        sa.Column("objects", sa.BigInteger(), nullable=False),
    )
    # Every administrative change: who, when, what, before and after.
    op.create_table(
        "changes",
        sa.Column("seq", _Id, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("before", sa.LargeBinary(), nullable=True),
        sa.Column("after", sa.LargeBinary(), nullable=True),
    )
    op.create_index("changes_by_entity", "changes", ["entity", "entity_id", "seq"])


def downgrade() -> None:
    """Drop the agreement tables (only for development)."""
    for table in ("changes", "quota_usage", "embargoed", "submissions", "agreements", "partners"):
        op.drop_table(table)
    op.drop_index("placements_by_submission", "placements")
    with op.batch_alter_table("placements") as batch:
        batch.drop_column("submission_pk")
    op.create_table(
        "partner_recipients",
        sa.Column("account_id", sa.Text(), primary_key=True),
        sa.Column("country", sa.Text(), primary_key=True),
    )
