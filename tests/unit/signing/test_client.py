"""SigningAuth, the partner-side signer: what it adds to a request, and what it refuses."""

from __future__ import annotations

import base64
from datetime import datetime

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa

from exchange.signing.client import SigningAuth
from exchange.signing.digest import content_digest
from exchange.signing.errors import KeyRefused
from exchange.signing.verify import parse_signature
from tests.unit.signing.support import BODY, NOW, Keyring, Partner, signed_request, verify


def test_a_token_with_a_user_is_sent_as_basic_and_not_signed(
    partner: Partner, keyring: Keyring
) -> None:
    prepared = signed_request(partner, user="alice", token="t0ken")
    expected = base64.b64encode(b"alice:t0ken").decode()
    assert prepared.headers["Authorization"] == f"Basic {expected}"
    assert not parse_signature(prepared.headers).covers("authorization")
    verify(prepared, keyring)
    # The hub checks the token on its own; changing it does not touch the signature.
    prepared.headers["Authorization"] = "Basic " + base64.b64encode(b"alice:other").decode()
    verify(prepared, keyring)


def test_a_token_alone_is_sent_as_bearer(partner: Partner, keyring: Keyring) -> None:
    prepared = signed_request(partner, token="t0ken")
    assert prepared.headers["Authorization"] == "Bearer t0ken"
    verify(prepared, keyring)


def test_no_token_no_authorization(partner: Partner) -> None:
    prepared = signed_request(partner)
    assert "Authorization" not in prepared.headers
    assert "Date" not in prepared.headers


def test_a_user_without_a_token_is_an_error(partner: Partner) -> None:
    with pytest.raises(ValueError, match="token"):
        SigningAuth(partner.key, partner.key_id, user="alice")
    with pytest.raises(ValueError, match="key_id"):
        SigningAuth(partner.key, "")


def test_keys_of_other_types_are_refused() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(KeyRefused):
        SigningAuth(key, "rsa")  # type: ignore[arg-type]


def test_the_clock_must_be_aware(partner: Partner) -> None:
    auth = SigningAuth(partner.key, partner.key_id, clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        signed_request(partner, auth=auth)


def test_every_request_has_its_own_nonce(partner: Partner, keyring: Keyring) -> None:
    nonces = {verify(signed_request(partner), keyring).nonce for _ in range(5)}
    assert len(nonces) == 5


def test_signing_again_replaces_the_signature(partner: Partner, keyring: Keyring) -> None:
    auth = partner.auth()
    prepared = signed_request(partner, auth=auth)
    first = parse_signature(prepared.headers).nonce
    auth(prepared)
    assert parse_signature(prepared.headers).nonce != first
    assert prepared.headers["Content-Digest"] == content_digest(BODY)
    verify(prepared, keyring)


def test_a_text_body_is_signed_as_utf8(partner: Partner, keyring: Keyring) -> None:
    text = '{"name": "Ümlaut"}'
    prepared = requests.Request(
        "POST", "https://hub.example.org/x/", data=text.encode(), headers={"Content-Type": "a/b"}
    ).prepare()
    prepared.body = text  # as a caller passing str would leave it
    partner.auth()(prepared)
    assert prepared.headers["Content-Digest"] == content_digest(text.encode())
    assert verify(prepared, keyring, required_components=()).created == NOW


def test_the_auth_object_remembers_its_algorithm(partner: Partner) -> None:
    assert partner.auth().algorithm == partner.info.algorithm
