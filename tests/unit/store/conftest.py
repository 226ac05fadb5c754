"""The store contract suite runs against every backend listed here: SQLite, and PostgreSQL on
the server of ``tests/support/postgres.py`` (a fresh schema per test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from exchange.store.postgres import open_postgres
from exchange.store.protocol import Store
from exchange.store.sqlite import open_sqlite
from tests.support.postgres import fresh_schema

# Opens the store at one place: with True, making and migrating it first.
Opener = Callable[[bool], Store]


@contextmanager
def _sqlite(tmp_path: Path) -> Iterator[Opener]:
    yield lambda create: open_sqlite(tmp_path / "store", create=create)


@contextmanager
def _postgres(tmp_path: Path) -> Iterator[Opener]:
    with fresh_schema() as url:
        yield lambda create: open_postgres(url, create=create, pool_size=4)


BACKENDS: dict[str, Callable[[Path], AbstractContextManager[Opener]]] = {
    "sqlite": _sqlite,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens one backend's store at a place of its own (for tests that reopen it)."""
    with BACKENDS[request.param](tmp_path) as opener:
        yield opener


@pytest.fixture
def store(open_store: Opener) -> Iterator[Store]:
    made = open_store(True)
    try:
        yield made
    finally:
        made.close()
