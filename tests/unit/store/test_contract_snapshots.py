"""Reads of a page see the store at one moment, whatever commits land while they run.

A page reads the collection's audiences, then the rows of those audiences. If a commit that
puts the collection's first object into a new audience and a later commit into a known audience
both land between the two reads, a page read apart would serve the later object without the
earlier one, and the client's position would pass over the earlier one for good.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from exchange.store.models import Collection, ObjectQuery, Position
from exchange.store.protocol import Store
from tests.unit.store.builders import collection, indicator
from tests.unit.store.conftest import Opener


def _commit_in_another_node(open_store: Opener, work: Callable[[Store], None]) -> None:
    def run() -> None:
        other = open_store(False)
        try:
            work(other)
        finally:
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


def _walk(store: Store, target: Collection, limit: int) -> list[str]:
    seen: list[str] = []
    after: Position | None = None
    while True:
        page = store.page(target, ObjectQuery(), after=after, limit=limit, with_bodies=False)
        seen.extend(row.stix_id for row in page.rows)
        if page.rows:
            after = page.rows[-1].position
        if not page.more:
            return seen


def test_commits_between_a_pages_reads_are_seen_whole_or_not_at_all(
    open_store: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = open_store(True)
    try:
        target, neighbour = collection(reader), collection(reader)
        first, in_new_audience, in_known_audience = indicator(), indicator(), indicator()
        with reader.transaction() as tx:
            tx.place([target], [first], target=target)

        def land_two_commits(store: Store) -> None:
            with store.transaction() as tx:  # the target's first placement in {target, neighbour}
                tx.place([target, neighbour], [in_new_audience], target=None)
            with store.transaction() as tx:  # then one in the audience {target} it already has
                tx.place([target], [in_known_audience], target=target)

        original = reader.audiences_of
        calls = 0

        def audiences_then_commits(*args: object) -> list[int]:
            nonlocal calls
            found = original(*args)  # type: ignore[arg-type]
            calls += 1
            if calls == 1:
                _commit_in_another_node(open_store, land_two_commits)
            return found

        monkeypatch.setattr(reader, "audiences_of", audiences_then_commits)
        first_page = reader.page(target, ObjectQuery(), after=None, limit=10, with_bodies=False)
        assert [row.stix_id for row in first_page.rows] == [first.stix_id]
        rest = reader.page(
            target,
            ObjectQuery(),
            after=first_page.rows[-1].position,
            limit=10,
            with_bodies=False,
        )
        assert [row.stix_id for row in rest.rows] == [
            in_new_audience.stix_id,
            in_known_audience.stix_id,
        ]
        monkeypatch.undo()
        assert _walk(reader, target, 1) == [
            first.stix_id,
            in_new_audience.stix_id,
            in_known_audience.stix_id,
        ]
    finally:
        reader.close()
