"""Throttling authentication: lockouts after failed attempts, and a request rate per credential.

Two threats, one resource. A token's secret has 256 bits, so guessing it is hopeless, but it
must still be stopped and made visible. The real cost is the hub's CPU: every wrong secret
presented for a known credential id costs one scrypt hash (about 50 ms of a core), so a few
clients sending wrong secrets can keep every core busy. What these controls protect is
therefore the node's own CPU, and they are kept per process, in memory:

* counting a failure or a request writes nothing to the store, so authenticating (and ingest)
  costs no more than before, and a flood of refused requests reaches neither the database nor
  scrypt;
* with N hub nodes behind a load balancer each node enforces its own budget: an attacker may
  spread failures over N nodes and get N times the budget, which is still N times a small,
  bounded cost, each node's CPU being exactly what that node's counters guard; a client's
  request rate is likewise at most N times the per-node limit.

The architecture keeps rate limits in the store so that nodes hold no state that matters. That
holds for limits that are promises over the whole hub, such as the quotas of a sharing agreement
(objects per day), which do live in the store. These two controls are not such promises: losing
the counters (a restart, another node) only gives back a small budget, never data or access, and
a shared counter would cost a store write on every request and every failure, the very load
they exist to keep off the hub.

A *lockout* follows too many failed attempts in a window of ``lockout_seconds``: wrong secrets
for one credential id (``failures_per_credential``), or failed attempts of any credential id,
wrong secrets and unknown ids alike, from one client address (``failures_per_address``).
While it lasts, a presented token is refused before any lookup or hash, unless this very
token was already verified on this node: that client proved possession before the attack
began, checking it again costs no scrypt (the verifier remembers it), and refusing it would let
anyone who knows a credential id lock its owner out. A success never resets a failure count:
the count only ages out, so an owner's traffic cannot buy an attacker fresh attempts. The same
wrong token presented again is known to be wrong without a new hash and is not counted twice,
so a client stuck on a stale token does not lock out its address.

The *request rate* is a token bucket per credential, applied after authentication (so nobody
can spend another account's budget): ``per_minute`` requests a minute, ``burst`` at once.

Memory is bounded: every table is a least-recently-used map of fixed capacity, so a flood of
random credential ids or addresses evicts old entries instead of growing. IPv6 clients are
counted per /64 network, the block one subscriber usually holds.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from exchange.errors import ExchangeError

if TYPE_CHECKING:
    from exchange.settings import Settings

__all__ = [
    "Lockout",
    "Lockouts",
    "RateLimiter",
    "Throttle",
    "Throttled",
    "client_key",
    "token_digest",
]

Clock = Callable[[], float]
"""Seconds on a monotonic clock (``time.monotonic``; tests pass a fake one)."""

DEFAULT_CAPACITY = 16_384
"""Most keys one table remembers (a few MiB at most)."""

_K = TypeVar("_K")
_V = TypeVar("_V")


class Throttled(ExchangeError):
    """Too many failed attempts, or too many requests: retry after ``retry_after`` seconds."""

    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = max(1, math.ceil(retry_after))


class _Bounded(Generic[_K, _V]):
    """A map that forgets its least recently used key beyond ``capacity`` keys (not locked)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._items: OrderedDict[_K, _V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: _K) -> _V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: _K, value: _V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def pop(self, key: _K) -> None:
        self._items.pop(key, None)


@dataclass(slots=True)
class _Failures:
    count: int
    window_start: float
    locked_until: float


class Lockouts:
    """Failed attempts per key; ``threshold`` of them within the window lock the key out.

    The window and the lockout both last ``lockout_seconds``. A threshold of 0 disables it.
    Not thread-safe on its own: :class:`Throttle` holds the lock.
    """

    def __init__(
        self,
        threshold: int,
        lockout_seconds: float,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Clock = time.monotonic,
    ) -> None:
        if threshold < 0 or lockout_seconds <= 0:
            raise ValueError("threshold must be >= 0 and lockout_seconds > 0")
        self.threshold = threshold
        self.lockout_seconds = lockout_seconds
        self._clock = clock
        self._keys: _Bounded[str, _Failures] = _Bounded(capacity)

    def __len__(self) -> int:
        return len(self._keys)

    def locked_for(self, key: str) -> float:
        """Seconds left of the key's lockout, 0 when it is not locked out."""
        entry = self._keys.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.locked_until - self._clock())

    def fail(self, key: str) -> bool:
        """Count one failure; True when it starts a lockout."""
        if self.threshold == 0:
            return False
        now = self._clock()
        entry = self._keys.get(key)
        if entry is None or now - entry.window_start >= self.lockout_seconds:
            locked_until = entry.locked_until if entry is not None else 0.0
            entry = _Failures(0, now, locked_until)
            self._keys.put(key, entry)
        entry.count += 1
        if entry.count < self.threshold:
            return False
        # The lockout starts now and the count starts again: failures during a lockout (from
        # clients that already proved their token) do not stretch it.
        entry.count = 0
        entry.window_start = now
        entry.locked_until = now + self.lockout_seconds
        return True


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: ``per_minute`` requests a minute, up to ``burst`` at once.

    ``per_minute`` 0 disables it. Not thread-safe on its own: :class:`Throttle` holds the lock.
    """

    def __init__(
        self,
        per_minute: int,
        burst: int,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Clock = time.monotonic,
    ) -> None:
        if per_minute < 0 or burst < 1:
            raise ValueError("per_minute must be >= 0 and burst >= 1")
        self.per_minute = per_minute
        self.burst = burst
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: _Bounded[str, _Bucket] = _Bounded(capacity)

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, key: str) -> float:
        """Take one request from the key's bucket: 0 when allowed, else seconds to wait."""
        if self.per_minute == 0:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets.put(key, bucket)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self._rate


