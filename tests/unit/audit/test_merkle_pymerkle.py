"""Differential tests against ``pymerkle`` (an independent Merkle tree library).

pymerkle's default tree (``InmemoryTree()``: SHA-256, "security" on) hashes exactly as RFC 9162
section 2.1.1 does: leaves ``SHA-256(0x00 || d)``, nodes ``SHA-256(0x01 || l || r)``, the empty
tree ``SHA-256("")``, split at the largest power of two below ``n``. So its roots must equal
ours bit for bit, for every size.

Its proofs are serialised differently, and the tests say exactly how:

- inclusion: pymerkle's path is the leaf hash followed by RFC 9162's ``PATH`` (section
  2.1.3.1); its indices count from 1;
- consistency: pymerkle does *not* produce RFC 9162 ``PROOF(m, D[n])`` (section 2.1.4.1). It
  always includes a base hash and, when ``m`` is the left split point, descends into the right
  subtree instead, so its path is longer and differently ordered. What must agree is the
  meaning: its proofs verify (with its verifier) against our roots, and ours verify (with
  ours) against its roots. The exact RFC 9162 byte format is checked against the naive
  reference in ``test_merkle.py`` and the CT vectors instead.
"""

from __future__ import annotations

import random

import pytest
from pymerkle import InmemoryTree, InvalidProof  # type: ignore[import-untyped]
from pymerkle import verify_consistency as pm_verify_consistency
from pymerkle import verify_inclusion as pm_verify_inclusion

from exchange.audit.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

MAX = 70
DATA = [f"pymerkle {i}".encode() for i in range(MAX)]
LEAVES = [leaf_hash(d) for d in DATA]


def _leaf_at(i: int) -> bytes:
    return LEAVES[i]


@pytest.fixture(scope="module")
def tree() -> InmemoryTree:
    made = InmemoryTree()  # the default: sha256, security (prefixes) on
    for data in DATA:
        made.append_entry(data)
    return made


def test_the_default_pymerkle_tree_uses_rfc9162_hashing(tree: InmemoryTree) -> None:
    assert tree.algorithm == "sha256"
    assert tree.security
    assert tree.hash_empty() == EMPTY_ROOT
    assert tree.hash_buff(b"x") == leaf_hash(b"x")
    assert [tree.get_leaf(i + 1) for i in range(MAX)] == LEAVES


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_roots_agree(tree: InmemoryTree, size: int) -> None:
    assert tree.get_root(size) == root(LEAVES[:size])


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_inclusion_paths_agree(tree: InmemoryTree, size: int) -> None:
    top = root(LEAVES[:size])
    for index in range(size):
        theirs = tree.prove_inclusion(index + 1, size)
        ours = inclusion_proof(index, size, _leaf_at)
        assert theirs.path == [LEAVES[index], *ours]
        pm_verify_inclusion(LEAVES[index], top, theirs, index=index + 1, size=size)
        assert verify_inclusion(LEAVES[index], index, size, theirs.path[1:], top)


@pytest.mark.parametrize("size", range(1, MAX + 1))
def test_consistency_proofs_agree_in_meaning(tree: InmemoryTree, size: int) -> None:
    new_root = tree.get_root(size)
    for old in range(1, size + 1):
        old_root = tree.get_root(old)
        theirs = tree.prove_consistency(old, size)
        # Their proof, their verifier, our roots.
        pm_verify_consistency(
            root(LEAVES[:old]), root(LEAVES[:size]), theirs, prior_size=old, later_size=size
        )
        # Our proof, our verifier, their roots.
        ours = consistency_proof(old, size, _leaf_at)
        assert verify_consistency(old, size, old_root, new_root, ours)
        # The old root their proof derives is ours.
        assert theirs.retrieve_prior_state() == root(LEAVES[:old])


def test_random_pairs_on_a_larger_tree() -> None:
    rng = random.Random(9162)
    count = 700
    data = [rng.randbytes(rng.randrange(0, 40)) for _ in range(count)]
    leaves = [leaf_hash(d) for d in data]
    big = InmemoryTree()
    for d in data:
        big.append_entry(d)
    for _ in range(150):
        new = rng.randrange(1, count + 1)
        old = rng.randrange(1, new + 1)
        index = rng.randrange(new)
        new_root = root(leaves[:new])
        assert big.get_root(new) == new_root
        assert big.prove_inclusion(index + 1, new).path[1:] == inclusion_proof(
            index, new, leaves.__getitem__
        )
        ours = consistency_proof(old, new, leaves.__getitem__)
        assert verify_consistency(old, new, big.get_root(old), new_root, ours)
        pm_verify_consistency(root(leaves[:old]), new_root, big.prove_consistency(old, new))


def test_pymerkle_refuses_what_ours_refuses(tree: InmemoryTree) -> None:
    size, old = 37, 20
    wrong = bytearray(root(LEAVES[:old]))
    wrong[0] ^= 1
    theirs = tree.prove_consistency(old, size)
    with pytest.raises(InvalidProof):
        pm_verify_consistency(bytes(wrong), root(LEAVES[:size]), theirs)
    ours = consistency_proof(old, size, _leaf_at)
    assert not verify_consistency(old, size, bytes(wrong), root(LEAVES[:size]), ours)
