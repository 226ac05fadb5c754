"""The SQLite store's per-thread connections end with their threads: a server whose worker
threads come and go must not keep a connection (and its page cache) for each one that ran."""

from __future__ import annotations

import gc
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from exchange.store.sqlite import SqliteStore


def test_a_threads_connection_closes_when_the_thread_ends(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "exchange.db")
    opened: list[object] = []

    def work() -> None:
        connection = store._connection()
        connection.execute("SELECT 1").fetchone()
        opened.append(id(connection))

    threads = [threading.Thread(target=work) for _ in range(20)]
    for thread in threads:
        thread.start()
        thread.join()
    gc.collect()
    assert len(opened) == 20
    assert len(store._connections) == 0
    mine = store._connection()  # this thread's stays open while the thread lives
    gc.collect()
    assert list(store._connections) == [mine]
    store.close()
    assert len(store._connections) == 0


# Run in another process: is the write turn free (without waiting for it)?
_PROBE = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("taken")
else:
    print("free")
"""


def _turn_is(path: Path) -> str:
    probe = [sys.executable, "-c", _PROBE, str(path)]
    return subprocess.run(
        probe, capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


def test_a_write_transaction_holds_the_turn_other_processes_wait_for(tmp_path: Path) -> None:
    """Server processes on one file queue for writes on a lock beside it, held from before
    BEGIN IMMEDIATE to after COMMIT (and again when a transaction nests in the same thread)."""
    store = SqliteStore(tmp_path / "exchange.db")
    turn = tmp_path / "exchange.db-writer"
    with store.transaction() as tx:
        tx._db.execute("CREATE TABLE t (x INTEGER)")
        assert _turn_is(turn) == "taken"
    assert _turn_is(turn) == "free"
    with store.transaction():
        with pytest.raises(sqlite3.OperationalError), store.transaction():
            pass  # SQLite refuses the nested BEGIN ...
        assert _turn_is(turn) == "taken"  # ... and the outer transaction keeps its turn
    assert _turn_is(turn) == "free"
    store.close()
