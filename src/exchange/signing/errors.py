"""The signing package's leaves of the error tree (root: :class:`exchange.errors.ExchangeError`).

Each error carries a machine-readable ``reason`` (stable: callers, logs and metrics match on it)
and a human ``detail`` that is safe to show to the client who sent the message. The HTTP layer
maps them by their base classes: a signature that does not hold is an authentication failure
(401), a malformed digest or key is an invalid request (400).
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from exchange.errors import AuthenticationFailed, InvalidRequest

__all__ = [
    "DIGEST_REASONS",
    "KEY_REASONS",
    "SIGNATURE_REASONS",
    "ContentDigestInvalid",
    "DigestReason",
    "KeyReason",
    "KeyRefused",
    "SignatureInvalid",
    "SignatureReason",
]

SignatureReason = Literal[
    "missing_signature",
    "malformed_signature",
    "missing_component",
    "digest_mismatch",
    "stale",
    "expired",
    "missing_nonce",
    "unknown_key",
    "algorithm_mismatch",
    "bad_signature",
]
SIGNATURE_REASONS: Final[frozenset[str]] = frozenset(get_args(SignatureReason))

DigestReason = Literal["malformed", "unsupported_algorithm", "mismatch"]
DIGEST_REASONS: Final[frozenset[str]] = frozenset(get_args(DigestReason))

KeyReason = Literal["malformed", "unsupported"]
KEY_REASONS: Final[frozenset[str]] = frozenset(get_args(KeyReason))


class SignatureInvalid(AuthenticationFailed):
    """An HTTP message signature (RFC 9421) that the hub does not accept.

    ``reason`` says which verification step refused it:

    - ``missing_signature``: no ``Signature``/``Signature-Input`` field, or not the named label;
    - ``malformed_signature``: the fields are not the structured fields RFC 9421 section 4
      defines, or several signatures and none named;
    - ``missing_component``: a component the hub requires is not covered (or a body is not
      covered by a ``content-digest``);
    - ``digest_mismatch``: ``Content-Digest`` (RFC 9530) is malformed, of no supported
      algorithm, or does not match the body;
    - ``stale``: ``created`` is missing, older than the allowed skew, or in the future beyond it;
    - ``expired``: ``expires`` has passed;
    - ``missing_nonce``: no ``nonce`` parameter (the hub needs one for its replay check);
    - ``unknown_key``: no ``keyid``, or the key resolver does not know it;
    - ``algorithm_mismatch``: the ``alg`` parameter is not the algorithm of the resolved key;
    - ``bad_signature``: the signature does not verify over the message as received.
    """

    title = "Signature invalid"

    def __init__(self, reason: SignatureReason, detail: str) -> None:
        if reason not in SIGNATURE_REASONS:
            raise ValueError(f"unknown signature reason {reason!r}")
        super().__init__(detail)
        self.reason: SignatureReason = reason

    def diagnostics(self) -> str:
        """A human explanation with the reason code, for command-line output and logs."""
        return f"{self.title} ({self.reason}): {self.detail}"


class ContentDigestInvalid(InvalidRequest):
    """A ``Content-Digest`` field (RFC 9530) that is malformed, unusable or does not match.

    ``reason`` is ``malformed`` (not a structured-field dictionary of byte sequences, or a digest
    of the wrong length), ``unsupported_algorithm`` (no member of an algorithm the hub computes),
    or ``mismatch`` (a supported digest differs from the body's).
    """

    title = "Content digest invalid"

    def __init__(self, reason: DigestReason, detail: str) -> None:
        if reason not in DIGEST_REASONS:
            raise ValueError(f"unknown digest reason {reason!r}")
        super().__init__(detail)
        self.reason: DigestReason = reason

    def diagnostics(self) -> str:
        """A human explanation with the reason code, for command-line output and logs."""
        return f"{self.title} ({self.reason}): {self.detail}"


class KeyRefused(InvalidRequest):
    """A public or private key the hub will not use.

    ``reason`` is ``malformed`` (not a PEM SubjectPublicKeyInfo, PKCS #8 private key or JWK the
    hub can read) or ``unsupported`` (a readable key of a type other than Ed25519 or ECDSA P-256,
    or a JWK whose metadata contradicts its key).
    """

    title = "Key refused"

    def __init__(self, reason: KeyReason, detail: str) -> None:
        if reason not in KEY_REASONS:
            raise ValueError(f"unknown key reason {reason!r}")
        super().__init__(detail)
        self.reason: KeyReason = reason

    def diagnostics(self) -> str:
        """A human explanation with the reason code, for command-line output and logs."""
        return f"{self.title} ({self.reason}): {self.detail}"
