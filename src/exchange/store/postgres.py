"""The scale-out store: PostgreSQL, shared by any number of stateless hub nodes.

The SQL is the shared one (``exchange.store.sql_store``); this module supplies connections and
transactions. Every write transaction first takes one advisory lock of the store's schema
(``pg_advisory_xact_lock``), the equivalent of SQLite's ``BEGIN IMMEDIATE``: writes commit one at
a time, whichever node makes them, so date_added and placement sequence grow in commit order (a
reader polling with ``added_after`` never skips an object), the audit log's order is the commit
order, and nonces and quota counts are checked and counted atomically. The lock is released only
after the commit is visible. Reads take a pooled connection per statement and never wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import conninfo
from psycopg.types.string import StrDumper
from psycopg_pool import ConnectionPool, PoolTimeout

from exchange.errors import InvalidRequest, StoreError
from exchange.store import schema
from exchange.store.sql import IN_LIST, SqlList
from exchange.store.sql_store import SqlStore, SqlTransaction

__all__ = ["PostgresStore", "open_postgres", "redacted_url"]

_CONNECT_SECONDS = 10.0
# The tables whose statistics shape the plans of pages, submissions and purges.
_PLANNED_TABLES = frozenset(
    {
        "audience_members",
        "audiences",
        "co_deliveries",
        "embargoed",
        "feedback_sightings",
        "objects",
        "placements",
        "statuses",
        "submissions",
        "audit_events",
        "nonces",
    }
)


@lru_cache(maxsize=1024)
def _translate(sql: str) -> str:
    """The shared SQL for psycopg: ``%s`` placeholders and array membership."""
    return sql.replace(IN_LIST, "= ANY(?)").replace("%", "%%").replace("?", "%s")


def _adapt(parameters: Sequence[Any]) -> list[Any]:
    return [p.values if isinstance(p, SqlList) else p for p in parameters]


class _Fetched:
    """Rows already read, so the connection that read them is back in the pool."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = iter(rows)
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return next(self._rows, None)

    def fetchall(self) -> list[Any]:
        return list(self._rows)

    def __iter__(self) -> Iterator[Any]:
        return self._rows


class _TransactionConnection:
    """The store's SQL on the one connection of a write transaction."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        return self._connection.execute(_translate(sql), _adapt(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object:
        batch = [_adapt(p) for p in parameters]
        if batch:
            with self._connection.cursor() as cursor:
                cursor.executemany(_translate(sql), batch)
        return None


class _PooledReads:
    """The store's SQL for reads: each statement on a pooled connection in autocommit mode."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]]) -> None:
        self._pool = pool

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> _Fetched:
        with _unavailable_as_store_error(), self._pool.connection() as connection:
            cursor = connection.execute(_translate(sql), _adapt(parameters))
            rows = cursor.fetchall() if cursor.description is not None else []
            return _Fetched(rows, cursor.rowcount)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> object:
        batch = [_adapt(p) for p in parameters]
        with (
            _unavailable_as_store_error(),
            self._pool.connection() as connection,
            connection.cursor() as cursor,
        ):
            cursor.executemany(_translate(sql), batch)
        return None


