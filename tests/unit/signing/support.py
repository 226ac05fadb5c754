"""Helpers for the signing tests: partners with real keys, signed requests, a key ring."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from exchange.signing.client import SigningAuth
from exchange.signing.errors import SignatureInvalid
from exchange.signing.keys import (
    Algorithm,
    PrivateKey,
    PublicKeyInfo,
    generate_private_key,
    public_key_info,
)
from exchange.signing.verify import VerifiedSignature, verify_request

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SKEW = timedelta(minutes=5)
COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
URL = f"https://hub.example.org/api1/collections/{COLLECTION}/objects/"
TAXII = "application/taxii+json;version=2.1"
BODY = (
    b'{"objects": [{"type": "indicator", "spec_version": "2.1", '
    b'"id": "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f", "name": "x"}]}'
)


@dataclass
class Partner:
    """A partner's private key and the public half the hub registered for it."""

    key: PrivateKey
    info: PublicKeyInfo

    @property
    def key_id(self) -> str:
        return self.info.key_id

    def auth(self, *, at: datetime = NOW, **options: Any) -> SigningAuth:
        """The partner's signer, with a fixed clock."""
        return SigningAuth(self.key, self.key_id, clock=lambda: at, **options)


def make_partner(algorithm: Algorithm) -> Partner:
    key = generate_private_key(algorithm)
    return Partner(key, public_key_info(key.public_key()))


@dataclass
class Keyring:
    """A key resolver over a dict: the hub's registered keys."""

    keys: dict[str, PublicKeyInfo] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def add(self, info: PublicKeyInfo) -> Keyring:
        self.keys[info.key_id] = info
        return self

    def __call__(self, key_id: str) -> PublicKeyInfo | None:
        self.asked.append(key_id)
        return self.keys.get(key_id)


def signed_request(
    partner: Partner,
    *,
    method: str = "POST",
    url: str = URL,
    body: bytes | None = BODY,
    content_type: str | None = TAXII,
    at: datetime = NOW,
    auth: requests.auth.AuthBase | None = None,
    **options: Any,
) -> requests.PreparedRequest:
    """A request prepared as `requests` would send it, signed by the partner (no network)."""
    headers = {"Accept": TAXII}
    if content_type is not None:
        headers["Content-Type"] = content_type
    prepared = requests.Request(method, url, data=body, headers=headers).prepare()
    signer = auth if auth is not None else partner.auth(at=at, **options)
    result = signer(prepared)
    assert isinstance(result, requests.PreparedRequest)
    return result


def body_of(prepared: requests.PreparedRequest) -> bytes:
    body = prepared.body
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def verify(
    prepared: requests.PreparedRequest,
    keyring: Callable[[str], PublicKeyInfo | None],
    *,
    now: datetime = NOW,
    body: bytes | None = None,
    **options: Any,
) -> VerifiedSignature:
    """The hub's check of a prepared request."""
    assert prepared.method is not None
    assert prepared.url is not None
    return verify_request(
        prepared.method,
        prepared.url,
        prepared.headers,
        body_of(prepared) if body is None else body,
        resolve_key=keyring,
        now=now,
        max_skew=SKEW,
        **options,
    )


def refusal(check: Callable[[], object]) -> SignatureInvalid:
    """The SignatureInvalid that ``check`` raises."""
    with pytest.raises(SignatureInvalid) as caught:
        check()
    return caught.value


def edit_field(
    prepared: requests.PreparedRequest, name: str, edit: Callable[[str], str]
) -> requests.PreparedRequest:
    """Change one header of a signed request, as a meddler on the path would."""
    prepared.headers[name] = edit(prepared.headers[name])
    return prepared
