"""Signed tree heads: the hub's Ed25519 signature over (size, root, timestamp).

The head plays the part of RFC 9162 section 4.10's signed tree head: whoever holds a head and
the hub's public key can check later that the log still contains, unchanged, the ``size`` events
the head covers (``verify_log``, or a consistency proof to a newer head). The signed message is
a fixed context string followed by the head's RFC 8785 canonical JSON, so a head signature can
never be mistaken for a signature over anything else the same key signs.

Key ids are the lower-case hex SHA-256 of the raw 32-byte Ed25519 public key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from exchange.audit.canonical import MAX_SAFE_INTEGER, canonical_json
from exchange.audit.errors import AuditError
from exchange.audit.merkle import HASH_SIZE
from exchange.stix.timestamps import parse_timestamp

__all__ = [
    "HEAD_CONTEXT",
    "HeadSigner",
    "SignedTreeHead",
    "TreeHead",
    "key_id",
    "public_key_bytes",
    "verify_head",
]

HEAD_CONTEXT = b"exchange audit tree head v1\x00"
"""Prefixed to a head's canonical bytes before signing (domain separation)."""

_HEX_ROOT = re.compile(r"[0-9a-f]{64}")
_ED25519_KEY = 32
_ED25519_SIGNATURE = 64


@dataclass(frozen=True)
class TreeHead:
    """The log at one moment: ``size`` events whose RFC 9162 root is ``root`` (lower-case hex).

    ``timestamp`` is when the hub computed it, UTC RFC 3339 ending in ``Z``.
    """

    size: int
    root: str
    timestamp: str

    def __post_init__(self) -> None:
        """Check the fields."""
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise AuditError("a tree head's size is an integer")
        if not 0 <= self.size <= MAX_SAFE_INTEGER:
            raise AuditError(f"tree size {self.size} is outside 0..2**53-1")
        if not isinstance(self.root, str) or not _HEX_ROOT.fullmatch(self.root):
            raise AuditError("a tree head's root is 64 lower-case hex digits")
        if not isinstance(self.timestamp, str) or parse_timestamp(self.timestamp) is None:
            raise AuditError(f"{self.timestamp!r} is not a UTC RFC 3339 timestamp ending in Z")

    @classmethod
    def of(cls, size: int, root: bytes, timestamp: str) -> TreeHead:
        """A head from a raw 32-byte root."""
        if len(root) != HASH_SIZE:
            raise AuditError(f"a root has {HASH_SIZE} bytes, not {len(root)}")
        return cls(size, root.hex(), timestamp)

    @property
    def root_bytes(self) -> bytes:
        """The root as 32 raw bytes."""
        return bytes.fromhex(self.root)

    def to_json(self) -> dict[str, Any]:
        """The head as a JSON object."""
        return {"size": self.size, "root": self.root, "timestamp": self.timestamp}

    @classmethod
    def from_json(cls, value: Any) -> TreeHead:
        """The head :meth:`to_json` gave; raises AuditError on anything else."""
        if not isinstance(value, dict) or set(value) != {"size", "root", "timestamp"}:
            raise AuditError("a tree head is a JSON object with exactly size, root, timestamp")
        return cls(value["size"], value["root"], value["timestamp"])

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON of the head."""
        return canonical_json(self.to_json())

    def signed_message(self) -> bytes:
        """What the signature covers: :data:`HEAD_CONTEXT` then :meth:`canonical_bytes`."""
        return HEAD_CONTEXT + self.canonical_bytes()


@dataclass(frozen=True)
class SignedTreeHead:
    """A head with its signature and the id of the key that made it."""

    head: TreeHead
    key_id: str
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        """The signed head as a JSON object (signature in lower-case hex)."""
        return {
            "head": self.head.to_json(),
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """The raw 32-byte form of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey | bytes) -> str:
    """The key id: lower-case hex SHA-256 of the raw 32-byte public key."""
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    if len(raw) != _ED25519_KEY:
        raise AuditError(f"an Ed25519 public key has {_ED25519_KEY} bytes, not {len(raw)}")
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class HeadSigner:
    """Signs tree heads with an Ed25519 private key."""

    private_key: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> HeadSigner:
        """A signer with a fresh random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, raw: bytes) -> HeadSigner:
        """A signer from the raw 32-byte private key (seed)."""
        if len(raw) != _ED25519_KEY:
            raise AuditError(f"an Ed25519 private key has {_ED25519_KEY} bytes, not {len(raw)}")
        return cls(Ed25519PrivateKey.from_private_bytes(raw))

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public key partners verify with."""
        return self.private_key.public_key()

    @property
    def key_id(self) -> str:
        """The id of :attr:`public_key`."""
        return key_id(self.public_key)

    def sign(self, head: TreeHead) -> bytes:
        """The 64-byte Ed25519 signature over ``head.signed_message()``."""
        return self.private_key.sign(head.signed_message())

    def sign_head(self, head: TreeHead) -> SignedTreeHead:
        """The head, signed, with this signer's key id."""
        return SignedTreeHead(head, self.key_id, self.sign(head))


def verify_head(head: TreeHead, signature: bytes, public_key: Ed25519PublicKey | bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature over ``head``.

    ``public_key`` may be the key object or its raw 32 bytes. Malformed input is ``False``.
    """
    if not isinstance(signature, bytes) or len(signature) != _ED25519_SIGNATURE:
        return False
    if isinstance(public_key, bytes):
        if len(public_key) != _ED25519_KEY:
            return False
        try:
            public_key = Ed25519PublicKey.from_public_bytes(public_key)
        except ValueError:
            return False
    try:
        public_key.verify(signature, head.signed_message())
    except InvalidSignature:
        return False
    return True
