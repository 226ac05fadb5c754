"""The Merkle core against the naive RFC 9162 reference, exhaustively on small trees.

Also: proofs read from a node table equal proofs computed from leaves, the accumulator and its
state, and input checks.
"""

from __future__ import annotations

import itertools

import pytest

from exchange.audit.errors import AuditError
from exchange.audit.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    Node,
    compact_range,
    consistency_proof,
    consistency_proof_from_nodes,
    consistency_spans,
    inclusion_proof,
    inclusion_proof_from_nodes,
    inclusion_spans,
    leaf_hash,
    node_levels,
    root,
    span_root,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.audit import reference

MAX = 70
DATA = [f"event {i}".encode() for i in range(MAX)]
LEAVES = [leaf_hash(d) for d in DATA]
LEVELS = node_levels(LEAVES)


def _leaf_at(i: int) -> bytes:
    return LEAVES[i]


def _node_at(level: int, index: int) -> bytes:
    return LEVELS[level][index]


@pytest.mark.parametrize("size", range(MAX + 1))
def test_roots_equal_the_reference(size: int) -> None:
    assert root(LEAVES[:size]) == reference.mth(DATA[:size])


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_every_inclusion_proof_equals_the_reference_and_verifies(size: int) -> None:
    top = reference.mth(DATA[:size])
    for index in range(size):
        proof = inclusion_proof(index, size, _leaf_at)
        assert proof == reference.path(index, DATA[:size])
        assert inclusion_proof_from_nodes(index, size, _node_at) == proof
        assert verify_inclusion(LEAVES[index], index, size, proof, top)
        # The same proof for any other leaf, index or size is refused.
        other = (index + 1) % size
        if other != index:
            assert not verify_inclusion(LEAVES[other], index, size, proof, top)
            assert not verify_inclusion(LEAVES[index], other, size, proof, top)
        assert not verify_inclusion(LEAVES[index], index, size, [*proof, top], top)
        if proof:
            assert not verify_inclusion(LEAVES[index], index, size, proof[:-1], top)


@pytest.mark.parametrize("new", range(1, MAX + 1))
def test_every_consistency_proof_equals_the_reference_and_verifies(new: int) -> None:
    new_root = reference.mth(DATA[:new])
    for old in range(1, new + 1):
        old_root = reference.mth(DATA[:old])
        proof = consistency_proof(old, new, _leaf_at)
        assert proof == reference.proof(old, DATA[:new])
        assert consistency_proof_from_nodes(old, new, _node_at) == proof
        assert verify_consistency(old, new, old_root, new_root, proof)
        wrong_old = new_root if old != new else EMPTY_ROOT
        assert not verify_consistency(old, new, wrong_old, new_root, proof)
        if proof:
            assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
            assert not verify_consistency(old, new, old_root, new_root, [*proof, old_root])


def test_the_empty_tree_is_consistent_with_every_tree() -> None:
    assert consistency_proof(0, 5, _leaf_at) == []
    assert verify_consistency(0, 5, EMPTY_ROOT, root(LEAVES[:5]), [])
    assert not verify_consistency(0, 5, LEAVES[0], root(LEAVES[:5]), [])
    assert not verify_consistency(0, 5, EMPTY_ROOT, root(LEAVES[:5]), [LEAVES[0]])


def test_a_tree_is_consistent_with_itself_only_by_an_empty_proof() -> None:
    top = root(LEAVES[:9])
    assert verify_consistency(9, 9, top, top, [])
    assert not verify_consistency(9, 9, top, top, [top])
    assert not verify_consistency(9, 9, top, LEAVES[0], [])


def test_a_tree_does_not_shrink() -> None:
    assert not verify_consistency(5, 4, root(LEAVES[:5]), root(LEAVES[:4]), [LEAVES[4]])
    with pytest.raises(AuditError):
        consistency_spans(5, 4)


@pytest.mark.parametrize(
    ("index", "size"), [(-1, 4), (4, 4), (0, 0)], ids=["negative", "past-end", "empty"]
)
def test_inclusion_outside_the_tree_raises(index: int, size: int) -> None:
    with pytest.raises(AuditError):
        inclusion_spans(index, size)
    assert not verify_inclusion(LEAVES[0], index, size, [], EMPTY_ROOT)


def test_verifiers_refuse_malformed_hashes() -> None:
    top = root(LEAVES[:2])
    proof = inclusion_proof(0, 2, _leaf_at)
    assert verify_inclusion(LEAVES[0], 0, 2, proof, top)
    assert not verify_inclusion(LEAVES[0][:31], 0, 2, proof, top)
    assert not verify_inclusion(LEAVES[0], 0, 2, [proof[0] + b"\x00"], top)
    assert not verify_inclusion(LEAVES[0], 0, 2, proof, top[:16])
    old, new = root(LEAVES[:1]), top
    assert verify_consistency(1, 2, old, new, consistency_proof(1, 2, _leaf_at))
    assert not verify_consistency(1, 2, old, new, [b"short"])
    assert not verify_consistency(1, 2, old[:5], new, consistency_proof(1, 2, _leaf_at))
    assert not verify_consistency(1, 2, old, new, [])


def test_spans_are_nodes_of_the_tree() -> None:
    # Every span in every proof is made of aligned perfect subtrees (so span_root can read it).
    for size in range(1, MAX + 1):
        for index in range(size):
            for start, end in inclusion_spans(index, size):
                assert span_root(start, end, _node_at) == subtree_root(start, end, _leaf_at)
        for old in range(1, size + 1):
            for start, end in consistency_spans(old, size):
                assert span_root(start, end, _node_at) == subtree_root(start, end, _leaf_at)


