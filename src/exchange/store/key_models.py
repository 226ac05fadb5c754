"""Records of the signing-keys part of the store: partners' public keys and kept evidence."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Evidence", "PartnerKey"]


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """A partner's registered public key (RFC 9421 ``keyid``) and its validity window (µs)."""

    key_id: str
    partner_account: str
    algorithm: str
    public_key: bytes  # SubjectPublicKeyInfo PEM
    valid_from: int
    valid_until: int | None
    revoked_at: int | None
    revoked_reason: str | None
    created_by: str
    created_at: str

    def usable_at(self, moment: int) -> bool:
        """Whether a signature created at ``moment`` (µs) may use this key."""
        if moment < self.valid_from:
            return False
        if self.valid_until is not None and moment >= self.valid_until:
            return False
        return self.revoked_at is None or moment < self.revoked_at


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a partner signed for one submission, kept to verify it again later.

    ``body`` is the exact signed bytes (uncompressed here; the store compresses them).
    """

    key_id: str
    label: str
    signature: bytes
    signature_base: bytes
    covered: tuple[str, ...]
    created: int  # the signature's `created`, µs
    nonce: str
    content_type: str
    body: bytes
    submission_pk: int = 0
