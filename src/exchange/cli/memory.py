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
import gc
import os

__all__ = ["collect_less", "limit_malloc_arenas"]

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


# A young collection after this many net allocations of container objects (CPython's default is
# 700: parsing one envelope of 1,000 objects then runs about a hundred of them).
_YOUNG_THRESHOLD = 10_000


def collect_less() -> None:
    """Tune the cyclic garbage collector for a server, once its application is built.

    What start-up made (modules, routes, schemas: hundreds of thousands of objects that live as
    long as the process) is moved out of the collector's sight with ``gc.freeze``, so the older
    generations' collections no longer walk it again and again; and young collections run less
    often. Reference counting still frees almost everything at once: the collector is only for
    cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_THRESHOLD, 10, 10)
