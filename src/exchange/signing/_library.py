"""The seam to ``http-message-signatures`` (pyauth): algorithm classes and message views.

Everything the signing package needs from the library's untyped corners is here, so the public
modules stay typed: which library algorithm class serves which of our algorithms, the small
request/response objects its component resolver reads (RFC 9421 section 2: ``method``, ``url``,
``headers``; ``status_code`` and ``request`` for a response), and the signature base rebuilt from
a verified result.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature as CryptoInvalidSignature
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPSignatureAlgorithm,
    VerifyResult,
    algorithms,
)

from exchange.signing.keys import Algorithm, PrivateKey, PublicKey

__all__ = [
    "ALGORITHM_CLASSES",
    "RequestView",
    "ResponseView",
    "combine_fields",
    "sign_bytes",
    "signature_base_of",
    "verify_bytes",
]

ALGORITHM_CLASSES: Final[Mapping[Algorithm, type[HTTPSignatureAlgorithm]]] = {
    "ed25519": algorithms.ED25519,  # RFC 9421 section 3.3.6
    "ecdsa-p256-sha256": algorithms.ECDSA_P256_SHA256,  # RFC 9421 section 3.3.4
}


@dataclass
class RequestView:
    """A request as the library's component resolver reads it (no body: digests are ours)."""

    method: str
    url: str
    headers: dict[str, str]


@dataclass
class ResponseView:
    """A response as the library's component resolver reads it; ``request`` serves ``;req``."""

    status_code: int
    headers: dict[str, str]
    request: RequestView | None = None


def combine_fields(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """Field values by lower-cased name, repeated lines joined with ``", "`` in order.

    RFC 9421 section 2.1: a field's component value is its field lines combined as RFC 9110
    section 5.3 says, each value stripped of leading and trailing whitespace. A mapping whose
    ``items()`` yields a name more than once (Starlette's ``Headers`` does) is combined the same.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    combined: dict[str, list[str]] = {}
    for name, value in pairs:
        combined.setdefault(name.lower(), []).append(value.strip(" \t"))
    return {name: ", ".join(values) for name, values in combined.items()}


def signature_base_of(result: VerifyResult) -> bytes:
    """The signature base the library verified, rebuilt from its result (RFC 9421 section 2.5).

    ``covered_components`` maps each serialized component identifier to its value, in order,
    ending with ``"@signature-params"``: one ``identifier: value`` line each, joined by LF.
    """
    lines = (f"{name}: {value}" for name, value in result.covered_components.items())
    return "\n".join(lines).encode("ascii")


def verify_bytes(
    algorithm: Algorithm, public_key: PublicKey, signature: bytes, message: bytes
) -> bool:
    """Whether ``signature`` is ``algorithm``'s signature of ``message`` under ``public_key``."""
    try:
        verifier = ALGORITHM_CLASSES[algorithm](public_key=public_key)
        verifier.verify(signature=signature, message=message)
    except (CryptoInvalidSignature, HTTPMessageSignaturesException, ValueError, TypeError):
        return False
    return True


def sign_bytes(algorithm: Algorithm, private_key: PrivateKey, message: bytes) -> bytes:
    """``algorithm``'s signature of ``message`` (ECDSA as ``r || s``, RFC 9421 section 3.3.4)."""
    signer = ALGORITHM_CLASSES[algorithm](private_key=private_key)
    signature = signer.sign(message)
    assert isinstance(signature, bytes)
    return signature
