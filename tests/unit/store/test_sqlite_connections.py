"""The SQLite store's per-thread connections end with their threads: a server whose worker
threads come and go must not keep a connection (and its page cache) for each one that ran."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

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
