"""``verify_log``: an intact log passes; every kind of tampering is caught and located."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from exchange.audit.errors import AuditError
from exchange.audit.events import AuditEvent
from exchange.audit.heads import TreeHead
from exchange.audit.merkle import NodeAt, leaf_hash, node_levels, root
from exchange.audit.verify import Verdict, leaves_oracle, verify_log

SIZE = 300
KINDS = ["submission", "decision", "placement", "read", "agreement", "key", "account", "partner"]


def _event(seq: int, note: str = "") -> AuditEvent:
    return AuditEvent(
        seq=seq,
        at=f"2025-03-01T12:{seq // 60 % 60:02d}:{seq % 60:02d}Z",
        kind=KINDS[seq % len(KINDS)],
        actor=f"account-{seq % 7}",
        subject=f"indicator--{seq}",
        data={"n": seq, "note": note},
    )


LOG = [_event(i) for i in range(SIZE)]
LEAVES = [e.leaf() for e in LOG]
LEVELS = node_levels(LEAVES)
HEAD = TreeHead.of(SIZE, root(LEAVES), "2025-03-01T13:00:00Z")


def _nodes(level: int, index: int) -> bytes:
    return LEVELS[level][index]


def _renumber(events: list[AuditEvent]) -> list[AuditEvent]:
    return [replace(e, seq=i) for i, e in enumerate(events)]


def _modified(at: int) -> list[AuditEvent]:
    log = list(LOG)
    log[at] = replace(log[at], data={"n": at, "note": "edited"})
    return log


def _deleted(at: int) -> list[AuditEvent]:
    return LOG[:at] + LOG[at + 1 :]


def _inserted(at: int) -> list[AuditEvent]:
    return [*LOG[:at], _event(at, "forged"), *LOG[at:]]


def _swapped(at: int) -> list[AuditEvent]:
    log = list(LOG)
    log[at], log[at + 1] = log[at + 1], log[at]
    return log


Aid = Callable[[list[AuditEvent]], Verdict]
AIDS: dict[str, Aid] = {
    "expected-leaves": lambda log: verify_log(log, HEAD, expected_leaves=LEAVES),
    "nodes-block-0": lambda log: verify_log(log, HEAD, trusted_nodes=_nodes, block_level=0),
    "nodes-block-3": lambda log: verify_log(log, HEAD, trusted_nodes=_nodes, block_level=3),
    "nodes-default": lambda log: verify_log(log, HEAD, trusted_nodes=_nodes),
    "nodes-block-12": lambda log: verify_log(log, HEAD, trusted_nodes=_nodes, block_level=12),
}
TAMPERINGS: dict[str, Callable[[int], list[AuditEvent]]] = {
    "modified": _modified,
    "deleted": _deleted,
    "inserted": _inserted,
    "swapped": _swapped,
    "deleted-renumbered": lambda at: _renumber(_deleted(at)),
    "inserted-renumbered": lambda at: _renumber(_inserted(at)),
    "swapped-renumbered": lambda at: _renumber(_swapped(at)),
}
PLACES = [0, 1, 7, 8, 127, 128, 255, 256, 298]


def test_an_intact_log_passes_with_or_without_aids() -> None:
    plain = verify_log(LOG, HEAD)
    assert plain == Verdict(True, SIZE, None, plain.reason, HEAD.root_bytes)
    for check in AIDS.values():
        verdict = check(LOG)
        assert verdict.ok, verdict.reason
        assert verdict.first_bad is None


def test_the_log_may_have_grown_since_the_head() -> None:
    grown = [*LOG, _event(SIZE), _event(SIZE + 1)]
    verdict = verify_log(grown, HEAD, trusted_nodes=_nodes)
    assert verdict.ok
    assert verdict.checked == SIZE + 2
    assert verdict.root == root([e.leaf() for e in grown])


def test_an_empty_head_trusts_any_log_with_sound_seqs() -> None:
    empty = TreeHead.of(0, root([]), "2025-03-01T13:00:00Z")
    assert verify_log(LOG[:5], empty).ok
    assert verify_log([], empty).ok
    assert not verify_log(_deleted(2)[:5], empty).ok


@pytest.mark.parametrize("at", PLACES)
@pytest.mark.parametrize("tamper", sorted(TAMPERINGS))
@pytest.mark.parametrize("aid", sorted(AIDS))
def test_tampering_is_located_at_the_first_bad_event(aid: str, tamper: str, at: int) -> None:
    verdict = AIDS[aid](TAMPERINGS[tamper](at))
    assert not verdict.ok
    assert verdict.first_bad == at, verdict.reason


@pytest.mark.parametrize("at", PLACES)
def test_a_modified_event_without_aids_fails_without_a_name(at: int) -> None:
    verdict = verify_log(_modified(at), HEAD)
    assert not verdict.ok
    assert verdict.first_bad is None
    assert "trusted root" in verdict.reason


@pytest.mark.parametrize("at", PLACES)
@pytest.mark.parametrize("tamper", [_deleted, _swapped], ids=["deleted", "swapped"])
def test_seq_breaks_name_the_event_even_without_aids(
    tamper: Callable[[int], list[AuditEvent]], at: int
) -> None:
    verdict = verify_log(tamper(at), HEAD)
    assert not verdict.ok
    assert verdict.first_bad == at
    assert "seq" in verdict.reason


@pytest.mark.parametrize("at", PLACES)
def test_an_inserted_duplicate_is_caught_by_seq_one_event_late_without_aids(at: int) -> None:
    # The forged event carries the seq of the place it took, so the first event that is
    # certainly misplaced is the next one; only the trusted leaves or nodes name the forgery.
    verdict = verify_log(_inserted(at), HEAD)
    assert not verdict.ok
    assert verdict.first_bad == at + 1
    assert "seq" in verdict.reason


def test_a_truncated_log_names_the_first_missing_event() -> None:
    for aid in ("expected-leaves", "nodes-default", "nodes-block-3"):
        verdict = AIDS[aid](LOG[:250])
        assert not verdict.ok
        assert verdict.first_bad == 250
        assert "250 events" in verdict.reason
    plain = verify_log(LOG[:250], HEAD)
    assert not plain.ok
    assert plain.first_bad is None


def test_a_truncated_and_modified_log_names_the_modification() -> None:
    verdict = verify_log(_modified(30)[:250], HEAD, trusted_nodes=_nodes)
    assert verdict.first_bad == 30


def test_a_wrong_trusted_head_fails() -> None:
    other = TreeHead.of(SIZE, root(LEAVES[:-1]), HEAD.timestamp)
    verdict = verify_log(LOG, other)
    assert not verdict.ok
    # Leaves or nodes that do not match the head cannot name anything.
    verdict = verify_log(LOG, other, expected_leaves=LEAVES)
    assert not verdict.ok
    assert verdict.first_bad is None
    assert "do not hash to the trusted root" in verdict.reason


def _lying(bad_level: int, bad_index: int) -> NodeAt:
    def node_at(level: int, index: int) -> bytes:
        if (level, index) == (bad_level, bad_index):
            return leaf_hash(b"lie")
        return LEVELS[level][index]

    return node_at


@pytest.mark.parametrize(("level", "index"), [(0, 5), (3, 1), (8, 0), (2, 74)])
def test_a_lying_oracle_cannot_name_an_innocent_event(level: int, index: int) -> None:
    verdict = verify_log(_modified(200), HEAD, trusted_nodes=_lying(level, index), block_level=3)
    assert not verdict.ok
    assert verdict.first_bad in (None, 200)
    intact = verify_log(LOG, HEAD, trusted_nodes=_lying(level, index), block_level=3)
    assert intact.ok  # the root decides; the oracle only locates


def test_a_lying_oracle_during_bisection_is_noticed() -> None:
    # The modified event is in block 1 (leaves 8..15) at level 3; lie about one of its children.
    verdict = verify_log(_modified(9), HEAD, trusted_nodes=_lying(1, 4), block_level=3)
    assert not verdict.ok
    assert verdict.first_bad is None
    assert "cannot name" in verdict.reason


def test_a_wrong_expected_leaf_cannot_name_an_innocent_event() -> None:
    forged = list(LEAVES)
    forged[10] = leaf_hash(b"forged")
    verdict = verify_log(LOG, HEAD, expected_leaves=forged)
    assert verdict.ok
    verdict = verify_log(_modified(50), HEAD, expected_leaves=forged)
    assert not verdict.ok
    assert verdict.first_bad is None


def test_leaves_oracle_answers_every_level() -> None:
    oracle = leaves_oracle(LEAVES)
    for level, row in enumerate(LEVELS):
        for index in range(0, len(row), max(1, len(row) // 5)):
            assert oracle(level, index) == row[index]
    with pytest.raises(AuditError):
        oracle(9, 1)


def test_bad_arguments_raise() -> None:
    with pytest.raises(AuditError):
        verify_log(LOG, HEAD, expected_leaves=LEAVES, trusted_nodes=_nodes)
    with pytest.raises(AuditError):
        verify_log(LOG, HEAD, expected_leaves=LEAVES[:10])
    with pytest.raises(AuditError):
        verify_log(LOG, HEAD, trusted_nodes=_nodes, block_level=-1)


def test_events_are_read_once_from_any_iterable() -> None:
    verdict = verify_log(iter(LOG), HEAD, trusted_nodes=_nodes)
    assert verdict.ok
    assert verdict.checked == SIZE
