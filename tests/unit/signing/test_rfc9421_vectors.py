"""RFC 9421 appendix B test vectors, with the RFC's own keys (appendix B.1).

B.2.6 (ed25519 over a request) is deterministic: the RFC's private key must reproduce the
printed signature byte for byte. B.2.4 (ecdsa-p256-sha256 over a response) is not, so it is
verified, end to end, from the message. The keys are checked against each other before use: a
mistyped key would otherwise look like a signature bug.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ed25519

from exchange.signing._library import sign_bytes
from exchange.signing.errors import SignatureInvalid
from exchange.signing.keys import (
    PublicKeyInfo,
    load_private_key_pem,
    public_key_from_pem,
    public_key_pem,
)
from exchange.signing.verify import (
    parse_signature,
    verify_evidence,
    verify_request,
    verify_response,
)
from tests.unit.signing.support import refusal

CREATED = 1618884473
AT = datetime.fromtimestamp(CREATED, UTC)

# Appendix B.1.4: test-key-ed25519.
ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# Appendix B.1.3: test-key-ecc-p256, public half.
P256_PUBLIC = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----
"""

# Appendix B.2: the test request and the test response.
REQUEST_URL = "https://example.com/foo?param=Value&Pet=dog"
REQUEST_BODY = b'{"hello": "world"}'
REQUEST_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmT"
        "HWXvJwew==:"
    ),
    "Content-Length": "18",
}
RESPONSE_BODY = b'{"message": "good dog"}'
RESPONSE_HEADERS = {
    "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
    "Content-Type": "application/json",
    "Content-Digest": (
        "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l"
        "5aGgfLQ==:"
    ),
    "Content-Length": "23",
}

# Appendix B.2.6.
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
)
B26_BASE = "\n".join(
    [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@authority" "content-type"'
        ' "content-length");created=1618884473;keyid="test-key-ed25519"',
    ]
).encode()

# Appendix B.2.4.
B24_INPUT = (
    'sig-b24=("@status" "content-type" "content-digest" "content-length")'
    ';created=1618884473;keyid="test-key-ecc-p256"'
)
B24_SIGNATURE = (
    "wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw=="
)
B24_BASE = "\n".join(
    [
        '"@status": 200',
        '"content-type": application/json',
        f'"content-digest": {RESPONSE_HEADERS["Content-Digest"]}',
        '"content-length": 23',
        '"@signature-params": ("@status" "content-type" "content-digest" "content-length")'
        ';created=1618884473;keyid="test-key-ecc-p256"',
    ]
).encode()


def _ed25519() -> tuple[ed25519.Ed25519PrivateKey, PublicKeyInfo]:
    private = load_private_key_pem(ED25519_PRIVATE)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    public = public_key_from_pem(ED25519_PUBLIC, "test-key-ed25519")
    # The private key printed in B.1.4 is the one whose public half B.1.4 prints.
    assert public_key_pem(private.public_key()) == ED25519_PUBLIC
    return private, public


def test_b26_the_rfc_key_reproduces_the_printed_signature() -> None:
    private, public = _ed25519()
    signature = sign_bytes("ed25519", private, B26_BASE)
    assert base64.b64encode(signature).decode() == B26_SIGNATURE
    assert verify_evidence(B26_BASE, signature, public)


def test_b26_parses_as_printed() -> None:
    headers = {**REQUEST_HEADERS, "Signature-Input": B26_INPUT}
    headers["Signature"] = f"sig-b26=:{B26_SIGNATURE}:"
    parsed = parse_signature(headers)
    assert parsed.label == "sig-b26"
    assert parsed.components == (
        "date",
        "@method",
        "@path",
        "@authority",
        "content-type",
        "content-length",
    )
    assert parsed.created == CREATED
    assert parsed.key_id == "test-key-ed25519"
    assert parsed.alg is None
    assert parsed.nonce is None
    assert parsed.signature == base64.b64decode(B26_SIGNATURE)
    assert B26_BASE.endswith(parsed.signature_params.encode())


def test_b26_is_valid_rfc_9421_but_not_hub_policy() -> None:
    # It signs neither the body's digest nor a nonce: the hub must refuse it, for the body.
    _, public = _ed25519()
    headers = {**REQUEST_HEADERS, "Signature-Input": B26_INPUT}
    headers["Signature"] = f"sig-b26=:{B26_SIGNATURE}:"
    error = refusal(
        lambda: verify_request(
            "POST",
            REQUEST_URL,
            headers,
            REQUEST_BODY,
            resolve_key=lambda key_id: public if key_id == "test-key-ed25519" else None,
            now=AT,
            max_skew=timedelta(minutes=5),
            required_components=("@method", "@path", "@authority", "content-type"),
        )
    )
    assert isinstance(error, SignatureInvalid)
    assert error.reason == "missing_component"


def test_b24_verifies_end_to_end_as_a_response() -> None:
    public = public_key_from_pem(P256_PUBLIC, "test-key-ecc-p256")
    headers = {**RESPONSE_HEADERS, "Signature-Input": B24_INPUT}
    headers["Signature"] = f"sig-b24=:{B24_SIGNATURE}:"
    verified = verify_response(
        200,
        headers,
        RESPONSE_BODY,
        resolve_key=lambda key_id: public if key_id == "test-key-ecc-p256" else None,
        now=AT + timedelta(seconds=30),
        max_skew=timedelta(minutes=5),
    )
    assert verified.signature_base == B24_BASE
    assert verified.key_id == "test-key-ecc-p256"
    assert verified.algorithm == "ecdsa-p256-sha256"
    assert verified.created == AT
    assert verified.nonce is None
    assert verify_evidence(B24_BASE, base64.b64decode(B24_SIGNATURE), public)
    # The same response with another status is not what was signed.
    error = refusal(
        lambda: verify_response(
            201,
            headers,
            RESPONSE_BODY,
            resolve_key=lambda key_id: public,
            now=AT,
            max_skew=timedelta(minutes=5),
        )
    )
    assert error.reason == "bad_signature"
