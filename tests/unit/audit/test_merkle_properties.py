"""Property tests (hypothesis) of proofs and the accumulator."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.audit.merkle import (
    MerkleAccumulator,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    node_levels,
    root,
    verify_consistency,
    verify_inclusion,
)
from tests.unit.audit import reference

LEAVES = [leaf_hash(i.to_bytes(4, "big")) for i in range(1100)]


def _leaf_at(i: int) -> bytes:
    return LEAVES[i]


def _flip(value: bytes, position: int, mask: int) -> bytes:
    changed = bytearray(value)
    changed[position % len(changed)] ^= mask
    return bytes(changed)


masks = st.integers(min_value=1, max_value=255)


@given(data=st.data(), size=st.integers(min_value=1, max_value=1100))
def test_every_inclusion_proof_verifies_and_no_flipped_byte_does(
    data: st.DataObject, size: int
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    top = root(LEAVES[:size])
    proof = inclusion_proof(index, size, _leaf_at)
    assert verify_inclusion(LEAVES[index], index, size, proof, top)
    position = data.draw(st.integers(min_value=0, max_value=31))
    mask = data.draw(masks)
    leaf = LEAVES[index]
    assert not verify_inclusion(_flip(leaf, position, mask), index, size, proof, top)
    assert not verify_inclusion(leaf, index, size, proof, _flip(top, position, mask))
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:at], _flip(proof[at], position, mask), *proof[at + 1 :]]
        assert not verify_inclusion(leaf, index, size, bad, top)


@given(data=st.data(), new=st.integers(min_value=1, max_value=64))
def test_consistency_proofs_verify_for_every_pair_up_to_64(data: st.DataObject, new: int) -> None:
    old = data.draw(st.integers(min_value=1, max_value=new))
    old_root, new_root = root(LEAVES[:old]), root(LEAVES[:new])
    proof = consistency_proof(old, new, _leaf_at)
    assert verify_consistency(old, new, old_root, new_root, proof)
    position = data.draw(st.integers(min_value=0, max_value=31))
    mask = data.draw(masks)
    assert not verify_consistency(old, new, _flip(old_root, position, mask), new_root, proof)
    assert not verify_consistency(old, new, old_root, _flip(new_root, position, mask), proof)
    if proof:
        at = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
        bad = [*proof[:at], _flip(proof[at], position, mask), *proof[at + 1 :]]
        assert not verify_consistency(old, new, old_root, new_root, bad)


def test_consistency_for_all_pairs_up_to_64_fails_with_any_other_old_root() -> None:
    roots = [root(LEAVES[:n]) for n in range(65)]
    for new in range(1, 65):
        for old in range(1, new + 1):
            proof = consistency_proof(old, new, _leaf_at)
            assert verify_consistency(old, new, roots[old], roots[new], proof)
            for other in range(1, new + 1):
                if other != old:
                    assert not verify_consistency(old, new, roots[other], roots[new], proof)


@settings(max_examples=60)
@given(data=st.data(), new=st.integers(min_value=2, max_value=1100))
def test_node_table_proofs_equal_leaf_proofs(data: st.DataObject, new: int) -> None:
    levels = node_levels(LEAVES[:new])

    def node_at(level: int, index: int) -> bytes:
        return levels[level][index]

    old = data.draw(st.integers(min_value=1, max_value=new))
    index = data.draw(st.integers(min_value=0, max_value=new - 1))
    assert inclusion_proof_from_nodes(index, new, node_at) == inclusion_proof(index, new, _leaf_at)
    assert consistency_proof_from_nodes(old, new, node_at) == consistency_proof(old, new, _leaf_at)


@given(items=st.lists(st.binary(max_size=20), max_size=150))
def test_the_accumulator_root_equals_the_tree_root_at_every_size(items: list[bytes]) -> None:
    leaves = [leaf_hash(item) for item in items]
    acc = MerkleAccumulator()
    assert acc.root() == reference.mth([])
    for size, leaf in enumerate(leaves, start=1):
        acc.append(leaf)
        assert acc.root() == root(leaves[:size])
    assert acc.root() == reference.mth(items)


@given(
    items=st.lists(st.binary(max_size=8), max_size=120),
    cut=st.integers(min_value=0, max_value=120),
)
def test_the_accumulator_survives_serialisation_at_any_size(items: list[bytes], cut: int) -> None:
    leaves = [leaf_hash(item) for item in items]
    cut = min(cut, len(leaves))
    acc = MerkleAccumulator()
    acc.extend(leaves[:cut])
    resumed = MerkleAccumulator.from_bytes(acc.to_bytes())
    assert resumed.size == cut
    assert resumed.root() == root(leaves[:cut])
    for size in range(cut, len(leaves)):
        resumed.append(leaves[size])
        assert resumed.root() == root(leaves[: size + 1])
        assert MerkleAccumulator.from_bytes(resumed.to_bytes()).root() == resumed.root()
