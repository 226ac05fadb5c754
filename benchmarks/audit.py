"""Benchmark: the audit log's Merkle core at a million leaves.

Prints, for ``--leaves`` leaf hashes held in memory:

* leaf hashing (µs per ``leaf_hash``) and accumulator appends (µs per ``append``), plus
  ``append_nodes`` (what a store would call, reporting the perfect nodes to persist);
* one inclusion proof and one consistency proof at full size, computed from the leaf hashes
  alone (``leaf_at``: O(n) hashing) and from a node table (``node_at``: O(log n) reads), with
  the number of node reads; every proof is verified and the two ways must agree;
* ``verify_log`` over ``--events`` audit events (canonical JSON and all), plain and with a node
  oracle.

    .venv/bin/python benchmarks/audit.py [--leaves 1000000] [--events 100000] [--seed 7]

Not a test: it asserts only that the proofs verify, and reports.
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from collections.abc import Sequence

from exchange.audit.events import AuditEvent
from exchange.audit.heads import TreeHead
from exchange.audit.merkle import (
    MerkleAccumulator,
    consistency_proof,
    consistency_proof_from_nodes,
    inclusion_proof,
    inclusion_proof_from_nodes,
    leaf_hash,
    node_levels,
    verify_consistency,
    verify_inclusion,
)
from exchange.audit.verify import verify_log


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


def _us_each(seconds: float, count: int) -> str:
    return f"{seconds / max(count, 1) * 1e6:9.3f} µs"


def _merkle(count: int, rng: random.Random) -> None:
    started = time.perf_counter()
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(count)]
    hashed = time.perf_counter() - started
    print(f"{'leaf_hash':<44}{_us_each(hashed, count)} per leaf")

    acc = MerkleAccumulator()
    started = time.perf_counter()
    for leaf in leaves:
        acc.append(leaf)
    appended = time.perf_counter() - started
    new_root = acc.root()
    print(f"{'MerkleAccumulator.append':<44}{_us_each(appended, count)} per append")

    nodes = 0
    started = time.perf_counter()
    reporter = MerkleAccumulator()
    for leaf in leaves:
        nodes += len(reporter.append_nodes(leaf))
    reported = time.perf_counter() - started
    print(
        f"{'MerkleAccumulator.append_nodes':<44}{_us_each(reported, count)} per append"
        f"  ({nodes:,} nodes reported)"
    )
    state = acc.to_bytes()
    print(f"{'accumulator state':<44}{len(state):9d} bytes")

    index = rng.randrange(count)
    old = rng.randrange(1, count)
    old_acc = MerkleAccumulator()
    old_acc.extend(leaves[:old])
    old_root = old_acc.root()

    started = time.perf_counter()
    proof = inclusion_proof(index, count, leaves.__getitem__)
    took = time.perf_counter() - started
    assert verify_inclusion(leaves[index], index, count, proof, new_root)
    print(
        f"{f'inclusion proof, leaf {index:,}, from leaves':<44}{_ms(took)}  ({len(proof)} hashes)"
    )

    started = time.perf_counter()
    cproof = consistency_proof(old, count, leaves.__getitem__)
    took = time.perf_counter() - started
    assert verify_consistency(old, count, old_root, new_root, cproof)
    print(
        f"{f'consistency proof, {old:,} -> {count:,}, from leaves':<44}{_ms(took)}"
        f"  ({len(cproof)} hashes)"
    )

    started = time.perf_counter()
    levels = node_levels(leaves)
    took = time.perf_counter() - started
    print(
        f"{'node table (every perfect node)':<44}{_ms(took)}"
        f"  ({sum(len(row) for row in levels):,} nodes)"
    )

    reads = 0

    def node_at(level: int, position: int) -> bytes:
        nonlocal reads
        reads += 1
        return levels[level][position]

    started = time.perf_counter()
    fast = inclusion_proof_from_nodes(index, count, node_at)
    took = time.perf_counter() - started
    assert fast == proof
    print(f"{'inclusion proof from the node table':<44}{_ms(took)}  ({reads} node reads)")
    reads = 0
    started = time.perf_counter()
    cfast = consistency_proof_from_nodes(old, count, node_at)
    took = time.perf_counter() - started
    assert cfast == cproof
    print(f"{'consistency proof from the node table':<44}{_ms(took)}  ({reads} node reads)")

    gc.collect()
    started = time.perf_counter()
    for _ in range(1000):
        verify_inclusion(leaves[index], index, count, proof, new_root)
    took = time.perf_counter() - started
    print(f"{'verify_inclusion':<44}{_us_each(took, 1000)} per proof")
    started = time.perf_counter()
    for _ in range(1000):
        verify_consistency(old, count, old_root, new_root, cproof)
    took = time.perf_counter() - started
    print(f"{'verify_consistency':<44}{_us_each(took, 1000)} per proof")


def _events(count: int) -> None:
    events = [
        AuditEvent(
            seq=i,
            at=f"2025-03-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000000Z",
            kind="decision",
            actor=f"account-{i % 17}",
            subject=f"indicator--{i:036d}",
            data={"collection": "fr-national", "verdict": "shared", "rules": ["R1", "R7"]},
        )
        for i in range(count)
    ]
    started = time.perf_counter()
    stored = [e.canonical_bytes() for e in events]
    events = [AuditEvent.from_canonical(text) for text in stored]
    took = time.perf_counter() - started
    print(f"{'AuditEvent.from_canonical (parse + JCS)':<44}{_us_each(took, count)} per event")
    leaves = [e.leaf() for e in events]
    acc = MerkleAccumulator()
    acc.extend(leaves)
    head = TreeHead.of(count, acc.root(), "2025-03-02T00:00:00Z")
    levels = node_levels(leaves)

    started = time.perf_counter()
    plain = verify_log(events, head)
    took = time.perf_counter() - started
    assert plain.ok
    print(f"{f'verify_log, {count:,} events, plain':<44}{_us_each(took, count)} per event")

    reads = 0

    def node_at(level: int, position: int) -> bytes:
        nonlocal reads
        reads += 1
        return levels[level][position]

    events[count // 2] = AuditEvent(
        seq=count // 2, at=events[0].at, kind="decision", actor="forger", subject="x"
    )
    started = time.perf_counter()
    located = verify_log(events, head, trusted_nodes=node_at)
    took = time.perf_counter() - started
    assert located.first_bad == count // 2
    print(
        f"{'verify_log, one forged event, node oracle':<44}{_us_each(took, count)} per event"
        f"  ({reads} node reads, first bad {located.first_bad:,})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    print(f"audit Merkle core, {args.leaves:,} leaves")
    _merkle(args.leaves, rng)
    if args.events:
        _events(args.events)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
