"""The throttle on its own: lockouts, the token bucket, known tokens, bounded memory."""

from __future__ import annotations

import secrets
import threading
import tracemalloc

import pytest

from exchange.accounts.throttle import (
    Lockout,
    Lockouts,
    RateLimiter,
    Throttle,
    Throttled,
    client_key,
    token_digest,
)
from exchange.settings import Settings


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Lockouts -------------------------------------------------------------------------------------
def test_the_threshold_th_failure_starts_a_lockout_that_ends_after_its_period(
    clock: FakeClock,
) -> None:
    lockouts = Lockouts(3, 60, clock=clock)
    assert [lockouts.fail("k") for _ in range(3)] == [False, False, True]
    assert lockouts.locked_for("k") == 60
    clock.advance(59.5)
    assert lockouts.locked_for("k") == pytest.approx(0.5)
    clock.advance(0.5)
    assert lockouts.locked_for("k") == 0
    assert lockouts.locked_for("other") == 0


def test_failures_age_out_of_the_window(clock: FakeClock) -> None:
    lockouts = Lockouts(3, 60, clock=clock)
    lockouts.fail("k")
    lockouts.fail("k")
    clock.advance(60)
    # The window of the first two ended: this is the first failure of a new one.
    assert not lockouts.fail("k")
    assert not lockouts.fail("k")
    assert lockouts.locked_for("k") == 0
    assert lockouts.fail("k")


def test_failures_during_a_lockout_do_not_stretch_it(clock: FakeClock) -> None:
    lockouts = Lockouts(2, 60, clock=clock)
    lockouts.fail("k")
    assert lockouts.fail("k")
    clock.advance(30)
    assert not lockouts.fail("k")
    assert lockouts.locked_for("k") == 30


def test_threshold_zero_never_locks_and_remembers_nothing(clock: FakeClock) -> None:
    lockouts = Lockouts(0, 60, clock=clock)
    assert not any(lockouts.fail("k") for _ in range(1000))
    assert lockouts.locked_for("k") == 0
    assert len(lockouts) == 0


@pytest.mark.parametrize(("threshold", "seconds"), [(-1, 60), (3, 0), (3, -5)])
def test_lockouts_refuse_nonsense_parameters(threshold: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        Lockouts(threshold, seconds)


# Token bucket ---------------------------------------------------------------------------------
def test_the_bucket_allows_the_burst_then_the_rate(clock: FakeClock) -> None:
    limiter = RateLimiter(per_minute=60, burst=5, clock=clock)
    assert [limiter.acquire("c") for _ in range(5)] == [0.0] * 5
    assert limiter.acquire("c") == pytest.approx(1.0)
    clock.advance(0.5)
    assert limiter.acquire("c") == pytest.approx(0.5)
    clock.advance(0.5)
    assert limiter.acquire("c") == 0.0
    assert limiter.acquire("c") > 0
    # Other credentials have budgets of their own.
    assert limiter.acquire("d") == 0.0


def test_the_bucket_refills_only_up_to_the_burst(clock: FakeClock) -> None:
    limiter = RateLimiter(per_minute=600, burst=3, clock=clock)
    limiter.acquire("c")
    clock.advance(3600)
    assert [limiter.acquire("c") == 0.0 for _ in range(4)] == [True, True, True, False]


def test_refused_requests_do_not_spend_the_budget(clock: FakeClock) -> None:
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock)
    assert limiter.acquire("c") == 0.0
    for _ in range(100):
        assert limiter.acquire("c") > 0
    clock.advance(1)
    assert limiter.acquire("c") == 0.0


def test_rate_zero_disables_the_limit(clock: FakeClock) -> None:
    limiter = RateLimiter(per_minute=0, burst=1, clock=clock)
    assert all(limiter.acquire("c") == 0.0 for _ in range(10_000))
    assert len(limiter) == 0


# The throttle ---------------------------------------------------------------------------------
def _throttle(clock: FakeClock, **overrides: int) -> Throttle:
    values = {
        "requests_per_minute": 60,
        "burst": 2,
        "failures_per_credential": 3,
        "failures_per_address": 5,
        "lockout_seconds": 100,
        **overrides,
    }
    return Throttle(**values, clock=clock)