@dataclass(frozen=True, slots=True)
class Lockout:
    """A lockout that just began: of a ``credential`` id or a client ``address``."""

    scope: str
    key: str
    seconds: float


def token_digest(token: str) -> bytes:
    """SHA-256 of a presented token: how the throttle remembers tokens without keeping them."""
    return hashlib.sha256(token.encode()).digest()


def client_key(host: str | None) -> str:
    """The key a client address is counted under: IPv4 as is, IPv6 by its /64 network."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class Throttle:
    """One node's authentication throttle: both lockouts, the request rate, known tokens.

    Thread-safe: the server authenticates in a thread pool, and every method takes one lock for
    a few dictionary operations.
    """

    def __init__(
        self,
        *,
        requests_per_minute: int = 0,
        burst: int = 1,
        failures_per_credential: int = 0,
        failures_per_address: int = 0,
        lockout_seconds: float = 300.0,
        capacity: int = DEFAULT_CAPACITY,
        clock: Clock = time.monotonic,
    ) -> None:
        self._lock = threading.Lock()
        self.credentials = Lockouts(
            failures_per_credential, lockout_seconds, capacity=capacity, clock=clock
        )
        self.addresses = Lockouts(
            failures_per_address, lockout_seconds, capacity=capacity, clock=clock
        )
        self.requests = RateLimiter(requests_per_minute, burst, capacity=capacity, clock=clock)
        # Tokens verified on this node, and tokens found wrong (mapped to the stored hash they
        # failed against; None for an unknown credential id). Keys are SHA-256 digests.
        self._proven: _Bounded[bytes, bool] = _Bounded(capacity)
        self._failed: _Bounded[bytes, str] = _Bounded(capacity)
        self._pseudonym_key = secrets.token_bytes(16)

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> Throttle:
        """The throttle the settings describe."""
        return cls(
            requests_per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            failures_per_credential=settings.auth_failures_before_lockout,
            failures_per_address=settings.auth_address_failures_before_lockout,
            lockout_seconds=settings.auth_lockout_seconds,
            clock=clock,
        )

    def pseudonym(self, key: str) -> str:
        """A name for a client address that logs can carry instead of the address: the same
        within this process (lockouts of one source can be told apart), meaningless outside."""
        return hmac.new(self._pseudonym_key, key.encode(), hashlib.sha256).hexdigest()[:12]

    def sizes(self) -> dict[str, int]:
        """How many keys each table holds (for tests and diagnostics)."""
        with self._lock:
            return {
                "credentials": len(self.credentials),
                "addresses": len(self.addresses),
                "requests": len(self.requests),
                "proven": len(self._proven),
                "failed": len(self._failed),
            }

    def check_attempt(self, credential_id: str, address: str, digest: bytes) -> None:
        """Raise :class:`Throttled` if this attempt may not be checked now (before any hash).

        A token already verified on this node passes whatever the lockouts (see the module).
        """
        with self._lock:
            if self._proven.get(digest) is not None:
                return
            wait = max(
                self.credentials.locked_for(credential_id), self.addresses.locked_for(address)
            )
        if wait > 0:
            raise Throttled(
                "too many failed attempts to authenticate; "
                f"try again in {max(1, math.ceil(wait))} seconds",
                wait,
            )

    def known_wrong(self, digest: bytes) -> str | None:
        """The stored hash this exact token was already found wrong against, if any."""
        with self._lock:
            stored = self._failed.get(digest)
        return stored or None

    def unknown_credential(self, digest: bytes, address: str) -> list[Lockout]:
        """A token naming no credential: counted against the address once per token."""
        with self._lock:
            self._proven.pop(digest)
            if self._failed.get(digest) is not None:
                return []
            self._failed.put(digest, "")
            return self._count(None, address)

    def wrong_secret(
        self, digest: bytes, stored_hash: str, credential_id: str, address: str
    ) -> list[Lockout]:
        """A wrong secret for a known credential: counted against both, once per token."""
        with self._lock:
            self._proven.pop(digest)
            if self._failed.get(digest) == stored_hash:
                return []
            self._failed.put(digest, stored_hash)
            return self._count(credential_id, address)

    def _count(self, credential_id: str | None, address: str) -> list[Lockout]:
        started: list[Lockout] = []
        if credential_id is not None and self.credentials.fail(credential_id):
            started.append(Lockout("credential", credential_id, self.credentials.lockout_seconds))
        if self.addresses.fail(address):
            started.append(Lockout("address", address, self.addresses.lockout_seconds))
        return started

    def forget(self, digest: bytes) -> None:
        """A token refused for another reason (account disabled, wrong user name): no longer
        proven, so it goes through the lockout checks again."""
        with self._lock:
            self._proven.pop(digest)

    def admit(self, credential_id: str, digest: bytes) -> None:
        """After a successful authentication: remember the token, take one request from the
        credential's budget, or raise :class:`Throttled` when it is spent."""
        with self._lock:
            self._proven.put(digest, True)
            self._failed.pop(digest)
            wait = self.requests.acquire(credential_id)
        if wait > 0:
            raise Throttled(
                f"this credential made more than {self.requests.per_minute} requests a minute; "
                f"try again in {max(1, math.ceil(wait))} seconds",
                wait,
            )
