"""What only the PostgreSQL store has: several processes (nodes) on one database, a read
replica for pages, and clear errors when the database is away."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from exchange.errors import InvalidRequest, StoreError
from exchange.store.models import CollectionKind, ObjectQuery
from exchange.store.postgres import PostgresStore, open_postgres
from tests.support.postgres import fresh_schema
from tests.unit.store.builders import account, collection, ids, indicator


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_schema() as made:
        open_postgres(made, create=True).close()
        yield made


def _node(url: str, **kw: str) -> PostgresStore:
    return open_postgres(url, create=False, pool_size=3, **kw)


def test_two_nodes_writing_at_once_give_one_strictly_increasing_order(url: str) -> None:
    """Each node's transactions take the store's write lock, so date_added grows with the
    placement sequence whichever node commits: a reader polling with added_after never skips."""
    nodes = [_node(url), _node(url)]
    shared = nodes[0].collection(collection(nodes[0]).id)
    assert shared is not None
    errors: list[BaseException] = []

    def write(store: PostgresStore) -> None:
        try:
            for _ in range(15):
                with store.transaction() as tx:
                    tx.place([shared], [indicator(), indicator()], target=shared)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(node,)) for node in nodes for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    rows = nodes[1].page(shared, ObjectQuery(), after=None, limit=1000, with_bodies=False).rows
    assert len(rows) == 4 * 15 * 2
    added = [row.position.date_added for row in rows]
    seqs = [row.position.seq for row in rows]
    assert added == sorted(added)
    assert len(set(added)) == len(added)
    assert seqs == sorted(seqs)
    for node in nodes:
        node.close()


def test_pages_come_from_the_replica_and_everything_else_from_the_primary() -> None:
    """A node with a replica URL reads object pages there; statuses, accounts and writes stay
    on the primary. (Two schemas stand in for primary and replica: their contents differ, so
    the answer shows which one was read.)"""
    with fresh_schema() as primary_url, fresh_schema() as replica_url:
        primary = open_postgres(primary_url, create=True)
        replica = open_postgres(replica_url, create=True)
        for store, name in ((primary, "primary"), (replica, "replica")):
            store.add_collection(collection_id="c", kind=CollectionKind.SHARED, title=name)
        on_primary, on_replica = indicator(), indicator()
        for store, obj in ((primary, on_primary), (replica, on_replica)):
            target = store.collection("c")
            assert target is not None
            with store.transaction() as tx:
                tx.place([target], [obj], target=target)
        node = _node(primary_url, replica_url=replica_url)
        try:
            target = node.collection("c")
            assert target is not None
            assert target.title == "primary"
            assert ids(node, target) == [on_replica.stix_id]
            assert node.holds(target, on_replica.stix_id)
            with node.transaction():  # inside a write transaction: the primary, always
                assert ids(node, target) == [on_primary.stix_id]
        finally:
            for store in (node, primary, replica):
                store.close()


def test_a_transaction_cannot_open_inside_another_on_the_same_thread(url: str) -> None:
    node = _node(url)
    try:
        with (
            node.transaction(),
            pytest.raises(StoreError, match="already open"),
            node.transaction(),
        ):
            pass
    finally:
        node.close()


def test_an_unreachable_database_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_postgres("postgresql://hub:s3cret-pw@127.0.0.1:1/exchange", create=False)
    assert "s3cret-pw" not in str(raised.value)
    assert "127.0.0.1:1/exchange" in str(raised.value)


def test_a_schema_that_is_not_migrated_says_what_to_run() -> None:
    with fresh_schema() as empty, pytest.raises(StoreError, match="exchange db upgrade"):
        open_postgres(empty, create=False)


def test_stale_planner_statistics_are_refreshed_once(url: str) -> None:
    """After a bulk load the hub ANALYZEs what changed (autovacuum may be off or late), and
    not again until the tables change much more."""
    node = _node(url)
    try:
        shared = collection(node)
        with node.transaction() as tx:
            tx.place([shared], [indicator() for _ in range(1200)], target=shared)
        refreshed: list[str] = []
        deadline = time.monotonic() + 10  # activity statistics reach the server within ~1 s
        while "placements" not in refreshed and time.monotonic() < deadline:
            refreshed += node.refresh_statistics()
            time.sleep(0.2)
        assert {"placements", "objects"} <= set(refreshed)
        analysed = node._connection().execute(
            "SELECT last_analyze FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname = 'placements'"
        )
        assert analysed.fetchone()[0] is not None
        assert "placements" not in node.refresh_statistics()
    finally:
        node.close()


def test_a_value_postgresql_cannot_hold_is_a_client_error(url: str) -> None:
    """Text with a NUL character (SQLite keeps it; PostgreSQL's text cannot): a 400, not a 500,
    and nothing of the transaction is kept."""
    node = _node(url)
    try:
        with pytest.raises(InvalidRequest, match="NUL"):
            node.add_account(replace(account("nul-in-name"), display_name="x\x00y"))
        assert node.account_by_username("nul-in-name") is None
    finally:
        node.close()