def test_wrong_secrets_lock_the_credential_for_unproven_tokens(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    started: list[Lockout] = []
    for _ in range(3):
        started += throttle.wrong_secret(token_digest(secrets.token_hex()), "h", "cred", "1.2.3.4")
    assert started == [Lockout("credential", "cred", 100)]
    with pytest.raises(Throttled) as refused:
        throttle.check_attempt("cred", "5.6.7.8", token_digest("the right token"))
    assert refused.value.retry_after == 100
    assert "failed attempts" in refused.value.detail
    throttle.check_attempt("another", "1.2.3.4", token_digest("x"))  # others are not affected
    clock.advance(100)
    throttle.check_attempt("cred", "5.6.7.8", token_digest("the right token"))


def test_a_token_verified_before_the_lockout_still_passes(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    owner = token_digest("owner's token")
    throttle.admit("cred", owner)
    for _ in range(3):
        throttle.wrong_secret(token_digest(secrets.token_hex()), "h", "cred", "9.9.9.9")
    throttle.check_attempt("cred", "9.9.9.9", owner)
    # Once that token is refused for another reason, it is checked like any other.
    throttle.forget(owner)
    with pytest.raises(Throttled):
        throttle.check_attempt("cred", "9.9.9.9", owner)


def test_a_success_does_not_reset_the_failure_count(clock: FakeClock) -> None:
    throttle = _throttle(clock, requests_per_minute=0)
    owner = token_digest("owner's token")
    for _ in range(2):
        throttle.wrong_secret(token_digest(secrets.token_hex()), "h", "cred", "a")
        throttle.admit("cred", owner)
    assert throttle.wrong_secret(token_digest("third"), "h", "cred", "a") == [
        Lockout("credential", "cred", 100)
    ]


def test_the_same_wrong_token_counts_once_and_is_remembered(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    stale = token_digest("stale")
    for _ in range(10):
        assert throttle.wrong_secret(stale, "hash-1", "cred", "a") == []
    assert throttle.known_wrong(stale) == "hash-1"
    throttle.check_attempt("cred", "a", token_digest("new"))
    # Against another stored hash (the credential was replaced) it is a new failure.
    throttle.wrong_secret(stale, "hash-2", "cred", "a")
    assert throttle.known_wrong(stale) == "hash-2"
    # A token that then succeeds is no longer known to be wrong.
    throttle.admit("cred", stale)
    assert throttle.known_wrong(stale) is None


def test_unknown_credentials_count_against_the_address_only(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    started: list[Lockout] = []
    for _ in range(5):
        started += throttle.unknown_credential(token_digest(secrets.token_hex()), "1.2.3.4")
    assert started == [Lockout("address", "1.2.3.4", 100)]
    assert throttle.sizes()["credentials"] == 0
    with pytest.raises(Throttled):
        throttle.check_attempt("any", "1.2.3.4", token_digest("t"))
    throttle.check_attempt("any", "1.2.3.5", token_digest("t"))
    # The same unknown token again is not a new failure, and is not "known wrong" (it names
    # no stored hash, so checking it costs no scrypt anyway).
    repeat = token_digest("repeat")
    assert throttle.unknown_credential(repeat, "4.4.4.4") == []
    for _ in range(10):
        assert throttle.unknown_credential(repeat, "4.4.4.4") == []
    assert throttle.known_wrong(repeat) is None
    throttle.check_attempt("any", "4.4.4.4", token_digest("t"))


def test_the_request_rate_is_per_credential(clock: FakeClock) -> None:
    throttle = _throttle(clock)
    throttle.admit("c", token_digest("c"))
    throttle.admit("c", token_digest("c"))
    with pytest.raises(Throttled) as refused:
        throttle.admit("c", token_digest("c"))
    assert refused.value.retry_after == 1
    assert "60 requests a minute" in refused.value.detail
    throttle.admit("d", token_digest("d"))
    clock.advance(1)
    throttle.admit("c", token_digest("c"))


def test_the_throttle_follows_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCHANGE_RATE_LIMIT_PER_MINUTE", "120")
    monkeypatch.setenv("EXCHANGE_RATE_LIMIT_BURST", "7")
    monkeypatch.setenv("EXCHANGE_AUTH_FAILURES_BEFORE_LOCKOUT", "4")
    monkeypatch.setenv("EXCHANGE_AUTH_ADDRESS_FAILURES_BEFORE_LOCKOUT", "0")
    monkeypatch.setenv("EXCHANGE_AUTH_LOCKOUT_SECONDS", "42")
    throttle = Throttle.from_settings(Settings())
    assert (throttle.requests.per_minute, throttle.requests.burst) == (120, 7)
    assert throttle.credentials.threshold == 4
    assert throttle.addresses.threshold == 0
    assert throttle.credentials.lockout_seconds == 42


def test_the_defaults() -> None:
    defaults = Settings()
    assert defaults.rate_limit_per_minute == 6000
    assert defaults.rate_limit_burst == 3000
    assert defaults.auth_failures_before_lockout == 10
    assert defaults.auth_address_failures_before_lockout == 50
    assert defaults.auth_lockout_seconds == 300


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("rate_limit_per_minute", -1),
        ("rate_limit_burst", 0),
        ("auth_failures_before_lockout", -1),
        ("auth_address_failures_before_lockout", -1),
        ("auth_lockout_seconds", 0),
        ("auth_lockout_seconds", 86_401),
    ],
)
def test_settings_out_of_bounds_are_refused(name: str, value: int) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.model_validate({name: value})


def test_pseudonyms_are_stable_within_a_throttle_only() -> None:
    one, two = Throttle(), Throttle()
    assert one.pseudonym("192.0.2.1") == one.pseudonym("192.0.2.1")
    assert one.pseudonym("192.0.2.1") != one.pseudonym("192.0.2.2")
    assert one.pseudonym("192.0.2.1") != two.pseudonym("192.0.2.1")
    assert "192" not in one.pseudonym("192.0.2.1")


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("testclient", "testclient"),
        ("x" * 500, "x" * 64),
        (None, "unknown"),
        ("", "unknown"),
    ],
)
def test_client_keys(host: str | None, key: str) -> None:
    assert client_key(host) == key


