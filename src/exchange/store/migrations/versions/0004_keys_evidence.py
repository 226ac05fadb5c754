"""Partner signing keys, replay nonces, evidence of signed submissions, the hub's own keys.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Add keys, nonces, evidence and hub keys."""
    # A partner's public keys (RFC 9421 keyid), each valid in a window, revocable.
    op.create_table(
        "partner_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("partner_account", sa.Text(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("algorithm", sa.Text(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),  # SubjectPublicKeyInfo PEM
        sa.Column("valid_from", sa.BigInteger(), nullable=False),  # µs
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
    )
    op.create_index("partner_keys_by_partner", "partner_keys", ["partner_account"])
    # Nonces seen within the replay window; shared by every hub process using the store.
    op.create_table(
        "nonces",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("nonce", sa.Text(), primary_key=True),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("nonces_by_time", "nonces", ["seen_at"])
    # What a partner signed, kept so the submission can be re-verified years later.
    op.create_table(
        "evidence",
        sa.Column("submission_pk", _Id, primary_key=True),
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.Column("signature_base", sa.LargeBinary(), nullable=False),
        sa.Column("covered", sa.Text(), nullable=False),  # JSON list of covered components
        sa.Column("created", sa.BigInteger(), nullable=False),  # the signature's `created`, µs
        sa.Column("nonce", sa.Text(), nullable=False),
        sa.Column("content_type", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),  # compressed signed bytes
    )
    # The hub's own keys: response signatures and audit tree heads.
    op.create_table(
        "hub_keys",
        sa.Column("key_id", sa.Text(), primary_key=True),
        sa.Column("purpose", sa.Text(), nullable=False),  # "responses" or "audit"
        sa.Column("algorithm", sa.Text(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),  # PKCS#8 PEM
        sa.Column("public_key", sa.LargeBinary(), nullable=False),  # SubjectPublicKeyInfo PEM
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("retired_at", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    """Drop them (only for development)."""
    for table in ("hub_keys", "evidence", "nonces", "partner_keys"):
        op.drop_table(table)
