"""Keeping the server's resident memory flat: fewer glibc malloc arenas.

glibc gives each thread that allocates under contention an arena of its own, up to eight per
core. The server's worker threads each parse envelopes of up to megabytes, and each arena keeps
the freed memory it once held: resident memory then grows with the number of threads, not with
the work. Two arenas (what ``MALLOC_ARENA_MAX=2`` sets) keep it flat at no measurable cost here,
since the interpreter lock lets one thread allocate at a time anyway. Measured with
``benchmarks/compare.py`` (4 partners, 4 analysts, 30,000 objects): 359 MiB with glibc's
default, 223 MiB with two arenas.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

__all__ = ["limit_malloc_arenas"]

_M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
_ARENAS = 2


def limit_malloc_arenas() -> bool:
    """Cap glibc's malloc arenas (before the server starts its threads); False where the C
    library is not glibc or the environment already sets ``MALLOC_ARENA_MAX``."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, _ARENAS))
