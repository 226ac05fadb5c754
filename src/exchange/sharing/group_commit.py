"""Group commit: many threads' small writes in one transaction, each caller still waiting for
its own write to be durable.

Every page an analyst or partner reads is recorded in the audit log before the page is
returned, and on its own that is one transaction, and one flush to disk, per page. When many
pages are read at once those transactions queue for the store's single writer behind each
other and behind submissions. Here the first caller to arrive leads: it takes every item queued
so far, commits them together, wakes their callers, and hands the lead to the first item that
arrived meanwhile. A caller returns only once the transaction holding its item has committed
(or raises what that commit raised), so nothing is served without its record, and under load
one commit carries many records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class _Waiter(Generic[T]):
    __slots__ = ("error", "item", "lead", "wake")

    def __init__(self, item: T) -> None:
        self.item = item
        self.wake = threading.Event()
        self.lead = False
        self.error: BaseException | None = None


class GroupCommit(Generic[T]):
    """Commit items with ``commit(items)``, several callers' items at a time."""

    def __init__(self, commit: Callable[[Sequence[T]], None]) -> None:
        self._commit = commit
        self._lock = threading.Lock()
        self._queue: list[_Waiter[T]] = []
        self._busy = False

    def submit(self, item: T) -> None:
        """Return once ``item`` is committed; raise what its commit raised."""
        mine = _Waiter(item)
        with self._lock:
            self._queue.append(mine)
            lead = not self._busy
            self._busy = True
        if not lead:
            mine.wake.wait()
            if not mine.lead:
                if mine.error is not None:
                    raise mine.error
                return
        with self._lock:
            batch, self._queue = self._queue, []
        try:
            self._commit([waiter.item for waiter in batch])
        except BaseException as exc:  # every caller of the batch gets the failure
            for waiter in batch:
                waiter.error = exc
        with self._lock:
            if self._queue:
                successor = self._queue[0]
                successor.lead = True
                successor.wake.set()
            else:
                self._busy = False
        for waiter in batch:
            if waiter is not mine:
                waiter.wake.set()
        if mine.error is not None:
            raise mine.error
