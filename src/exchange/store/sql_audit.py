"""The SQLite store's part for the audit log: events, Merkle nodes, the accumulator state and
signed tree heads (tables of migration 0005). Mixed into the store and its transaction.

Appends run inside the caller's write transaction, which holds the store's write lock, so the
log's order is the commit order, also across processes and nodes sharing the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

from exchange.audit.errors import AuditError
from exchange.audit.heads import SignedTreeHead, TreeHead
from exchange.audit.merkle import MerkleAccumulator
from exchange.store.sql import Db

__all__ = ["AuditEventRow", "AuditReads", "AuditWrites"]

AuditEventRow = tuple[str, str, str | None, bytes, bytes]
"""(kind, at, partner account or None, canonical body, leaf hash) of one event to append."""

_STATE_ID = 1
_HEAD_COLUMNS = "size, root, timestamp, key_id, signature"


def _head(row: Sequence[object]) -> SignedTreeHead:
    size, root, timestamp, key, signature = row
    assert isinstance(signature, bytes)
    return SignedTreeHead(TreeHead(int(str(size)), str(root), str(timestamp)), str(key), signature)


class AuditWrites:
    """Appending to the audit log, inside a store transaction."""

    _db: Db

    def audit_size(self) -> int:
        """How many events the log holds, as this transaction sees it."""
        row = self._db.execute("SELECT size FROM audit_state WHERE id = ?", (_STATE_ID,)).fetchone()
        return 0 if row is None else int(row[0])

    def append_events(self, events: Sequence[AuditEventRow]) -> int:
        """Append events (bodies already carrying their seq) and return the first seq."""
        row = self._db.execute(
            "SELECT size, accumulator FROM audit_state WHERE id = ?", (_STATE_ID,)
        ).fetchone()
        tree = MerkleAccumulator() if row is None else MerkleAccumulator.from_bytes(bytes(row[1]))
        first = tree.size
        if row is not None and int(row[0]) != first:
            raise AuditError(f"audit state says {row[0]} events, its accumulator {first}")
        if not events:
            return first
        nodes: list[tuple[int, int, bytes]] = []
        rows: list[tuple[int, str, str, str | None, bytes, bytes]] = []
        for offset, (kind, at, partner, body, leaf) in enumerate(events):
            nodes.extend((n.level, n.index, n.hash) for n in tree.append_nodes(leaf))
            rows.append((first + offset, at, kind, partner, body, leaf))
        self._db.executemany(
            "INSERT INTO audit_events (seq, at, kind, partner, body, leaf) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._db.executemany("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", nodes)
        self._db.execute(
            "INSERT INTO audit_state (id, size, accumulator) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET size = excluded.size, "
            "accumulator = excluded.accumulator",
            (_STATE_ID, tree.size, tree.to_bytes()),
        )
        return first


class AuditReads:
    """Reading the audit log and its signed heads (and saving heads, in their own commit)."""

    def _connection(self) -> Db:
        raise NotImplementedError

    def _write(self) -> AbstractContextManager[Db]:
        raise NotImplementedError

    def audit_size(self) -> int:
        """How many events the log holds."""
        row = (
            self._connection()
            .execute("SELECT size FROM audit_state WHERE id = ?", (_STATE_ID,))
            .fetchone()
        )
        return 0 if row is None else int(row[0])

    def audit_events(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """(seq, canonical body) of the events with ``start <= seq < end``, in order."""
        rows = self._connection().execute(
            "SELECT seq, body FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, end),
        )
        return [(int(seq), bytes(body)) for seq, body in rows]

    def audit_rows(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        """(seq, canonical body, stored leaf hash) of the events with ``start <= seq < end``."""
        rows = self._connection().execute(
            "SELECT seq, body, leaf FROM audit_events WHERE seq >= ? AND seq < ? ORDER BY seq",
            (start, end),
        )
        return [(int(seq), bytes(body), bytes(leaf)) for seq, body, leaf in rows]

    def audit_events_for_partner(
        self, partner: str, after_seq: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """(seq, body) of up to ``limit`` events about ``partner`` with seq > ``after_seq``."""
        rows = self._connection().execute(
            "SELECT seq, body FROM audit_events WHERE partner = ? AND seq > ? ORDER BY seq LIMIT ?",
            (partner, after_seq, limit),
        )
        return [(int(seq), bytes(body)) for seq, body in rows]

    def audit_node(self, level: int, idx: int) -> bytes:
        """The hash of the complete subtree ``(level, idx)``; AuditError if it does not exist."""
        row = (
            self._connection()
            .execute("SELECT hash FROM audit_nodes WHERE level = ? AND idx = ?", (level, idx))
            .fetchone()
        )
        if row is None:
            raise AuditError(f"the audit log has no node ({level}, {idx})")
        return bytes(row[0])

    def audit_leaf(self, seq: int) -> bytes | None:
        """The stored leaf hash of event ``seq``, or None."""
        row = (
            self._connection()
            .execute("SELECT leaf FROM audit_events WHERE seq = ?", (seq,))
            .fetchone()
        )
        return None if row is None else bytes(row[0])

    def save_tree_head(self, head: SignedTreeHead) -> None:
        """Keep a signed head (one per size: a second head of the same size is ignored)."""
        with self._write() as db:
            db.execute(
                f"INSERT INTO audit_heads ({_HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (head.head.size, head.head.root, head.head.timestamp, head.key_id, head.signature),
            )

    def tree_heads(self) -> list[SignedTreeHead]:
        """Every signed head, smallest (oldest) first."""
        rows = self._connection().execute(f"SELECT {_HEAD_COLUMNS} FROM audit_heads ORDER BY size")
        return [_head(row) for row in rows]

    def latest_tree_head(self) -> SignedTreeHead | None:
        """The signed head of the largest size, or None before the first."""
        row = (
            self._connection()
            .execute(f"SELECT {_HEAD_COLUMNS} FROM audit_heads ORDER BY size DESC LIMIT 1")
            .fetchone()
        )
        return None if row is None else _head(row)
