"""Lockouts after failed authentications and request rates per credential, over HTTP.

Most tests put a throttle of their own (small limits, a fake clock) on the module's world and
take it off again; the last ones build worlds from settings to show the wiring, the defaults
and that 0 disables each control.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from exchange.accounts import tokens
from exchange.accounts.throttle import Throttle
from exchange.store.models import Role
from tests.functional.conftest import API, World, assert_taxii_error, taxii_headers

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

COLLECTIONS = f"{API}collections/"


class FakeClock:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def bearer(token: str) -> dict[str, str]:
    return taxii_headers({"Authorization": f"Bearer {token}"})


def random_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def wrong_secret(token: str) -> str:
    """The same credential id with a fresh random secret (a guess)."""
    prefix, credential_id, _ = token.split("_", 2)
    return f"{prefix}_{credential_id}_{random_secret()}"


def unknown_credential() -> str:
    return f"exh_{secrets.token_hex(8)}_{random_secret()}"


def new_analyst(world: World) -> str:
    """A fresh analyst's token (never presented to the throttle under test)."""
    issued = world.hub.create_account(Role.ANALYST, f"rl-{uuid.uuid4().hex[:12]}", country="FR")
    return issued.token


def assert_throttled(response: Any, retry_after: int) -> dict[str, Any]:
    body = assert_taxii_error(response, 429)
    assert body["title"] == "Too many requests"
    assert response.headers["retry-after"] == str(retry_after)
    return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def install(world: World, clock: FakeClock) -> Iterator[Callable[..., Throttle]]:
    """Put a throttle with these limits and the fake clock on the world's app (undone after)."""
    app = world.client.app
    original = app.state.throttle  # type: ignore[attr-defined]

    def make(**limits: Any) -> Throttle:
        values = {
            "requests_per_minute": 0,
            "failures_per_credential": 3,
            "failures_per_address": 1000,
            "lockout_seconds": 60,
            **limits,
        }
        throttle = Throttle(**values, clock=clock)
        app.state.throttle = throttle  # type: ignore[attr-defined]
        return throttle

    yield make
    app.state.throttle = original  # type: ignore[attr-defined]


