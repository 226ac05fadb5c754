"""Partner keys: PEM and JWK in, key ids, algorithms, refusals, and generated keypairs."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519

from exchange.errors import InvalidRequest
from exchange.signing.errors import KeyRefused
from exchange.signing.keys import (
    ALGORITHMS,
    Algorithm,
    PublicKeyInfo,
    algorithm_of,
    generate_private_key,
    jwk_of,
    jwk_thumbprint,
    load_private_key_pem,
    load_public_key,
    private_key_pem,
    public_key_from_jwk,
    public_key_from_pem,
    public_key_info,
    public_key_pem,
)

# RFC 8037 appendix A.2 (public key) and A.3 (its RFC 7638 thumbprint).
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
# RFC 9421 appendix B.1.3: test-key-ecc-p256, public half.
RFC9421_P256_PEM = """-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----
"""
RFC9421_P256_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "qIVYZVLCrPZHGHjP17CTW0_-D9Lfw0EkjqF7xB4FivA",
    "y": "Mc4nN9LTDOBhfoUeg8Ye9WedFRhnZXZJA12Qp0zZ6F0",
}


def _pem(key: object) -> bytes:
    assert hasattr(key, "public_bytes")
    return key.public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pem_round_trip(algorithm: Algorithm) -> None:
    key = generate_private_key(algorithm)
    info = public_key_from_pem(public_key_pem(key.public_key()))
    assert info.algorithm == algorithm == algorithm_of(key)
    assert info.key_id == jwk_thumbprint(key.public_key()) == info.thumbprint()
    assert len(info.key_id) == 43
    assert load_public_key(info.pem()) == info


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_jwk_round_trip(algorithm: Algorithm) -> None:
    key = generate_private_key(algorithm)
    info = public_key_info(key.public_key(), "partner-7")
    jwk = info.jwk()
    assert jwk["kid"] == "partner-7"
    assert jwk["use"] == "sig"
    again = public_key_from_jwk(jwk, "partner-7")
    assert again == info
    assert load_public_key(json.dumps(jwk)).key_id == info.thumbprint()  # kid is not trusted


def test_the_rfc_8037_thumbprint_is_reproduced() -> None:
    info = public_key_from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})
    assert info.key_id == RFC8037_THUMBPRINT
    assert info.algorithm == "ed25519"
    assert jwk_of(info.public_key) == {"crv": "Ed25519", "kty": "OKP", "x": RFC8037_X}


def test_the_rfc_9421_p256_key_reads_the_same_as_pem_and_jwk() -> None:
    from_pem = public_key_from_pem(RFC9421_P256_PEM, "test-key-ecc-p256")
    from_jwk = public_key_from_jwk({**RFC9421_P256_JWK, "alg": "ES256"}, "test-key-ecc-p256")
    assert from_pem == from_jwk
    assert from_pem.algorithm == "ecdsa-p256-sha256"
    assert jwk_of(from_pem.public_key) == {
        key: RFC9421_P256_JWK[key] for key in ("crv", "kty", "x", "y")
    }


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (
            rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key(),
            "unsupported",
        ),
        (ec.generate_private_key(ec.SECP384R1()).public_key(), "unsupported"),
        (x25519.X25519PrivateKey.generate().public_key(), "unsupported"),
    ],
    ids=["rsa", "p-384", "x25519"],
)
def test_other_key_types_are_refused_in_pem(key: object, reason: str) -> None:
    with pytest.raises(KeyRefused) as caught:
        public_key_from_pem(_pem(key))
    assert caught.value.reason == reason
    assert isinstance(caught.value, InvalidRequest)


@pytest.mark.parametrize(
    "text",
    [
        "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
        "[1, 2]",
        "{not json",
        "x" * 20000,
    ],
)
def test_unreadable_text_is_malformed(text: str) -> None:
    with pytest.raises(KeyRefused) as caught:
        load_public_key(text)
    assert caught.value.reason == "malformed"


def test_a_private_key_offered_as_public_is_refused() -> None:
    pem = private_key_pem(generate_private_key())
    with pytest.raises(KeyRefused, match="private key"):
        public_key_from_pem(pem)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "d": "secret"}
    with pytest.raises(KeyRefused, match="private key"):
        public_key_from_jwk(jwk)


@pytest.mark.parametrize(
    ("jwk", "reason"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "unsupported"),
        ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "unsupported"),
        ({"kty": "OKP", "crv": "X25519", "x": RFC8037_X}, "unsupported"),
        ({"kty": "oct", "k": "AAAA"}, "unsupported"),
        ({"kty": "OKP", "crv": "Ed25519"}, "malformed"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X[:-2]}, "malformed"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X + "="}, "malformed"),
        ({"kty": "OKP", "crv": "Ed25519", "x": 5}, "malformed"),
        ({"kty": "OKP", "crv": "Ed25519", "x": "!!" + RFC8037_X[2:]}, "malformed"),
        ({**RFC9421_P256_JWK, "y": RFC9421_P256_JWK["x"]}, "malformed"),  # not on the curve
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "alg": "ES256"}, "unsupported"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "use": "enc"}, "unsupported"),
        ({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X, "key_ops": ["sign"]}, "unsupported"),
    ],
)
def test_bad_jwks_are_refused(jwk: dict[str, object], reason: str) -> None:
    with pytest.raises(KeyRefused) as caught:
        public_key_from_jwk(jwk)
    assert caught.value.reason == reason


def test_jwk_metadata_that_agrees_is_accepted() -> None:
    jwk = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": RFC8037_X,
        "alg": "EdDSA",
        "use": "sig",
        "key_ops": ["verify"],
        "kid": "ignored",
    }
    assert public_key_from_jwk(jwk).key_id == RFC8037_THUMBPRINT


def test_an_info_must_name_its_keys_own_algorithm() -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    with pytest.raises(KeyRefused):
        PublicKeyInfo("k", "ecdsa-p256-sha256", key)
    with pytest.raises(ValueError, match="empty"):
        PublicKeyInfo("", "ed25519", key)


def test_algorithm_of_refuses_other_objects() -> None:
    with pytest.raises(KeyRefused):
        algorithm_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))  # type: ignore[arg-type]
    with pytest.raises(KeyRefused, match="P-256"):
        algorithm_of(ec.generate_private_key(ec.SECP384R1()))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_private_keys_round_trip_through_pem(algorithm: Algorithm) -> None:
    key = generate_private_key(algorithm)
    pem = private_key_pem(key)
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----")
    again = load_private_key_pem(pem)
    assert jwk_thumbprint(again.public_key()) == jwk_thumbprint(key.public_key())
    locked = private_key_pem(key, password=b"correct horse")
    assert b"ENCRYPTED" in locked
    assert jwk_thumbprint(load_private_key_pem(locked, b"correct horse").public_key()) == (
        jwk_thumbprint(key.public_key())
    )
    with pytest.raises(KeyRefused):
        load_private_key_pem(locked, b"wrong")


def test_other_private_keys_are_refused() -> None:
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(KeyRefused) as caught:
        load_private_key_pem(rsa_pem)
    assert caught.value.reason == "unsupported"
    with pytest.raises(KeyRefused) as caught:
        load_private_key_pem("not a key")
    assert caught.value.reason == "malformed"


def test_generating_an_unknown_algorithm_is_an_error() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        generate_private_key("rsa-pss-sha512")  # type: ignore[arg-type]
