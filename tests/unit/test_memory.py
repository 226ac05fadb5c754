"""The server caps glibc's malloc arenas before it starts its threads."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from exchange.cli.memory import limit_malloc_arenas

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
