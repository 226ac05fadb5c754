"""Audit events: what the hub did, who did it, to what; one event is one leaf of the log.

An event's leaf is ``leaf_hash(canonical_bytes())`` (RFC 9162 section 2.1.1 over RFC 8785
canonical JSON), so the same event always hashes the same on every node, in every language.
Events are frozen and their ``data`` is deep-frozen at construction: what was hashed cannot be
changed through a reference the caller kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.audit.canonical import MAX_SAFE_INTEGER, canonical_json, freeze_json
from exchange.audit.errors import AuditError
from exchange.audit.merkle import leaf_hash
from exchange.stix.timestamps import parse_timestamp

__all__ = ["KNOWN_KINDS", "AuditEvent"]

KNOWN_KINDS = frozenset(
    {
        "submission",
        "decision",
        "placement",
        "read",
        "agreement",
        "key",
        "account",
        "partner",
        "recall",
    }
)
"""The kinds the hub records today. Others are allowed if they are lower-case tokens."""

_KIND = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
_FIELDS = ("seq", "at", "kind", "actor", "subject", "data")


@dataclass(frozen=True, eq=False)
class AuditEvent:
    """One event of the audit log.

    ``seq`` is its index in the log (0, 1, 2, ...), ``at`` a UTC RFC 3339 timestamp ending in
    ``Z``, ``kind`` one of :data:`KNOWN_KINDS` (or another lower-case token), ``actor`` the
    account, partner or process that acted, ``subject`` what it acted on, ``data`` any JSON
    object with the details. Equality and hashing go by the canonical bytes.
    """

    seq: int
    at: str
    kind: str
    actor: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)
    _canonical: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Check every field, freeze ``data`` and compute the canonical bytes once."""
        if isinstance(self.seq, bool) or not isinstance(self.seq, int):
            raise AuditError("an event's seq is an integer")
        if not 0 <= self.seq <= MAX_SAFE_INTEGER:
            raise AuditError(f"seq {self.seq} is outside 0..2**53-1")
        if not isinstance(self.at, str) or parse_timestamp(self.at) is None:
            raise AuditError(f"{self.at!r} is not a UTC RFC 3339 timestamp ending in Z")
        if not isinstance(self.kind, str) or not _KIND.fullmatch(self.kind):
            raise AuditError(f"{self.kind!r} is not an event kind")
        for name in ("actor", "subject"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise AuditError(f"an event's {name} is a non-empty string")
        if not isinstance(self.data, Mapping):
            raise AuditError("an event's data is a JSON object")
        object.__setattr__(self, "data", freeze_json(self.data))
        object.__setattr__(self, "_canonical", canonical_json(self.to_json()))

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON object (plain dicts and lists)."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "subject": self.subject,
            "data": self.data,
        }

    def canonical_bytes(self) -> bytes:
        """The RFC 8785 canonical JSON of the six fields: what the leaf hashes."""
        return self._canonical

    def leaf(self) -> bytes:
        """The event's leaf hash: ``SHA-256(0x00 || canonical_bytes())`` (RFC 9162 2.1.1)."""
        return leaf_hash(self._canonical)

    @classmethod
    def from_canonical(cls, text: bytes) -> AuditEvent:
        """The event whose canonical bytes are ``text``; raises AuditError unless they are.

        A store keeps the canonical bytes; reading them back through here both parses and
        proves that what was read is exactly what would be hashed.
        """
        try:
            value = json.loads(text)
        except (ValueError, UnicodeDecodeError) as error:
            raise AuditError(f"an event is JSON: {error}") from error
        if not isinstance(value, dict) or set(value) != set(_FIELDS):
            raise AuditError(f"an event is a JSON object with exactly {', '.join(_FIELDS)}")
        event = cls(**value)
        if event.canonical_bytes() != text:
            raise AuditError("the event bytes are not in RFC 8785 canonical form")
        return event

    def __eq__(self, other: object) -> bool:
        """Events are equal when their canonical bytes are."""
        if not isinstance(other, AuditEvent):
            return NotImplemented
        return self._canonical == other._canonical

    def __hash__(self) -> int:
        """The hash of the canonical bytes."""
        return hash(self._canonical)
