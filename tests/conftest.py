"""Fixtures shared by every test directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import STIX_DATA
from tests.support.server import HubProcess, start_hub


@pytest.fixture(scope="session")
def stix_data() -> Path:
    """The shared STIX 2.1 corpus; the suite needs it."""
    if not STIX_DATA.is_dir():
        pytest.fail(f"shared STIX data not found at {STIX_DATA} (set EXCHANGE_SHARED_DATA)")
    return STIX_DATA


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A real `exchange serve` with the demo world, one per test module."""
    process = start_hub(tmp_path_factory.mktemp("hub"))
    try:
        yield process
    finally:
        process.stop()
