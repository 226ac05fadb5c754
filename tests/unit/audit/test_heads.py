"""Signed tree heads: canonical bytes, Ed25519 round trip, tamper detection, key ids."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from exchange.audit.errors import AuditError
from exchange.audit.heads import (
    HEAD_CONTEXT,
    HeadSigner,
    TreeHead,
    key_id,
    public_key_bytes,
    verify_head,
)
from exchange.audit.merkle import EMPTY_ROOT, leaf_hash, root

HEAD = TreeHead.of(
    3, root([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")]), "2025-03-01T12:00:00Z"
)

# RFC 8032 section 7.1, TEST 1: the secret key, its public key, and the signature of "".
RFC8032_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
    "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


@pytest.fixture(scope="module")
def signer() -> HeadSigner:
    return HeadSigner.from_private_bytes(bytes.fromhex(RFC8032_SECRET))


def test_the_signer_is_plain_ed25519(signer: HeadSigner) -> None:
    assert public_key_bytes(signer.public_key).hex() == RFC8032_PUBLIC
    assert signer.private_key.sign(b"").hex() == RFC8032_SIGNATURE


def test_canonical_bytes_and_signed_message() -> None:
    assert HEAD.canonical_bytes() == (
        b'{"root":"' + HEAD.root.encode() + b'","size":3,"timestamp":"2025-03-01T12:00:00Z"}'
    )
    assert HEAD.signed_message() == HEAD_CONTEXT + HEAD.canonical_bytes()


def test_a_signature_round_trips(signer: HeadSigner) -> None:
    signature = signer.sign(HEAD)
    assert len(signature) == 64
    assert verify_head(HEAD, signature, signer.public_key)
    assert verify_head(HEAD, signature, public_key_bytes(signer.public_key))


def test_a_fresh_key_signs_and_verifies() -> None:
    fresh = HeadSigner.generate()
    signed = fresh.sign_head(HEAD)
    assert signed.key_id == fresh.key_id
    assert verify_head(signed.head, signed.signature, fresh.public_key)
    assert signed.to_json()["signature"] == signed.signature.hex()


@pytest.mark.parametrize(
    "tampered",
    [
        replace(HEAD, size=4),
        replace(HEAD, root=EMPTY_ROOT.hex()),
        replace(HEAD, timestamp="2025-03-01T12:00:01Z"),
    ],
    ids=["size", "root", "timestamp"],
)
def test_a_changed_head_fails(signer: HeadSigner, tampered: TreeHead) -> None:
    assert not verify_head(tampered, signer.sign(HEAD), signer.public_key)


def test_a_changed_signature_or_another_key_fails(signer: HeadSigner) -> None:
    signature = signer.sign(HEAD)
    for position in (0, 31, 63):
        flipped = bytearray(signature)
        flipped[position] ^= 0x01
        assert not verify_head(HEAD, bytes(flipped), signer.public_key)
    assert not verify_head(HEAD, signature, HeadSigner.generate().public_key)
    assert not verify_head(HEAD, signature[:63], signer.public_key)
    assert not verify_head(HEAD, signature, b"\x00" * 31)


def test_a_signature_over_the_bare_canonical_bytes_is_not_a_head_signature(
    signer: HeadSigner,
) -> None:
    assert not verify_head(HEAD, signer.private_key.sign(HEAD.canonical_bytes()), signer.public_key)


def test_key_ids_are_sha256_of_the_raw_public_key(signer: HeadSigner) -> None:
    raw = bytes.fromhex(RFC8032_PUBLIC)
    assert key_id(raw) == hashlib.sha256(raw).hexdigest()
    assert key_id(signer.public_key) == key_id(raw) == signer.key_id
    with pytest.raises(AuditError):
        key_id(raw[:31])


def test_json_round_trip() -> None:
    assert TreeHead.from_json(HEAD.to_json()) == HEAD
    assert HEAD.root_bytes == bytes.fromhex(HEAD.root)
    with pytest.raises(AuditError):
        TreeHead.from_json({"size": 1, "root": HEAD.root})


@pytest.mark.parametrize(
    ("size", "root_hex", "timestamp"),
    [
        (-1, EMPTY_ROOT.hex(), "2025-03-01T12:00:00Z"),
        (True, EMPTY_ROOT.hex(), "2025-03-01T12:00:00Z"),
        (0, EMPTY_ROOT.hex().upper(), "2025-03-01T12:00:00Z"),
        (0, EMPTY_ROOT.hex()[:62], "2025-03-01T12:00:00Z"),
        (0, EMPTY_ROOT.hex(), "yesterday"),
    ],
    ids=["negative", "bool", "upper-hex", "short", "timestamp"],
)
def test_invalid_heads_raise(size: int, root_hex: str, timestamp: str) -> None:
    with pytest.raises(AuditError):
        TreeHead(size, root_hex, timestamp)


def test_invalid_keys_raise() -> None:
    with pytest.raises(AuditError):
        HeadSigner.from_private_bytes(b"\x00" * 31)
    with pytest.raises(AuditError):
        TreeHead.of(1, b"\x00" * 31, "2025-03-01T12:00:00Z")