# Bounded memory and threads -------------------------------------------------------------------
def test_a_flood_of_random_ids_and_addresses_does_not_grow_memory(clock: FakeClock) -> None:
    capacity = 10_000
    throttle = Throttle(
        requests_per_minute=6000,
        burst=10,
        failures_per_credential=10,
        failures_per_address=10,
        capacity=capacity,
        clock=clock,
    )

    def flood(count: int) -> None:
        for i in range(count):
            address = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            credential = secrets.token_hex(8)
            digest = token_digest(secrets.token_hex(16))
            throttle.unknown_credential(digest, address)
            throttle.wrong_secret(token_digest(credential), "h", credential, address)
            throttle.check_attempt(credential, address, digest)
            throttle.admit(credential, digest)

    tracemalloc.start()
    try:
        # Filling every table twice over also brings their hash tables to their final size.
        flood(2 * capacity)
        full = tracemalloc.get_traced_memory()[0]
        flood(100_000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    sizes = throttle.sizes()
    assert all(size <= capacity for size in sizes.values()), sizes
    assert sizes["addresses"] == sizes["credentials"] == capacity
    # Full tables only replace entries: 100,000 further ids leave the memory where it was.
    assert full < 32 * 1024 * 1024, full
    assert after - full < 64 * 1024, (full, after)


def test_concurrent_failures_are_all_counted(clock: FakeClock) -> None:
    throttle = _throttle(clock, failures_per_credential=800, failures_per_address=0)
    started: list[Lockout] = []

    def fail(n: int) -> None:
        for i in range(100):
            started.extend(throttle.wrong_secret(token_digest(f"{n}-{i}"), "h", "cred", "a"))

    threads = [threading.Thread(target=fail, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert started == [Lockout("credential", "cred", 100)]
