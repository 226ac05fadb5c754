"""The server process's memory: glibc's malloc arenas capped before its threads start, the
collector tuned once the application is built, and no migration libraries loaded to serve."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.cli.memory import limit_malloc_arenas
from exchange.store.sqlite import open_sqlite
from tests.support.paths import CONFIG_DIR

IS_GLIBC = platform.libc_ver()[0] == "glibc"


def test_an_arena_max_from_the_environment_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_malloc_arenas() is False


@pytest.mark.skipif(not IS_GLIBC, reason="mallopt(M_ARENA_MAX) is glibc's")
def test_glibc_takes_the_cap() -> None:
    # In a child process, so the cap does not change this test run's allocator.
    code = "from exchange.cli.memory import limit_malloc_arenas as f; print(f())"
    env = {"PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "True"


def test_the_collector_stops_walking_what_start_up_made() -> None:
    # In a child process: freezing and thresholds would change this test run's collector.
    code = (
        "import gc, exchange.app; from exchange.cli.memory import collect_less as f; "
        "before = gc.get_freeze_count(); f(); "
        "print(before, gc.get_freeze_count() > 50_000, gc.get_threshold()[0])"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["0", "True", "10000"]


def test_a_server_on_sqlite_loads_neither_sqlalchemy_nor_psycopg(tmp_path: Path) -> None:
    """Migrating needs them; serving a SQLite store does not (about 40 MiB in each process)."""
    data_dir = tmp_path / "data"
    open_sqlite(data_dir, create=True).close()
    code = (
        "import sys; from exchange.app import create_app; from exchange.settings import Settings; "
        f"create_app(Settings(data_dir={str(data_dir)!r}, config_dir={str(CONFIG_DIR)!r})); "
        "print(sorted(m for m in ('sqlalchemy', 'alembic', 'psycopg') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
