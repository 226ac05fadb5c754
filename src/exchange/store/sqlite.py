"""The embedded store: SQLite in WAL mode, one file in the data directory.

Readers run concurrently with the single writer (WAL): each thread reads through a connection
of its own, which closes when its thread ends (the server's worker threads come and go: a
connection kept for every thread that ever ran would hold its page cache for ever), and every
write of the process goes through one writer connection, in turn. Writes take the write lock up
front (``BEGIN IMMEDIATE``) so a transaction never fails half way
on a lock upgrade, and two processes sharing the file commit one after the other.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exchange.errors import StoreError
from exchange.store import schema
from exchange.store.sql_store import SqlStore, SqlTransaction

__all__ = ["SqliteStore", "open_sqlite"]


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (the base class cannot)."""


# Page cache (KiB) of the one connection that writes, and of each thread's reading connection.
# Readers' caches are small: under steady ingest every commit by the writer empties them anyway.
# So does the writer's, when other processes write to the file too (`exchange serve --workers`):
# a large cache then only costs memory, in every process.
WRITER_CACHE_KIB = 65536
SHARED_WRITER_CACHE_KIB = 16384
_READER_CACHE_KIB = 4096


class SqliteStore(SqlStore):
    """The store protocol on one SQLite database file."""

    def __init__(
        self, path: Path, *, synchronous: str = "FULL", writer_cache_kib: int = WRITER_CACHE_KIB
    ) -> None:
        self._path = path
        self._synchronous = synchronous
        self._writer_cache_kib = writer_cache_kib
        self._local = threading.local()
        # Open connections, to close them all in close(); each lives as long as its thread.
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._lock = threading.Lock()
        # Writers of this process take turns here before BEGIN IMMEDIATE (see transaction()).
        self._write_lock = threading.RLock()
        self._writer: _Connection | None = None
        # Writers of other processes on the same file (`exchange serve --workers`) take turns
        # on a lock on a file beside it: see _process_turn().
        self._turn_file: int | None = None
        self._turn_depth = 0

    def _open(self, cache_kib: int) -> _Connection:
        connection = sqlite3.connect(
            self._path,
            isolation_level=None,
            check_same_thread=False,
            timeout=30.0,
            factory=_Connection,
        )
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute(f"PRAGMA synchronous = {self._synchronous}")
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute(f"PRAGMA cache_size = -{cache_kib}")
        with self._lock:
            self._connections.add(connection)
        return connection

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection: the writer's while it is in a write transaction."""
        writing: sqlite3.Connection | None = getattr(self._local, "writing", None)
        if writing is not None:
            return writing
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self._open(_READER_CACHE_KIB)
        return connection

    def close(self) -> None:
        with self._lock:
            for connection in list(self._connections):
                connection.close()
            self._connections.clear()
            self._writer = None
            if self._turn_file is not None:
                os.close(self._turn_file)
                self._turn_file = None
        self._local = threading.local()

    @contextmanager
    def _process_turn(self) -> Iterator[None]:
        """This process's turn to write, among the processes that share the file.

        A blocking ``flock``: the kernel wakes the next waiter as soon as the lock is released,
        where SQLite's busy handler would have each waiting process poll with sleeps of up to
        100 ms (two server processes then wait more than they work). Taken while holding
        ``_write_lock``, so only one thread of a process waits here; re-entered, it does nothing.
        """
        if self._turn_depth:
            yield
            return
        if self._turn_file is None:
            path = self._path.with_name(self._path.name + "-writer")
            self._turn_file = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._turn_file, fcntl.LOCK_EX)
        self._turn_depth += 1
        try:
            yield
        finally:
            self._turn_depth -= 1
            fcntl.flock(self._turn_file, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        # The threads of one process wait for each other on a lock, which hands over as soon as
        # it is released. Left to SQLite's busy handler, each waiter polls with sleeps of up to
        # 100 ms and no queue: with dozens of concurrent writers (every page read appends an
        # audit event) one unlucky thread can wait past the busy timeout and fail with
        # "database is locked". The busy timeout still orders writers of other processes.
        # Re-entrant so that a nested transaction fails as SQLite says, not in a deadlock.
        with self._write_lock, self._process_turn():
            # Every write of this process goes through one connection, which the lock makes
            # safe to share. In WAL mode a connection drops its page cache whenever another
            # connection has written; the writer's own commits leave its cache warm, so the
            # index pages that inserts walk stay in memory as the store grows.
            if self._writer is None:
                self._writer = self._open(self._writer_cache_kib)
            db = self._writer
            db.execute("BEGIN IMMEDIATE")
            self._local.writing = db
            try:
                yield SqlTransaction(self, db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            finally:
                self._local.writing = None
            try:
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # the shared writer must not stay inside a failed one
                    db.execute("ROLLBACK")
                raise

    @contextmanager
    def _read_snapshot(self) -> Iterator[sqlite3.Connection]:
        db = self._connection()
        if db.in_transaction:
            yield db
            return
        db.execute("BEGIN")  # deferred: a read snapshot from the first SELECT, no lock
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers."""
        try:
            self._connection().execute("SELECT count(*) FROM meta").fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"the store at {self._path} does not answer: {exc}") from None


def sqlite_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the embedded store in ``data_dir`` (for migrations)."""
    return f"sqlite:///{data_dir / 'exchange.db'}"


def open_sqlite(data_dir: Path, *, create: bool, processes: int = 1) -> SqliteStore:
    """Open the store in ``data_dir``; with ``create``, make it and bring its schema up to date.

    Without ``create`` a missing or outdated database is an error that says what to run.
    ``processes``: how many server processes write to it (the writer's cache is sized for it).
    """
    path = data_dir / "exchange.db"
    url = sqlite_url(data_dir)
    if create:
        data_dir.mkdir(parents=True, exist_ok=True)
        schema.upgrade(url)
    elif not path.exists():
        raise StoreError(f"no store at {path}: run `exchange init` first")
    else:
        schema.require_head(url, str(path))
    cache = WRITER_CACHE_KIB if processes == 1 else SHARED_WRITER_CACHE_KIB
    return SqliteStore(path, writer_cache_kib=cache)
