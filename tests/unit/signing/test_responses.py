"""Response signatures (RFC 9421 section 2.2.9 ``@status``): the hub signs, analysts verify."""

from __future__ import annotations

from datetime import timedelta

import pytest

from exchange.signing.digest import content_digest
from exchange.signing.errors import ContentDigestInvalid
from exchange.signing.responses import sign_response
from exchange.signing.verify import (
    RESPONSE_COMPONENTS,
    OriginalRequest,
    VerifiedSignature,
    verify_response,
)
from tests.unit.signing.support import NOW, SKEW, TAXII, URL, Keyring, Partner, refusal

ENVELOPE = b'{"more": false, "objects": []}'
HEADERS = {"Content-Type": TAXII, "X-Request-Id": "42"}


def _verify(
    status: int, headers: dict[str, str], body: bytes, keyring: Keyring, **options: object
) -> VerifiedSignature:
    return verify_response(
        status,
        headers,
        body,
        resolve_key=keyring,
        now=NOW,
        max_skew=SKEW,
        **options,  # type: ignore[arg-type]
    )


def test_a_signed_response_verifies(partner: Partner, keyring: Keyring) -> None:
    added = sign_response(200, HEADERS, ENVELOPE, partner.key, partner.key_id, NOW)
    assert set(added) == {"Content-Digest", "Signature-Input", "Signature"}
    assert added["Content-Digest"] == content_digest(ENVELOPE)
    verified = _verify(200, {**HEADERS, **added}, ENVELOPE, keyring)
    assert verified.covered_components == RESPONSE_COMPONENTS
    assert verified.key_id == partner.key_id
    assert verified.nonce is None
    assert verified.signature_base.startswith(b'"@status": 200\n')


def test_a_response_can_be_bound_to_its_request(partner: Partner, keyring: Keyring) -> None:
    request = OriginalRequest("GET", URL + "?limit=10")
    added = sign_response(
        200, HEADERS, ENVELOPE, partner.key, partner.key_id, NOW, request=request, nonce="n-1"
    )
    headers = {**HEADERS, **added}
    bound = (*RESPONSE_COMPONENTS, '"@method";req', '"@target-uri";req')
    verified = _verify(200, headers, ENVELOPE, keyring, request=request, required_components=bound)
    assert verified.covered_components == bound
    assert verified.nonce == "n-1"
    assert f'"@target-uri";req: {URL}?limit=10'.encode() in verified.signature_base
    other = OriginalRequest("GET", URL + "?limit=11")
    error = refusal(lambda: _verify(200, headers, ENVELOPE, keyring, request=other))
    assert error.reason == "bad_signature"


def test_a_changed_status_is_bad_signature(partner: Partner, keyring: Keyring) -> None:
    added = sign_response(404, HEADERS, ENVELOPE, partner.key, partner.key_id, NOW)
    error = refusal(lambda: _verify(200, {**HEADERS, **added}, ENVELOPE, keyring))
    assert error.reason == "bad_signature"


def test_a_changed_body_is_digest_mismatch(partner: Partner, keyring: Keyring) -> None:
    added = sign_response(200, HEADERS, ENVELOPE, partner.key, partner.key_id, NOW)
    error = refusal(lambda: _verify(200, {**HEADERS, **added}, b"{}", keyring))
    assert error.reason == "digest_mismatch"


def test_an_old_response_is_stale(partner: Partner, keyring: Keyring) -> None:
    then = NOW - SKEW - timedelta(seconds=1)
    added = sign_response(200, HEADERS, ENVELOPE, partner.key, partner.key_id, then)
    assert refusal(lambda: _verify(200, {**HEADERS, **added}, ENVELOPE, keyring)).reason == (
        "stale"
    )


def test_an_existing_digest_is_kept_if_it_matches(partner: Partner, keyring: Keyring) -> None:
    digest = content_digest(ENVELOPE, "sha-512")
    headers = {**HEADERS, "Content-Digest": digest}
    added = sign_response(200, headers, ENVELOPE, partner.key, partner.key_id, NOW)
    assert set(added) == {"Signature-Input", "Signature"}
    _verify(200, {**headers, **added}, ENVELOPE, keyring)
    with pytest.raises(ContentDigestInvalid):
        sign_response(200, headers, b"{}", partner.key, partner.key_id, NOW)


def test_a_response_without_content_is_signed_without_a_media_type(
    partner: Partner, keyring: Keyring
) -> None:
    added = sign_response(204, {}, b"", partner.key, partner.key_id, NOW)
    verified = _verify(204, added, b"", keyring, required_components=("@status", "content-digest"))
    assert verified.covered_components == ("@status", "content-digest")


def test_naive_time_is_refused(partner: Partner) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sign_response(200, HEADERS, ENVELOPE, partner.key, partner.key_id, NOW.replace(tzinfo=None))