def test_span_root_refuses_unaligned_spans() -> None:
    with pytest.raises(AuditError):
        span_root(1, 3, _node_at)
    assert subtree_root(1, 3, _leaf_at) == reference.mth(DATA[1:3])


def test_subtree_root_of_any_range_is_the_mth_of_that_slice() -> None:
    for start in range(0, 20):
        for end in range(start, 40):
            assert subtree_root(start, end, _leaf_at) == reference.mth(DATA[start:end])
    with pytest.raises(AuditError):
        subtree_root(5, 4, _leaf_at)


def test_wide_subtrees_are_hashed_in_blocks_the_same_way() -> None:
    # Past 4096 leaves the perfect subtrees are hashed block by block through an accumulator.
    many = [leaf_hash(i.to_bytes(4, "big")) for i in range(3 * 4096 + 5)]
    levels = node_levels(many)
    assert root(many) == _fold_levels(levels, len(many))
    acc = MerkleAccumulator()
    acc.extend(many)
    assert acc.root() == root(many)


def _fold_levels(levels: list[list[bytes]], size: int) -> bytes:
    return span_root(0, size, lambda level, index: levels[level][index])


def test_compact_range_tiles_the_range_with_aligned_perfect_subtrees() -> None:
    for start in range(0, 40):
        for end in range(start, 80):
            nodes = compact_range(start, end)
            position = start
            for level, index in nodes:
                assert index << level == position
                position += 1 << level
            assert position == end
            # No two neighbours could merge into one aligned subtree.
            for (a_level, a_index), (b_level, b_index) in itertools.pairwise(nodes):
                assert not (a_level == b_level and a_index % 2 == 0 and b_index == a_index + 1)
    assert compact_range(0, 13) == [(3, 0), (2, 2), (0, 12)]


def test_node_levels_hold_every_perfect_node() -> None:
    for level, row in enumerate(LEVELS):
        assert len(row) == MAX >> level
        for index, value in enumerate(row):
            start = index << level
            assert value == reference.mth(DATA[start : start + (1 << level)])


# The accumulator -----------------------------------------------------------------------
def test_the_accumulator_root_equals_the_tree_root_at_every_size() -> None:
    acc = MerkleAccumulator()
    assert acc.root() == EMPTY_ROOT
    for size, leaf in enumerate(LEAVES, start=1):
        acc.append(leaf)
        assert acc.size == size
        assert acc.root() == reference.mth(DATA[:size])
        assert len(acc.frontier()) == size.bit_count()


def test_append_nodes_reports_each_perfect_node_once() -> None:
    acc = MerkleAccumulator()
    seen: dict[tuple[int, int], bytes] = {}
    for leaf in LEAVES:
        for node in acc.append_nodes(leaf):
            assert isinstance(node, Node)
            assert (node.level, node.index) not in seen
            seen[(node.level, node.index)] = node.hash
    expected = {
        (level, index): value for level, row in enumerate(LEVELS) for index, value in enumerate(row)
    }
    assert seen == expected
    assert acc.root() == root(LEAVES)


def test_the_state_round_trips_and_continues() -> None:
    for cut in range(MAX + 1):
        first = MerkleAccumulator()
        first.extend(LEAVES[:cut])
        state = first.to_bytes()
        assert len(state) == 9 + 32 * cut.bit_count()
        second = MerkleAccumulator.from_bytes(state)
        assert second.size == cut
        assert second.root() == first.root()
        second.extend(LEAVES[cut:])
        assert second.root() == root(LEAVES)
        third = MerkleAccumulator.from_nodes(cut, _node_at)
        assert third.frontier() == first.frontier()


def test_copy_forks_the_state() -> None:
    acc = MerkleAccumulator()
    acc.extend(LEAVES[:5])
    twin = acc.copy()
    twin.append(LEAVES[5])
    assert acc.size == 5
    assert acc.root() == root(LEAVES[:5])
    assert twin.root() == root(LEAVES[:6])


def test_append_subtree_equals_appending_its_leaves() -> None:
    for start in range(0, 30):
        for end in range(start, 70):
            acc = MerkleAccumulator()
            acc.extend(LEAVES[:start])
            for level, index in compact_range(start, end):
                acc.append_subtree(level, _node_at(level, index))
            assert acc.size == end
            assert acc.root() == root(LEAVES[:end])


def test_append_subtree_refuses_an_unaligned_subtree() -> None:
    acc = MerkleAccumulator()
    acc.append(LEAVES[0])
    with pytest.raises(AuditError):
        acc.append_subtree(1, _node_at(1, 0))
    with pytest.raises(AuditError):
        acc.append_subtree(0, b"short")


@pytest.mark.parametrize(
    "state",
    [
        b"",
        b"\x02" + (1).to_bytes(8, "big") + bytes(32),
        b"\x01" + (3).to_bytes(8, "big") + bytes(32),
        b"\x01" + (1).to_bytes(8, "big") + bytes(33),
        b"\x01" + (0).to_bytes(8, "big") + bytes(32),
    ],
    ids=["empty", "version", "too-few", "too-long", "extra"],
)
def test_malformed_states_raise(state: bytes) -> None:
    with pytest.raises(AuditError):
        MerkleAccumulator.from_bytes(state)


def test_appending_a_malformed_leaf_raises() -> None:
    acc = MerkleAccumulator()
    with pytest.raises(AuditError):
        acc.append(b"\x00" * 31)
    with pytest.raises(AuditError):
        acc.append_nodes(b"\x00" * 33)
    with pytest.raises(AuditError):
        MerkleAccumulator.from_frontier(3, [bytes(32)])
