"""Merkle tree hashing, proofs and the incremental accumulator of RFC 9162 section 2.1.

The tree over leaves ``D[0:n]`` is the one RFC 9162 section 2.1.1 defines: the leaf hash is
``SHA-256(0x00 || d)``, an interior node is ``SHA-256(0x01 || left || right)``, the hash of the
empty tree is ``SHA-256("")``, and a list of ``n > 1`` leaves splits at ``k``, the largest power
of two smaller than ``n``. Everything here takes *leaf hashes* (32 bytes), never leaf data,
except :func:`leaf_hash` itself.

Storage shape. Two accessors let a store back every computation without this module doing I/O:

- ``leaf_at(i)`` returns the hash of leaf ``i`` (a ``LeafAt``);
- ``node_at(level, index)`` returns the hash of the *perfect* subtree over leaves
  ``[index * 2**level, (index + 1) * 2**level)`` (a ``NodeAt``; level 0 is the leaf hash).

Every subtree hash that appears in an RFC 9162 proof is a node of the tree, and every node of
the tree is either perfect or lies on the tree's right edge, where it splits into at most
``log2(n)`` perfect nodes (:func:`span_root`). Going down a proof's path, only one sibling can
be such a right-edge node, so with ``node_at`` a proof reads O(log n) hashes (about
``2 * log2(n)``: 25 reads at a million leaves); with ``leaf_at`` alone it reads and hashes the
leaves under each proof node, O(n) in all (about half a second for a million leaves in memory,
see ``benchmarks/audit.py``).

For a store: perfect nodes are write-once, and :meth:`MerkleAccumulator.append_nodes` reports
each one at the append that completes it (amortised two per leaf, leaf included). Keeping them
all (``(level, index) -> hash``, about ``2n`` rows) makes every proof O(log n) reads; keeping
only levels ``0, s, 2s, ...`` cuts the table to about ``n(1 + 2**-s)`` rows and costs at most
``2**s`` reads of the level below per missing node (``span_root`` of the children). The
accumulator's state (:meth:`MerkleAccumulator.to_bytes`, ``9 + 32 * popcount(n)`` bytes) goes
with the log's head row, so an append never reads more than that one row.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from exchange.audit.errors import AuditError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "LeafAt",
    "MerkleAccumulator",
    "Node",
    "NodeAt",
    "compact_range",
    "consistency_proof",
    "consistency_proof_from_nodes",
    "consistency_spans",
    "inclusion_proof",
    "inclusion_proof_from_nodes",
    "inclusion_spans",
    "leaf_hash",
    "node_hash",
    "node_levels",
    "root",
    "span_root",
    "split_point",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 hash, and so in every leaf hash, node hash, root and proof element."""

LeafAt = Callable[[int], bytes]
"""``leaf_at(i)``: the hash of leaf ``i``."""

NodeAt = Callable[[int, int], bytes]
"""``node_at(level, index)``: the hash of the perfect subtree over leaves
``[index << level, (index + 1) << level)``."""

_sha256 = hashlib.sha256
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
# Perfect subtrees up to this many leaves are hashed level by level from a list (fast); wider
# ones block by block into an accumulator, so memory stays O(_CHUNK + log n).
_CHUNK = 4096
_STATE_VERSION = 1
_STATE_HEADER = 1 + 8

EMPTY_ROOT = _sha256(b"").digest()
"""RFC 9162 section 2.1.1: the hash of an empty list is the hash of an empty string."""


