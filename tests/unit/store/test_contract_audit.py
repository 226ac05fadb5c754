"""The audit log's part of the store contract: appends inside the write transaction, nodes,
state across reopen, partner reads and signed heads."""

from __future__ import annotations

import pytest

from exchange.audit.errors import AuditError
from exchange.audit.events import AuditEvent
from exchange.audit.heads import HeadSigner, SignedTreeHead, TreeHead
from exchange.audit.merkle import MerkleAccumulator, node_hash, root
from exchange.store.protocol import Store
from tests.unit.store.conftest import Opener

AT = "2026-01-01T00:00:00.000000Z"


def _append(store: Store, *partners: str | None) -> int:
    with store.transaction() as tx:
        first = tx.audit_size()
        rows = []
        for offset, partner in enumerate(partners):
            event = AuditEvent(first + offset, AT, "submission", "p", "s", {"n": offset})
            rows.append(("submission", AT, partner, event.canonical_bytes(), event.leaf()))
        assert tx.append_events(rows) == first
        assert tx.audit_size() == first + len(partners)
    return first


def _leaves(store: Store) -> list[bytes]:
    return [
        AuditEvent.from_canonical(body).leaf()
        for _, body in store.audit_events(0, store.audit_size())
    ]


def test_an_empty_log(store: Store) -> None:
    assert store.audit_size() == 0
    assert store.audit_events(0, 10) == []
    assert store.audit_leaf(0) is None
    assert store.latest_tree_head() is None
    assert store.tree_heads() == []
    with pytest.raises(AuditError):
        store.audit_node(0, 0)


def test_appends_number_events_in_commit_order_and_write_nodes(store: Store) -> None:
    assert _append(store, "a", None) == 0
    assert _append(store, "b", "a", None) == 2
    assert store.audit_size() == 5
    events = store.audit_events(0, 5)
    assert [seq for seq, _ in events] == [0, 1, 2, 3, 4]
    assert [AuditEvent.from_canonical(body).seq for _, body in events] == [0, 1, 2, 3, 4]
    leaves = _leaves(store)
    assert [store.audit_leaf(i) for i in range(5)] == leaves
    assert [store.audit_node(0, i) for i in range(5)] == leaves
    assert store.audit_node(1, 0) == node_hash(leaves[0], leaves[1])
    assert store.audit_node(2, 0) == root(leaves[:4])
    with pytest.raises(AuditError):
        store.audit_node(1, 2)  # leaves 4 and 5: not complete yet
    assert MerkleAccumulator.from_nodes(5, store.audit_node).root() == root(leaves)
    assert store.audit_events(1, 3) == events[1:3]


def test_a_rolled_back_transaction_appends_nothing(store: Store) -> None:
    _append(store, None)
    event = AuditEvent(1, AT, "read", "a", "b", {})

    def append_then_fail() -> None:
        with store.transaction() as tx:
            tx.append_events([("read", AT, None, event.canonical_bytes(), event.leaf())])
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        append_then_fail()
    assert store.audit_size() == 1
    assert _append(store, None) == 1


def test_events_for_one_partner(store: Store) -> None:
    _append(store, "a", "b", "a", None, "a")
    assert [seq for seq, _ in store.audit_events_for_partner("a", -1, 10)] == [0, 2, 4]
    assert [seq for seq, _ in store.audit_events_for_partner("a", 0, 1)] == [2]
    assert store.audit_events_for_partner("c", -1, 10) == []


def test_the_log_continues_after_reopening(open_store: Opener) -> None:
    store = open_store(True)
    _append(store, None, None, None)
    store.close()
    again = open_store(False)
    try:
        assert _append(again, None, None) == 3
        assert MerkleAccumulator.from_nodes(5, again.audit_node).root() == root(_leaves(again))
    finally:
        again.close()


def test_signed_heads_are_kept_one_per_size(store: Store) -> None:
    signer = HeadSigner.generate()

    def signed(size: int, stamp: str) -> SignedTreeHead:
        head = TreeHead(size, "ab" * 32, stamp)
        return SignedTreeHead(head, signer.key_id, signer.sign(head))

    first, second = signed(1, AT), signed(4, AT)
    store.save_tree_head(second)
    store.save_tree_head(first)
    store.save_tree_head(signed(4, "2027-01-01T00:00:00Z"))  # same size: ignored
    assert store.tree_heads() == [first, second]
    assert store.latest_tree_head() == second