@pytest.fixture
def scrypt_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scrypt comparison the token verifier makes from now on (counted, not changed)."""
    calls: list[str] = []
    original = tokens._matches

    def counting(token: str, stored: str) -> bool:
        calls.append(stored)
        return original(token, stored)

    monkeypatch.setattr(tokens, "_matches", counting)
    return calls


# Lockout of a credential id -------------------------------------------------------------------
def test_wrong_secrets_lock_the_credential_out_even_for_its_right_token(
    world: World, install: Callable[..., Throttle], clock: FakeClock
) -> None:
    install(failures_per_credential=3, lockout_seconds=60)
    token = new_analyst(world)
    for _ in range(3):
        assert_taxii_error(world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))), 401)
    # Locked out: another guess, and the right token too (never verified on this node).
    assert_throttled(world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))), 60)
    body = assert_throttled(world.client.get(COLLECTIONS, headers=bearer(token)), 60)
    assert "failed attempts" in body["description"]
    assert token.split("_", 2)[2] not in str(body)
    clock.advance(45)
    assert_throttled(world.client.get(COLLECTIONS, headers=bearer(token)), 15)
    # Other credentials are not affected.
    assert world.client.get(COLLECTIONS, headers=bearer(new_analyst(world))).status_code == 200
    clock.advance(15)
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200


def test_no_scrypt_runs_while_locked_out(
    world: World, install: Callable[..., Throttle], scrypt_calls: list[str]
) -> None:
    install(failures_per_credential=3)
    token = new_analyst(world)
    for _ in range(3):
        world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token)))
    assert len(scrypt_calls) == 3
    for _ in range(20):
        response = world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token)))
        assert response.status_code == 429
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 429
    assert len(scrypt_calls) == 3


def test_the_same_wrong_token_again_costs_no_scrypt_and_counts_once(
    world: World, install: Callable[..., Throttle], scrypt_calls: list[str]
) -> None:
    install(failures_per_credential=3)
    token = new_analyst(world)
    stale = wrong_secret(token)
    for _ in range(30):
        assert_taxii_error(world.client.get(COLLECTIONS, headers=bearer(stale)), 401)
    assert len(scrypt_calls) == 1
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200


def test_a_client_verified_before_the_lockout_keeps_working(
    world: World, install: Callable[..., Throttle], scrypt_calls: list[str]
) -> None:
    install(failures_per_credential=3)
    token = new_analyst(world)
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    for _ in range(3):
        world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token)))
    assert world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))).status_code == 429
    calls = len(scrypt_calls)
    # Whoever knows the credential id cannot lock its owner out: the owner's token, already
    # verified here, passes (from the verifier's memory, no scrypt).
    for _ in range(5):
        assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    assert len(scrypt_calls) == calls


def test_a_success_between_failures_does_not_reset_the_count(
    world: World, install: Callable[..., Throttle]
) -> None:
    install(failures_per_credential=3)
    token = new_analyst(world)
    for _ in range(2):
        world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token)))
        assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    assert_taxii_error(world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))), 401)
    assert world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))).status_code == 429


def test_refusals_that_are_not_guesses_are_not_counted(
    world: World, install: Callable[..., Throttle]
) -> None:
    install(failures_per_credential=2, failures_per_address=2)
    owner = world.actors["partner_owner"].token
    other = world.actors["other_partner"].token
    disabled = world.actors["disabled"].token
    assert owner is not None
    assert other is not None
    assert disabled is not None

    def basic(user: str, token: str) -> dict[str, str]:
        raw = base64.b64encode(f"{user}:{token}".encode()).decode()
        return taxii_headers({"Authorization": f"Basic {raw}"})

    not_guesses = [
        bearer(disabled),  # a disabled account's own token
        basic("p-other", owner),  # the right token with another user name
        bearer("exh_short"),  # not a token at all
        taxii_headers({"Authorization": "Basic !!!"}),
    ]
    for _ in range(5):
        for headers in not_guesses:
            assert_taxii_error(world.client.get(COLLECTIONS, headers=headers), 401)
    assert world.client.get(COLLECTIONS, headers=bearer(other)).status_code == 200
    assert world.client.get(COLLECTIONS, headers=basic("p-owner", owner)).status_code == 200


def test_admin_routes_answer_a_lockout_the_same_way(
    world: World, install: Callable[..., Throttle]
) -> None:
    install(failures_per_credential=3)
    issued = world.hub.create_account(Role.ADMIN, f"rl-admin-{uuid.uuid4().hex[:8]}")
    for _ in range(3):
        response = world.client.get(
            "/admin/accounts", headers={"Authorization": f"Bearer {wrong_secret(issued.token)}"}
        )
        assert_taxii_error(response, 401)
    response = world.client.get(
        "/admin/accounts", headers={"Authorization": f"Bearer {issued.token}"}
    )
    assert_throttled(response, 60)


def test_a_lockout_is_logged_without_the_token(
    world: World, install: Callable[..., Throttle], caplog: pytest.LogCaptureFixture
) -> None:
    install(failures_per_credential=2, failures_per_address=3)
    token = new_analyst(world)
    guesses = [wrong_secret(token) for _ in range(2)] + [unknown_credential()]
    with caplog.at_level(logging.WARNING, logger="exchange.auth"):
        for guess in guesses:
            world.client.get(COLLECTIONS, headers=bearer(guess))
    messages = [record.getMessage() for record in caplog.records]
    credential_id = token.split("_")[1]
    assert any(f"credential {credential_id} locked out for 60 s" in m for m in messages), messages
    assert any("address" in m and "locked out" in m for m in messages), messages
    for secret in [token.split("_", 2)[2]] + [guess.split("_", 2)[2] for guess in guesses]:
        assert all(secret not in m for m in messages)
    assert all("testclient" not in m for m in messages)


# Lockout of a client address ------------------------------------------------------------------
def test_many_unknown_credential_ids_lock_out_the_address(
    world: World, install: Callable[..., Throttle], clock: FakeClock, scrypt_calls: list[str]
) -> None:
    throttle = install(failures_per_address=20, lockout_seconds=120)
    verified = new_analyst(world)
    assert world.client.get(COLLECTIONS, headers=bearer(verified)).status_code == 200
    for _ in range(20):
        assert_taxii_error(world.client.get(COLLECTIONS, headers=bearer(unknown_credential())), 401)
    assert throttle.sizes()["credentials"] == 0  # unknown ids get no entry of their own
    assert_throttled(world.client.get(COLLECTIONS, headers=bearer(unknown_credential())), 120)
    # A token never verified here is refused from that address too; one verified before passes.
    fresh = new_analyst(world)
    assert_throttled(world.client.get(COLLECTIONS, headers=bearer(fresh)), 120)
    assert world.client.get(COLLECTIONS, headers=bearer(verified)).status_code == 200
    assert scrypt_calls == [scrypt_calls[0]]  # only the first check of `verified`
    # Another address is not affected.
    elsewhere = TestClient(world.client.app, client=("192.0.2.10", 40000))
    assert elsewhere.get(COLLECTIONS, headers=bearer(fresh)).status_code == 200
    clock.advance(120)
    assert world.client.get(COLLECTIONS, headers=bearer(new_analyst(world))).status_code == 200


def test_addresses_in_one_ipv6_64_share_a_budget(
    world: World, install: Callable[..., Throttle]
) -> None:
    install(failures_per_address=4)
    for n in range(4):
        client = TestClient(world.client.app, client=(f"2001:db8:5:6::{n + 1:x}", 40000))
        assert client.get(COLLECTIONS, headers=bearer(unknown_credential())).status_code == 401
    neighbour = TestClient(world.client.app, client=("2001:db8:5:6:ffff::9", 40000))
    assert neighbour.get(COLLECTIONS, headers=bearer(unknown_credential())).status_code == 429
    outside = TestClient(world.client.app, client=("2001:db8:5:7::1", 40000))
    assert outside.get(COLLECTIONS, headers=bearer(unknown_credential())).status_code == 401


def test_a_flood_of_random_ids_keeps_the_tables_bounded(world: World, clock: FakeClock) -> None:
    app = world.client.app
    original = app.state.throttle  # type: ignore[attr-defined]
    throttle = Throttle(failures_per_address=0, capacity=100, clock=clock)
    app.state.throttle = throttle  # type: ignore[attr-defined]
    try:
        for _ in range(400):
            response = world.client.get(COLLECTIONS, headers=bearer(unknown_credential()))
            assert response.status_code == 401
    finally:
        app.state.throttle = original  # type: ignore[attr-defined]
    sizes = throttle.sizes()
    assert sizes["failed"] == 100
    assert max(sizes.values()) <= 100, sizes


# Request rate per credential ------------------------------------------------------------------
def test_the_request_rate_per_credential_gives_429_then_recovers(
    world: World, install: Callable[..., Throttle], clock: FakeClock
) -> None:
    install(requests_per_minute=60, burst=3)
    token, other = new_analyst(world), new_analyst(world)
    for _ in range(3):  # one request spends exactly one unit, however many routes need it
        assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    body = assert_throttled(world.client.get(COLLECTIONS, headers=bearer(token)), 1)
    assert "60 requests a minute" in body["description"]
    assert world.client.get(COLLECTIONS, headers=bearer(other)).status_code == 200
    clock.advance(1)
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 429
    clock.advance(3)
    for _ in range(3):
        assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200


def test_wrong_secrets_do_not_spend_the_owners_request_budget(
    world: World, install: Callable[..., Throttle]
) -> None:
    install(requests_per_minute=60, burst=2, failures_per_credential=0, failures_per_address=0)
    token = new_analyst(world)
    for _ in range(5):
        world.client.get(COLLECTIONS, headers=bearer(wrong_secret(token)))
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    assert world.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200


# Settings -------------------------------------------------------------------------------------
def test_the_defaults_leave_heavy_legitimate_use_alone(world: World) -> None:
    analyst = world.actors["analyst_fr"].headers()
    for _ in range(300):
        assert world.client.get(COLLECTIONS, headers=analyst).status_code == 200
    wrong = world.actors["wrong_token"].headers()
    for _ in range(30):  # one stale token, again and again: one failure
        assert_taxii_error(world.client.get(COLLECTIONS, headers=wrong), 401)
    assert (
        world.client.get(COLLECTIONS, headers=world.actors["partner_owner"].headers()).status_code
        == 200
    )


def test_tiny_settings_lock_out_and_release_in_real_time(make_world: Callable[..., World]) -> None:
    tiny = make_world(
        auth_failures_before_lockout=2,
        auth_lockout_seconds=1,
        rate_limit_per_minute=60,
        rate_limit_burst=2,
    )
    token = new_analyst(tiny)
    for _ in range(2):
        assert tiny.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))).status_code == 401
    assert_throttled(tiny.client.get(COLLECTIONS, headers=bearer(token)), 1)
    time.sleep(1.05)
    for _ in range(2):
        assert tiny.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    assert_throttled(tiny.client.get(COLLECTIONS, headers=bearer(token)), 1)


def test_zero_disables_every_control(make_world: Callable[..., World]) -> None:
    free = make_world(
        auth_failures_before_lockout=0,
        auth_address_failures_before_lockout=0,
        rate_limit_per_minute=0,
        rate_limit_burst=1,
    )
    token = new_analyst(free)
    for _ in range(12):
        assert free.client.get(COLLECTIONS, headers=bearer(wrong_secret(token))).status_code == 401
    for _ in range(60):
        assert free.client.get(COLLECTIONS, headers=bearer(unknown_credential())).status_code == 401
    for _ in range(30):
        assert free.client.get(COLLECTIONS, headers=bearer(token)).status_code == 200
    sizes = free.client.app.state.throttle.sizes()  # type: ignore[attr-defined]
    assert sizes["credentials"] == sizes["addresses"] == sizes["requests"] == 0
