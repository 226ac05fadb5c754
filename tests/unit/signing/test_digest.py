"""Content-Digest (RFC 9530): computing, parsing and checking it."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.errors import InvalidRequest
from exchange.signing.digest import (
    compute_content_digest,
    content_digest,
    parse_content_digest,
    verify_content_digest,
)
from exchange.signing.errors import ContentDigestInvalid

HELLO = b'{"hello": "world"}'
# RFC 9530 section 2 and RFC 9421 appendix B.2 print these for HELLO.
HELLO_SHA256 = "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"
HELLO_SHA512 = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWX"
    "vJwew==:"
)


def test_the_published_digests_are_reproduced() -> None:
    assert content_digest(HELLO) == HELLO_SHA256
    assert content_digest(HELLO, "sha-512") == HELLO_SHA512
    assert compute_content_digest(HELLO) == hashlib.sha256(HELLO).digest()


def test_an_empty_body_has_a_digest() -> None:
    assert content_digest(b"") == "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:"
    assert verify_content_digest(content_digest(b""), b"") == ("sha-256",)


def test_an_unknown_algorithm_cannot_be_computed() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        content_digest(HELLO, "md5")  # type: ignore[arg-type]


def test_parse_gives_every_member_including_unknown_ones() -> None:
    md5 = base64.b64encode(hashlib.md5(HELLO).digest()).decode()
    parsed = parse_content_digest(f"{HELLO_SHA256}, md5=:{md5}:, {HELLO_SHA512}")
    assert set(parsed) == {"sha-256", "md5", "sha-512"}
    assert parsed["sha-512"] == hashlib.sha512(HELLO).digest()


def test_both_supported_algorithms_verify_and_are_reported() -> None:
    assert verify_content_digest(HELLO_SHA512, HELLO) == ("sha-512",)
    assert verify_content_digest(f"{HELLO_SHA256}, {HELLO_SHA512}", HELLO) == (
        "sha-256",
        "sha-512",
    )


def test_unknown_algorithms_are_ignored_beside_a_known_one() -> None:
    assert verify_content_digest(f"unixsum=:AAAA:, {HELLO_SHA256}", HELLO) == ("sha-256",)


def test_only_unknown_algorithms_is_unsupported() -> None:
    with pytest.raises(ContentDigestInvalid) as caught:
        verify_content_digest("md5=:1B2M2Y8AsgTpgAmY7PhCfg==:, crc32c=:AAAAAA==:", HELLO)
    assert caught.value.reason == "unsupported_algorithm"
    assert "crc32c, md5" in caught.value.detail


def test_a_mismatch_is_reported() -> None:
    with pytest.raises(ContentDigestInvalid) as caught:
        verify_content_digest(HELLO_SHA256, HELLO + b" ")
    assert caught.value.reason == "mismatch"
    assert isinstance(caught.value, InvalidRequest)


def test_every_supported_member_must_match() -> None:
    wrong512 = content_digest(b"something else", "sha-512")
    with pytest.raises(ContentDigestInvalid) as caught:
        verify_content_digest(f"{HELLO_SHA256}, {wrong512}", HELLO)
    assert caught.value.reason == "mismatch"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "sha-256",  # a bare key is Boolean true, not bytes
        "sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",  # not a byte sequence
        'sha-256="X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="',
        "sha-256=(:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:)",  # an inner list
        "sha-256=:AAAA:",  # 3 bytes, not 32
        "sha-512=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",  # 32 bytes, not 64
        f"{HELLO_SHA256}, {HELLO_SHA256}",  # the same algorithm twice
        "SHA-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",  # keys are lower case
        "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:,",
        "sha-256=:\u00e9:",
        "sha-256=:" + "A" * 5000 + ":",
    ],
)
def test_malformed_fields_are_refused(value: str) -> None:
    with pytest.raises(ContentDigestInvalid) as caught:
        verify_content_digest(value, HELLO)
    assert caught.value.reason == "malformed"


def test_parameters_on_a_member_are_ignored() -> None:
    assert verify_content_digest(f"{HELLO_SHA256};note=1", HELLO) == ("sha-256",)


@given(st.binary(max_size=2048), st.sampled_from(["sha-256", "sha-512"]))
def test_a_digest_verifies_its_body_and_no_other(body: bytes, algorithm: str) -> None:
    value = content_digest(body, algorithm)  # type: ignore[arg-type]
    assert verify_content_digest(value, body) == (algorithm,)
    with pytest.raises(ContentDigestInvalid):
        verify_content_digest(value, body + b"\x00")
