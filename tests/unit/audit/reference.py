"""A naive RFC 9162 reference, written straight from the definitions of section 2.1.

Independent of ``exchange.audit.merkle``: it uses hashlib directly, recursion on lists of leaf
*data*, and finds the split point by doubling. Slow on purpose; only for small trees in tests.
"""

from __future__ import annotations

import hashlib


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(data: list[bytes]) -> bytes:
    """MTH(D[n]), section 2.1.1."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = _split(n)
    return hashlib.sha256(b"\x01" + mth(data[:k]) + mth(data[k:])).digest()


def path(m: int, data: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), section 2.1.3.1."""
    n = len(data)
    if n == 1:
        assert m == 0
        return []
    k = _split(n)
    if m < k:
        return [*path(m, data[:k]), mth(data[k:])]
    return [*path(m - k, data[k:]), mth(data[:k])]


def subproof(m: int, data: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), section 2.1.4.1."""
    n = len(data)
    if m == n:
        return [] if b else [mth(data)]
    k = _split(n)
    if m <= k:
        return [*subproof(m, data[:k], b), mth(data[k:])]
    return [*subproof(m - k, data[k:], False), mth(data[:k])]


def proof(m: int, data: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n, section 2.1.4.1; empty for m == n."""
    return subproof(m, data, True)
