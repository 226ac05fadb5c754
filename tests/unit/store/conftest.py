"""The store contract suite runs against every backend listed here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.store.protocol import Store
from exchange.store.sqlite import open_sqlite


def _sqlite(tmp_path: Path) -> Store:
    return open_sqlite(tmp_path / "store", create=True)


BACKENDS = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made = BACKENDS[request.param](tmp_path)
    try:
        yield made
    finally:
        made.close()
