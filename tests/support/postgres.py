"""PostgreSQL for tests: the server on 127.0.0.1:5432 (database `test`), one fresh schema each.

In CI (``CI=true``) an unreachable server fails the test: the PostgreSQL half of the suite must
run there. On a developer machine without PostgreSQL the test is skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
import pytest

__all__ = [
    "ALL_ON_POSTGRES",
    "POSTGRES_URL",
    "fresh_schema",
    "require_postgres",
    "sqlite_only",
    "world_database",
]

POSTGRES_URL = os.environ.get("EXCHANGE_TEST_POSTGRES_URL", "postgresql://127.0.0.1:5432/test")
# EXCHANGE_TEST_ALL_ON_POSTGRES=1 runs every hub of the suite on PostgreSQL (tests/conftest.py).
ALL_ON_POSTGRES = os.environ.get("EXCHANGE_TEST_ALL_ON_POSTGRES") == "1"
# For the few tests that edit the SQLite file itself, as an intruder with file access would.
sqlite_only = pytest.mark.skipif(ALL_ON_POSTGRES, reason="edits the SQLite database file directly")


def require_postgres() -> None:
    """Fail (in CI) or skip (elsewhere) unless the test server answers."""
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = f"PostgreSQL at {POSTGRES_URL} is unreachable ({str(exc).strip()[:200]})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI runs the PostgreSQL tests, start the server first")
        pytest.skip(f"{reason}; set EXCHANGE_TEST_POSTGRES_URL or start PostgreSQL to run this")


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A new empty schema; yields the database URL that selects it, and drops it afterwards."""
    require_postgres()
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={name}')}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {name} CASCADE")


@contextmanager
def world_database() -> Iterator[None]:
    """Around one test world's life: with ``ALL_ON_POSTGRES``, a fresh schema that the hub, the
    in-process command line and server processes all use (through EXCHANGE_DATABASE_URL)."""
    if not ALL_ON_POSTGRES:
        yield
        return
    before = os.environ.get("EXCHANGE_DATABASE_URL")
    with fresh_schema() as url:
        os.environ["EXCHANGE_DATABASE_URL"] = url
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("EXCHANGE_DATABASE_URL", None)
            else:
                os.environ["EXCHANGE_DATABASE_URL"] = before
