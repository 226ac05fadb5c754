"""Check a whole audit log against a tree head obtained earlier, naming the first bad event.

:func:`verify_log` reads the events once, in order, and keeps O(log n) hashes: it recomputes the
RFC 9162 section 2.1.1 tree with a :class:`~exchange.audit.merkle.MerkleAccumulator`, checks that
``seq`` runs 0, 1, 2, ... and that the root over the first ``trusted.size`` events is
``trusted.root``. The head's signature is the caller's business (``verify_head``) and comes
first.

The root alone says *whether* the log changed, not *where*. To name the first event that
differs from the log the head was made over, the verifier needs more of that log:

- ``expected_leaves``: the leaf hashes it kept (or was given) for the first ``trusted.size``
  events. Each event's leaf is compared with its expected one as it streams by;
- ``trusted_nodes``: a ``node_at(level, index)`` oracle of perfect-subtree hashes of that log
  (what a store's node table or a partner's mirror answers). The events are compared block by
  block (``2**block_level`` leaves, the only leaves kept), and inside the first block that
  differs the bisection descends through the oracle's children to the first differing leaf:
  ``size / 2**block_level + O(log n)`` oracle reads.

Neither source is taken on faith. Every hash they supply is also fed, left to right, into a
second accumulator whose root must come out as ``trusted.root``; a first bad event is named only
when it does, and each step of a bisection checks that the two children hash to their parent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from exchange.audit.errors import AuditError
from exchange.audit.events import AuditEvent
from exchange.audit.heads import TreeHead
from exchange.audit.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    NodeAt,
    compact_range,
    node_hash,
    subtree_root,
)

__all__ = ["DEFAULT_BLOCK_LEVEL", "Verdict", "leaves_oracle", "verify_log"]

DEFAULT_BLOCK_LEVEL = 8
"""Blocks of 256 leaves: 8 KiB of hashes kept, one oracle read per 256 events."""


@dataclass(frozen=True)
class Verdict:
    """What :func:`verify_log` found.

    ``ok``: the first ``trusted.size`` events hash to the trusted root and every ``seq`` is its
    position. ``checked``: events read. ``first_bad``: the index of the first event that does
    not match, when it can be named (see the module notes), else None. ``reason``: one
    sentence for people. ``root``: the RFC 9162 root over all ``checked`` events, to compare
    with a newer signed head.
    """

    ok: bool
    checked: int
    first_bad: int | None
    reason: str
    root: bytes


def leaves_oracle(leaves: Sequence[bytes]) -> NodeAt:
    """A ``node_at`` answering from a list of leaf hashes (level 0 directly, others hashed)."""

    def node_at(level: int, index: int) -> bytes:
        if level == 0:
            return leaves[index]
        start = index << level
        end = start + (1 << level)
        if end > len(leaves):
            raise AuditError(f"node ({level}, {index}) is past the {len(leaves)} leaves given")
        return subtree_root(start, end, leaves.__getitem__)

    return node_at


class _Localiser:
    """Compares streamed leaves with a trusted oracle, block by block; finds the first bad one.

    Mutable working state of one :func:`verify_log` call, never shared.
    """

    def __init__(self, size: int, node_at: NodeAt, block_level: int) -> None:
        self.size = size
        self.node_at = node_at
        self.block = 1 << block_level
        self.kept: list[bytes] = []
        self.start = 0
        self.oracle = MerkleAccumulator()
        self.first_bad: int | None = None
        self.inconsistent = False

    def add(self, leaf: bytes) -> None:
        """One more leaf, at index ``start + len(kept)`` (< size)."""
        self.kept.append(leaf)
        if len(self.kept) == self.block or self.start + len(self.kept) == self.size:
            self._flush()

    def _ours(self, level: int, index: int) -> bytes:
        offset = (index << level) - self.start
        return subtree_root(offset, offset + (1 << level), self.kept.__getitem__)

    def _flush(self) -> None:
        end = self.start + len(self.kept)
        for level, index in compact_range(self.start, end):
            theirs = self.node_at(level, index)
            self.oracle.append_subtree(level, theirs)
            if (
                self.first_bad is None
                and not self.inconsistent
                and self._ours(level, index) != theirs
            ):
                self.first_bad = self._bisect(level, index, theirs)
        self.start = end
        self.kept = []

    def _bisect(self, level: int, index: int, theirs: bytes) -> int | None:
        # Descend to the leftmost differing leaf; the oracle's children must hash to the
        # (already checked) parent at every step, so one bad answer cannot mislead it.
        while level > 0:
            level -= 1
            left = self.node_at(level, 2 * index)
            right = self.node_at(level, 2 * index + 1)
            if node_hash(left, right) != theirs:
                self.inconsistent = True
                return None
            if self._ours(level, 2 * index) != left:
                index, theirs = 2 * index, left
            else:
                index, theirs = 2 * index + 1, right
        return index

    def finish(self, count: int, trusted_root: bytes) -> int | None:
        """The first bad index once all ``count`` events are read, if the oracle is sound."""
        if self.kept:
            self._flush()
        # Events missing at the end: feed the oracle's hashes for them, for the root check.
        for level, index in compact_range(self.start, self.size):
            self.oracle.append_subtree(level, self.node_at(level, index))
        if self.inconsistent or self.oracle.root() != trusted_root:
            self.inconsistent = True
            return None
        if self.first_bad is None and count < self.size:
            return count
        return self.first_bad


def verify_log(
    events: Iterable[AuditEvent],
    trusted: TreeHead,
    *,
    expected_leaves: Sequence[bytes] | None = None,
    trusted_nodes: NodeAt | None = None,
    block_level: int = DEFAULT_BLOCK_LEVEL,
) -> Verdict:
    """Check ``events`` (the whole log, from seq 0) against the ``trusted`` head.

    Give at most one of ``expected_leaves`` (leaf hashes of the trusted log, at least
    ``trusted.size`` of them) and ``trusted_nodes`` (a ``node_at`` oracle over it) to have the
    first bad event named; see the module notes. Events past ``trusted.size`` are checked for
    ``seq`` only and counted into ``Verdict.root``.
    """
    if expected_leaves is not None and trusted_nodes is not None:
        raise AuditError("give expected leaves or a node oracle, not both")
    if not 0 <= block_level <= 32:
        raise AuditError(f"block level {block_level} is outside 0..32")
    size = trusted.size
    trusted_root = trusted.root_bytes
    localiser: _Localiser | None = None
    if expected_leaves is not None:
        if len(expected_leaves) < size:
            raise AuditError(f"{len(expected_leaves)} expected leaves for a head of {size}")
        localiser = _Localiser(size, leaves_oracle(expected_leaves), 0)
    elif trusted_nodes is not None:
        localiser = _Localiser(size, trusted_nodes, block_level)

    tree = MerkleAccumulator()
    prefix_root = EMPTY_ROOT if size == 0 else None
    first_seq_gap: int | None = None
    gap_note = ""
    count = 0
    for event in events:
        if first_seq_gap is None and event.seq != count:
            first_seq_gap = count
            gap_note = f"event {count} has seq {event.seq}: one is missing, added or moved"
        leaf = event.leaf()
        tree.append(leaf)
        if localiser is not None and count < size:
            localiser.add(leaf)
        count += 1
        if count == size:
            prefix_root = tree.root()

    located = localiser.finish(count, trusted_root) if localiser is not None else None
    unsound = localiser is not None and localiser.inconsistent
    caveat = (
        " (the trusted leaves or nodes given do not hash to the trusted root, so they cannot"
        " name it)"
        if unsound
        else ""
    )

    def verdict(ok: bool, first_bad: int | None, reason: str) -> Verdict:
        return Verdict(ok, count, first_bad, reason, tree.root())

    if prefix_root is None:
        short = f"the log has {count} events but the trusted head covers {size}"
        if located is not None:
            what = "is missing" if located == count else "is the first that differs"
            return verdict(False, located, f"{short}; event {located} {what}")
        if first_seq_gap is not None:
            return verdict(False, first_seq_gap, f"{short}; {gap_note}{caveat}")
        return verdict(False, None, f"{short}{caveat}")
    if prefix_root != trusted_root:
        if located is not None:
            return verdict(False, located, f"event {located} differs from the trusted log")
        if first_seq_gap is not None:
            # The first event that is certainly wrong; earlier ones may be too, which only
            # trusted leaves or nodes could tell.
            return verdict(False, first_seq_gap, f"{gap_note}{caveat}")
        return verdict(
            False, None, f"the first {size} events do not hash to the trusted root{caveat}"
        )
    if first_seq_gap is not None:
        return verdict(False, first_seq_gap, gap_note)
    return verdict(True, None, f"{count} events; the first {size} match the trusted head")