@contextmanager
def _unavailable_as_store_error() -> Iterator[None]:
    try:
        yield
    except PoolTimeout:
        raise StoreError("the database did not answer in time (no free connection)") from None
    except psycopg.DataError as exc:
        # A value PostgreSQL cannot hold (text with a NUL character, say): the client's input.
        raise InvalidRequest(f"a value cannot be stored: {_first_line(exc)}") from None
    except psycopg.OperationalError as exc:
        raise StoreError(f"the database is unavailable: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["no detail"])[0]


def redacted_url(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "postgresql://(unparsable URL)"
    host = str(parts.get("host", "localhost"))
    port = str(parts.get("port", "5432"))
    user = str(parts.get("user", ""))
    name = str(parts.get("dbname", ""))
    return f"postgresql://{user + '@' if user else ''}{host}:{port}/{name}"


class PostgresStore(SqlStore):
    """The store protocol on a PostgreSQL database (one schema of it)."""

    def __init__(self, url: str, *, pool_size: int = 10, replica_url: str | None = None) -> None:
        self._local = threading.local()
        self._pool = _open_pool(url, pool_size, "exchange-store")
        self._replica = None if not replica_url else _open_pool(replica_url, pool_size, "replica")
        self._reads = _PooledReads(self._pool)
        row = self._reads.execute("SELECT current_schema()").fetchone()
        if row is None or row[0] is None:
            self.close()
            raise StoreError(f"{redacted_url(url)}: the search_path names no schema that exists")
        self.schema_name = str(row[0])
        self._lock_key = schema.write_lock_key(self.schema_name)

    def _connection(self) -> _TransactionConnection | _PooledReads:
        current: _TransactionConnection | None = getattr(self._local, "transaction", None)
        return current if current is not None else self._reads

    @contextmanager
    def _read_snapshot(self) -> Iterator[_TransactionConnection]:
        # Object pages may come from a streaming replica: it applies commits in commit order,
        # so a cursor taken on the primary or on another node never skips an object there; a
        # lagging replica only answers with fewer objects for now.
        current: _TransactionConnection | None = getattr(self._local, "transaction", None)
        if current is not None:
            yield current
            return
        pool = self._replica or self._pool
        with (
            _unavailable_as_store_error(),
            pool.connection() as connection,
            connection.transaction(),
        ):
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield _TransactionConnection(connection)

    def close(self) -> None:
        self._pool.close()
        if self._replica is not None:
            self._replica.close()

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        if getattr(self._local, "transaction", None) is not None:
            raise StoreError("a write transaction is already open in this thread")
        with (
            _unavailable_as_store_error(),
            self._pool.connection() as connection,
            connection.transaction(),
        ):
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (self._lock_key,))
            current = _TransactionConnection(connection)
            self._local.transaction = current
            try:
                yield SqlTransaction(self, current)
            finally:
                self._local.transaction = None

    def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers."""
        self._reads.execute("SELECT count(*) FROM meta").fetchone()

    def refresh_statistics(self) -> list[str]:
        """ANALYZE the hub's tables that changed by more than a tenth (at least 1,000 rows)
        since their last analysis. Pages are planned from these statistics: on a freshly loaded
        table without them PostgreSQL may scan the whole collection for every page. Autovacuum
        does the same when it is on; this keeps plans right when it is off or lagging."""
        rows = self._reads.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
            "AND n_mod_since_analyze > greatest(1000, n_live_tup / 10) ORDER BY relname"
        ).fetchall()
        stale = [str(row[0]) for row in rows if str(row[0]) in _PLANNED_TABLES]
        for table in stale:
            self._reads.execute(f"ANALYZE {table}")
        return stale


def _open_pool(url: str, size: int, name: str) -> ConnectionPool[psycopg.Connection[Any]]:
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        _libpq_url(url),
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True},
        configure=_configure,
        timeout=_CONNECT_SECONDS * 3,
        name=name,
        open=False,
    )
    try:
        pool.open(wait=True, timeout=_CONNECT_SECONDS)
    except PoolTimeout:
        pool.close()
        raise StoreError(f"cannot connect to {redacted_url(url)}") from None
    return pool


def _configure(connection: psycopg.Connection[Any]) -> None:
    # Strings are bound as text, not as untyped literals: a string meant for a bytea column is
    # then an error instead of being read as an escape sequence.
    connection.adapters.register_dumper(str, StrDumper)


def _libpq_url(url: str) -> str:
    """``url`` as libpq takes it (SQLAlchemy's ``+psycopg`` suffix removed)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def open_postgres(
    url: str, *, create: bool, pool_size: int = 10, replica_url: str | None = None
) -> PostgresStore:
    """Open the store in the PostgreSQL database at ``url``; with ``create``, bring its schema up
    to date first. Without ``create`` an empty or outdated schema is an error that says what to
    run."""
    try:
        if create:
            schema.upgrade(url)
        else:
            schema.require_head(url, redacted_url(url))
    except StoreError:
        raise
    except Exception as exc:  # SQLAlchemy wraps the driver's errors
        raise StoreError(f"cannot use {redacted_url(url)}: {_first_line(exc)}") from None
    return PostgresStore(url, pool_size=pool_size, replica_url=replica_url)