# RFC 9162 section 2.1.1: the hashes ------------------------------------------------------
def leaf_hash(data: bytes) -> bytes:
    """The leaf hash of ``data``: ``SHA-256(0x00 || data)`` (RFC 9162 section 2.1.1)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: ``SHA-256(0x01 || left || right)`` (RFC 9162 section 2.1.1)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """``k``, the largest power of two smaller than ``n`` (RFC 9162 section 2.1.1); ``n > 1``."""
    if n < 2:
        raise AuditError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


def _fold(hashes: Sequence[bytes]) -> bytes:
    """The root over perfect subtrees given left to right, each strictly larger than the next.

    This is RFC 9162 section 2.1.1's recursion unrolled: ``MTH(D[n]) = HASH(0x01 ||
    MTH(D[0:k]) || MTH(D[k:n]))`` where ``D[0:k]`` is the first (largest) perfect subtree.
    """
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = _sha256(_NODE_PREFIX + left + result).digest()
    return result


def _pairwise_root(level: list[bytes]) -> bytes:
    """The root of a perfect tree (a power-of-two count of hashes), level by level."""
    sha = _sha256
    prefix = _NODE_PREFIX
    while len(level) > 1:
        level = [
            sha(prefix + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=True)
        ]
    return level[0]


def _perfect_root(start: int, width: int, leaf_at: LeafAt) -> bytes:
    """The root of the perfect subtree of ``width`` (a power of two) leaves from ``start``."""
    if width <= _CHUNK:
        return _pairwise_root([leaf_at(i) for i in range(start, start + width)])
    blocks = MerkleAccumulator()
    for block in range(start, start + width, _CHUNK):
        blocks.append(_pairwise_root([leaf_at(i) for i in range(block, block + _CHUNK)]))
    return blocks.root()


def _check_span(start: int, end: int) -> None:
    if not 0 <= start <= end:
        raise AuditError(f"[{start}, {end}) is not a range of leaves")


def subtree_root(start: int, end: int, leaf_at: LeafAt) -> bytes:
    """``MTH(D[start:end])`` (RFC 9162 section 2.1.1) from leaf hashes, O(log n) memory.

    Reads every leaf in the range once. ``D[start:end]`` is split, as the RFC's recursion does,
    into the perfect subtrees given by the binary digits of ``end - start`` (largest first).
    A store answering ``node_at`` should use :func:`span_root` instead.
    """
    _check_span(start, end)
    count = end - start
    subtrees: list[bytes] = []
    position = start
    for level in reversed(range(count.bit_length())):
        if count >> level & 1:
            subtrees.append(_perfect_root(position, 1 << level, leaf_at))
            position += 1 << level
    return _fold(subtrees)


def root(leaves: Sequence[bytes]) -> bytes:
    """``MTH(D[n])`` (RFC 9162 section 2.1.1) of a list of leaf hashes."""
    return subtree_root(0, len(leaves), leaves.__getitem__)


def span_root(start: int, end: int, node_at: NodeAt) -> bytes:
    """``MTH(D[start:end])`` from perfect-subtree hashes: at most ``log2(end - start) + 1`` reads.

    The span must be a node of some RFC 9162 tree, as every span in a proof is: it splits into
    perfect subtrees, largest first, each aligned to its own width. Other spans raise.
    """
    _check_span(start, end)
    count = end - start
    subtrees: list[bytes] = []
    position = start
    for level in reversed(range(count.bit_length())):
        if count >> level & 1:
            if position & ((1 << level) - 1):
                raise AuditError(f"[{start}, {end}) is not made of aligned perfect subtrees")
            subtrees.append(node_at(level, position >> level))
            position += 1 << level
    return _fold(subtrees)


def compact_range(start: int, end: int) -> list[tuple[int, int]]:
    """The fewest aligned perfect subtrees that tile ``[start, end)``, as ``(level, index)``.

    Left to right; appending them in order to an accumulator of size ``start`` is valid (each is
    aligned to the accumulator's size when it comes). For ``start == 0`` these are the subtrees
    an accumulator of size ``end`` keeps.
    """
    _check_span(start, end)
    nodes: list[tuple[int, int]] = []
    position = start
    while position < end:
        level = (end - position).bit_length() - 1
        if position:
            level = min(level, (position & -position).bit_length() - 1)
        nodes.append((level, position >> level))
        position += 1 << level
    return nodes


def node_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect node of the tree over ``leaves``: ``levels[h][i]`` is ``node_at(h, i)``.

    An in-memory node table (O(n) hashes), what a store keeps in its node table; handy for tests
    and benchmarks: ``lambda h, i: levels[h][i]`` is a ``NodeAt``.
    """
    levels = [list(leaves)]
    sha = _sha256
    prefix = _NODE_PREFIX
    while len(levels[-1]) > 1:
        below = levels[-1]
        pairs = zip(below[0 : len(below) & ~1 : 2], below[1::2], strict=True)
        levels.append([sha(prefix + left + right).digest() for left, right in pairs])
    return levels


# RFC 9162 section 2.1.3.1: inclusion proofs ----------------------------------------------
def inclusion_spans(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make ``PATH(index, D[size])``, in proof order.

    RFC 9162 section 2.1.3.1: for ``n > 1`` and ``k`` the split point, ``PATH(m, D[n])`` is
    ``PATH(m, D[0:k]) : MTH(D[k:n])`` when ``m < k`` and ``PATH(m - k, D[k:n]) : MTH(D[0:k])``
    otherwise; ``PATH(0, {d0})`` is empty. Walked top-down here, then reversed.
    """
    if not 0 <= index < size:
        raise AuditError(f"leaf {index} is not in a tree of {size} leaves")
    spans: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            spans.append((start + k, end))
            end = start + k
        else:
            spans.append((start, start + k))
            start += k
    spans.reverse()
    return spans


def inclusion_proof(index: int, size: int, leaf_at: LeafAt) -> list[bytes]:
    """The RFC 9162 section 2.1.3.1 inclusion proof of leaf ``index`` in the tree of ``size``.

    Computed from leaf hashes (reads every leaf but ``index``); see
    :func:`inclusion_proof_from_nodes` for the O(log n)-read version.
    """
    return [subtree_root(start, end, leaf_at) for start, end in inclusion_spans(index, size)]


def inclusion_proof_from_nodes(index: int, size: int, node_at: NodeAt) -> list[bytes]:
    """The same proof as :func:`inclusion_proof`, reading O(log n) perfect-subtree hashes.

    Every sibling on the path is perfect except at most one on the right edge, which
    :func:`span_root` assembles from at most ``log2(size)`` perfect nodes.
    """
    return [span_root(start, end, node_at) for start, end in inclusion_spans(index, size)]


# RFC 9162 section 2.1.4.1: consistency proofs --------------------------------------------
def consistency_spans(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes make ``PROOF(old_size, D[new_size])``, in order.

    RFC 9162 section 2.1.4.1: ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``;
    ``SUBPROOF(m, D[m], true)`` is empty and ``SUBPROOF(m, D[m], false)`` is ``{MTH(D[m])}``;
    for ``m < n`` and ``k`` the split point, ``SUBPROOF(m, D[n], b)`` is
    ``SUBPROOF(m, D[0:k], b) : MTH(D[k:n])`` when ``m <= k`` and
    ``SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k])`` otherwise. The proof between equal sizes,
    or from the empty tree, is empty.
    """
    if not 0 <= old_size <= new_size:
        raise AuditError(f"no consistency proof from {old_size} leaves to {new_size}")
    if old_size in (0, new_size):
        return []
    spans: list[tuple[int, int]] = []
    start, end, m, whole = 0, new_size, old_size, True
    while m < end - start:
        k = split_point(end - start)
        if m <= k:
            spans.append((start + k, end))
            end = start + k
        else:
            spans.append((start, start + k))
            start += k
            m -= k
            whole = False
    if not whole:
        spans.append((start, end))
    spans.reverse()
    return spans


def consistency_proof(old_size: int, new_size: int, leaf_at: LeafAt) -> list[bytes]:
    """The RFC 9162 section 2.1.4.1 consistency proof from ``old_size`` to ``new_size``.

    Computed from leaf hashes; see :func:`consistency_proof_from_nodes` for O(log n) reads.
    """
    spans = consistency_spans(old_size, new_size)
    return [subtree_root(start, end, leaf_at) for start, end in spans]


def consistency_proof_from_nodes(old_size: int, new_size: int, node_at: NodeAt) -> list[bytes]:
    """The same proof as :func:`consistency_proof`, reading O(log n) perfect-subtree hashes."""
    spans = consistency_spans(old_size, new_size)
    return [span_root(start, end, node_at) for start, end in spans]


# RFC 9162 sections 2.1.3.2 and 2.1.4.2: verification -------------------------------------
def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _same(left: bytes, right: bytes) -> bool:
    return hmac.compare_digest(left, right)


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Whether ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree of ``size``/``root``.

    The algorithm of RFC 9162 section 2.1.3.2, step for step. Malformed input is ``False``.
    """
    if not (_is_hash(leaf) and _is_hash(root_hash) and all(_is_hash(p) for p in proof)):
        return False
    # Step 1: the index must lie in the tree.
    if not 0 <= index < size:
        return False
    # Steps 2 and 3.
    fn, sn = index, size - 1
    r = leaf
    # Step 4.
    for p in proof:
        # 4a.
        if sn == 0:
            return False
        # 4b.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        # 4c.
        fn >>= 1
        sn >>= 1
    # Step 5.
    return sn == 0 and _same(r, root_hash)


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``old_size``/``old_root`` is a prefix of the new one.

    The algorithm of RFC 9162 section 2.1.4.2 for ``0 < old_size < new_size``. Equal sizes need
    an empty proof and equal roots; the empty tree (whose root must be ``SHA-256("")``) is a
    prefix of every tree, with an empty proof. Malformed input is ``False``.
    """
    if not (_is_hash(old_root) and _is_hash(new_root) and all(_is_hash(c) for c in proof)):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and _same(old_root, new_root)
    if old_size == 0:
        return not proof and _same(old_root, EMPTY_ROOT)
    # Step 1.
    if not proof:
        return False
    path = list(proof)
    # Step 2: an old tree whose size is a power of two is a node of the new one, left implicit.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    # Step 3.
    fn, sn = old_size - 1, new_size - 1
    # Step 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5.
    fr = sr = path[0]
    # Step 6.
    for c in path[1:]:
        # 6a.
        if sn == 0:
            return False
        # 6b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        # 6c.
        fn >>= 1
        sn >>= 1
    # Step 7.
    return sn == 0 and _same(fr, old_root) and _same(sr, new_root)


# The accumulator ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    """A perfect subtree: leaves ``[index << level, (index + 1) << level)`` hash to ``hash``."""

    level: int
    index: int
    hash: bytes


class MerkleAccumulator:
    """The right edge of a growing tree: its root at any size in O(log n) memory.

    It keeps one hash per set bit of the size: the perfect subtrees that tile ``[0, size)``
    from the largest (leftmost) down (a "compact range"). Appending a leaf merges equal-sized
    subtrees like a binary counter, amortised one node hash per append; the root folds them
    as RFC 9162 section 2.1.1 defines ``MTH``. The state is the size and those hashes:
    :meth:`to_bytes` / :meth:`from_bytes` persist it, :meth:`from_nodes` rebuilds it from a
    node table, so any process can continue the log where another left it.

    The one mutable object of this package: it is a builder. :meth:`copy` forks it.
    """

    __slots__ = ("_size", "_stack")

    def __init__(self) -> None:
        """An accumulator over the empty tree."""
        self._size = 0
        self._stack: list[bytes] = []

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def frontier(self) -> tuple[bytes, ...]:
        """The perfect-subtree hashes kept, largest first (``compact_range(0, size)`` order)."""
        return tuple(self._stack)

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash (32 bytes, as :func:`leaf_hash` makes)."""
        if len(leaf) != HASH_SIZE:
            raise AuditError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
        size = self._size
        stack = self._stack
        current = leaf
        while size & 1:
            current = _sha256(_NODE_PREFIX + stack.pop() + current).digest()
            size >>= 1
        stack.append(current)
        self._size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Append leaf hashes in order."""
        for leaf in leaves:
            self.append(leaf)

    def append_nodes(self, leaf: bytes) -> list[Node]:
        """Append one leaf hash and return the perfect nodes that now exist and did not before.

        The leaf itself (level 0) first, then one node per level the append completed. A store
        writes these to its node table; they never change afterwards.
        """
        if len(leaf) != HASH_SIZE:
            raise AuditError(f"a leaf hash has {HASH_SIZE} bytes, not {len(leaf)}")
        index = self._size
        nodes = [Node(0, index, leaf)]
        size, level, at = index, 0, index
        stack = self._stack
        current = leaf
        while size & 1:
            current = _sha256(_NODE_PREFIX + stack.pop() + current).digest()
            size >>= 1
            level += 1
            at >>= 1
            nodes.append(Node(level, at, current))
        stack.append(current)
        self._size += 1
        return nodes

    def append_subtree(self, level: int, node: bytes) -> None:
        """Append a whole perfect subtree of ``2**level`` leaves by its hash.

        Valid only when the size is a multiple of ``2**level`` (the subtree is aligned), as
        :func:`compact_range` guarantees for its nodes.
        """
        if len(node) != HASH_SIZE:
            raise AuditError(f"a node hash has {HASH_SIZE} bytes, not {len(node)}")
        if level < 0 or self._size & ((1 << level) - 1):
            raise AuditError(f"a subtree of 2**{level} leaves is not aligned at {self._size}")
        size = self._size >> level
        stack = self._stack
        current = node
        while size & 1:
            current = _sha256(_NODE_PREFIX + stack.pop() + current).digest()
            size >>= 1
        stack.append(current)
        self._size += 1 << level

    def root(self) -> bytes:
        """``MTH`` of the leaves appended so far (RFC 9162 section 2.1.1)."""
        return _fold(self._stack)

    def copy(self) -> MerkleAccumulator:
        """An independent accumulator in the same state."""
        twin = MerkleAccumulator()
        twin._size = self._size
        twin._stack = list(self._stack)
        return twin

    def to_bytes(self) -> bytes:
        """The state: a version byte, the size (8 bytes big-endian), then the frontier hashes."""
        return bytes([_STATE_VERSION]) + self._size.to_bytes(8, "big") + b"".join(self._stack)

    @classmethod
    def from_bytes(cls, state: bytes) -> MerkleAccumulator:
        """The accumulator :meth:`to_bytes` wrote; raises AuditError on anything else."""
        if len(state) < _STATE_HEADER or state[0] != _STATE_VERSION:
            raise AuditError("not an accumulator state (bad header)")
        size = int.from_bytes(state[1:_STATE_HEADER], "big")
        body = state[_STATE_HEADER:]
        if len(body) != HASH_SIZE * size.bit_count():
            raise AuditError(f"an accumulator of {size} leaves keeps {size.bit_count()} hashes")
        return cls.from_frontier(
            size, [body[i : i + HASH_SIZE] for i in range(0, len(body), HASH_SIZE)]
        )

    @classmethod
    def from_frontier(cls, size: int, frontier: Sequence[bytes]) -> MerkleAccumulator:
        """The accumulator of ``size`` leaves whose kept hashes are ``frontier`` (largest first)."""
        if size < 0 or len(frontier) != size.bit_count():
            raise AuditError(f"an accumulator of {size} leaves keeps {size.bit_count()} hashes")
        if not all(_is_hash(h) for h in frontier):
            raise AuditError(f"frontier hashes have {HASH_SIZE} bytes")
        made = cls()
        made._size = size
        made._stack = list(frontier)
        return made

    @classmethod
    def from_nodes(cls, size: int, node_at: NodeAt) -> MerkleAccumulator:
        """The accumulator of ``size`` leaves, read from a node table (``popcount(size)`` reads)."""
        nodes = compact_range(0, size)
        return cls.from_frontier(size, [node_at(level, index) for level, index in nodes])
