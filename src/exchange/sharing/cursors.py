"""Stateless page cursors for TAXII ``next`` (TAXII 2.1 section 3.4.1).

A cursor is the position of the last object served, sealed with an HMAC over the position, the
collection and the filters. It needs no server memory, so it survives restarts and works on any
node that shares the store's cursor key; a cursor that was altered, or used with another
collection or other filters, is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct

from exchange.errors import InvalidRequest
from exchange.store.models import ObjectQuery, Position

__all__ = ["CursorSealer"]

_FORMAT = struct.Struct(">Bqq")
_VERSION = 1
_TAG_BYTES = 16
_CURSOR_CHARS = len(base64.urlsafe_b64encode(bytes(_FORMAT.size + _TAG_BYTES)).rstrip(b"="))
_CURSOR = re.compile(f"[A-Za-z0-9_-]{{{_CURSOR_CHARS}}}")


def _fingerprint(collection_id: str, query: ObjectQuery, scope: str) -> bytes:
    selector = query.versions
    parts = [
        scope,
        collection_id,
        ",".join(sorted(query.ids)),
        ",".join(sorted(query.types)),
        ",".join(sorted(query.spec_versions)),
        f"{selector.last}:{selector.first}:{selector.all}:"
        + ",".join(str(v) for v in sorted(selector.exact)),
        "" if query.added_after is None else str(query.added_after),
    ]
    return "\x1f".join(parts).encode()


class CursorSealer:
    """Makes and opens cursors with one secret key."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _tag(self, payload: bytes, fingerprint: bytes) -> bytes:
        return hmac.new(self._key, payload + fingerprint, hashlib.sha256).digest()[:_TAG_BYTES]

    def seal(self, position: Position, collection_id: str, query: ObjectQuery, scope: str) -> str:
        """The ``next`` value for a page that ended at ``position``."""
        payload = _FORMAT.pack(_VERSION, position.date_added, position.seq)
        tag = self._tag(payload, _fingerprint(collection_id, query, scope))
        return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode("ascii")

    def open(self, cursor: str, collection_id: str, query: ObjectQuery, scope: str) -> Position:
        """The position a ``next`` value stands for; raises ``InvalidRequest`` if not genuine."""
        refused = InvalidRequest(
            "the 'next' value was not issued by this hub for this collection and these filters"
        )
        # Strict: exactly the unpadded base64url text `seal` writes (the decoder alone would
        # skip characters outside the alphabet).
        if not _CURSOR.fullmatch(cursor):
            raise refused
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload, tag = raw[: _FORMAT.size], raw[_FORMAT.size :]
        expected = self._tag(payload, _fingerprint(collection_id, query, scope))
        if not hmac.compare_digest(tag, expected):
            raise refused
        version, date_added, seq = _FORMAT.unpack(payload)
        if version != _VERSION:
            raise refused
        return Position(date_added, seq)
