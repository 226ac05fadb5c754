"""Group commit: every caller returns only after a commit that holds its item, items are never
lost or committed twice, concurrent callers share commits, and a failed commit fails exactly
the callers whose items it held."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from exchange.sharing.group_commit import GroupCommit


class Recorder:
    def __init__(self, hold: float = 0.0, fail_on: int | None = None) -> None:
        self.batches: list[list[int]] = []
        self.committed: set[int] = set()
        self.hold = threading.Event()
        self.hold_seconds = hold
        self.fail_on = fail_on
        self.lock = threading.Lock()

    def commit(self, items: Sequence[int]) -> None:
        if self.hold_seconds:
            self.hold.wait(self.hold_seconds)
        if self.fail_on is not None and self.fail_on in items:
            raise RuntimeError(f"commit of {sorted(items)} failed")
        with self.lock:
            self.batches.append(list(items))
            self.committed.update(items)


def test_a_lone_caller_commits_its_item_before_returning() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder.commit)
    group.submit(1)
    assert recorder.batches == [[1]]
    group.submit(2)
    assert recorder.batches == [[1], [2]]


def _run_callers(group: GroupCommit[int], recorder: Recorder, count: int) -> dict[int, object]:
    outcomes: dict[int, object] = {}
    start = threading.Barrier(count)

    def call(item: int) -> None:
        start.wait()
        try:
            group.submit(item)
        except RuntimeError as exc:
            outcomes[item] = exc
            return
        # Returned: the item must already be in a finished commit.
        with recorder.lock:
            outcomes[item] = item in recorder.committed

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a caller never returned"
    return outcomes


def test_concurrent_callers_share_commits_and_lose_nothing() -> None:
    recorder = Recorder(hold=0.02)
    group = GroupCommit(recorder.commit)
    outcomes = _run_callers(group, recorder, 64)
    assert outcomes == dict.fromkeys(range(64), True)
    committed = [item for batch in recorder.batches for item in batch]
    assert sorted(committed) == list(range(64))  # each exactly once
    assert len(recorder.batches) < 64  # and some commits carried several
    assert max(len(batch) for batch in recorder.batches) > 1


def test_a_failed_commit_fails_its_callers_only() -> None:
    recorder = Recorder(hold=0.02, fail_on=5)
    group = GroupCommit(recorder.commit)
    outcomes = _run_callers(group, recorder, 40)
    failed = {item for item, outcome in outcomes.items() if isinstance(outcome, RuntimeError)}
    assert 5 in failed
    assert all(outcomes[item] is True for item in set(range(40)) - failed)
    assert recorder.committed == set(range(40)) - failed
    # The group keeps working after a failure.
    group.submit(100)
    assert 100 in recorder.committed


def test_an_error_reaches_a_lone_caller() -> None:
    group = GroupCommit(Recorder(fail_on=7).commit)
    with pytest.raises(RuntimeError, match="failed"):
        group.submit(7)
