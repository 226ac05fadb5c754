"""The tamper-evident audit log: events, Merkle tree nodes, state and signed tree heads.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the audit log tables."""
    # Events in log order; `seq` is the leaf index (0-based). `body` is the event's RFC 8785
    # canonical JSON, `leaf` its RFC 9162 leaf hash. `partner` names the partner whose
    # contribution the event is about, so partners can fetch their own events.
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("partner", sa.Text(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
    )
    op.create_index("audit_events_by_partner", "audit_events", ["partner", "seq"])
    # Hashes of complete subtrees, written once: (level, index) -> hash (RFC 9162 2.1).
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.Integer(), primary_key=True),
        sa.Column("idx", sa.BigInteger(), primary_key=True),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sqlite_with_rowid=False,
    )
    # One row: the log's size and its accumulator state (so any node can append).
    op.create_table(
        "audit_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("accumulator", sa.LargeBinary(), nullable=False),
    )
    # Signed tree heads the hub has published.
    op.create_table(
        "audit_heads",
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("root", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.Text(), nullable=False),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    """Drop them (only for development)."""
    for table in ("audit_heads", "audit_state", "audit_nodes", "audit_events"):
        op.drop_table(table)
