"""Partner keys for HTTP message signatures: read, name, and (for tests and tooling) make them.

The hub accepts exactly two kinds of key, one per RFC 9421 algorithm it verifies:

- Ed25519 (RFC 8032), algorithm ``ed25519`` (RFC 9421 section 3.3.6);
- ECDSA on P-256 with SHA-256, algorithm ``ecdsa-p256-sha256`` (RFC 9421 section 3.3.4).

A public key arrives as PEM ``SubjectPublicKeyInfo`` (RFC 5280 section 4.1, RFC 8410 for
Ed25519) or as a JWK (RFC 7517; ``OKP``/``Ed25519`` per RFC 8037, ``EC``/``P-256`` per RFC 7518
section 6.2). Anything else (RSA, other curves, X25519, private keys offered as public ones) is
refused with :class:`KeyRefused`. A key's default id is its RFC 7638 JWK thumbprint (SHA-256,
base64url without padding), so partner and hub derive the same id from the key alone.

Pure: no I/O, no clock, no state. Key generation draws on the operating system's randomness
through ``cryptography``, which is the point of it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from exchange.signing.errors import KeyRefused

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "PrivateKey",
    "PublicKey",
    "PublicKeyInfo",
    "algorithm_of",
    "generate_private_key",
    "jwk_of",
    "jwk_thumbprint",
    "load_private_key_pem",
    "load_public_key",
    "private_key_pem",
    "public_key_from_jwk",
    "public_key_from_pem",
    "public_key_info",
    "public_key_pem",
]

Algorithm = Literal["ed25519", "ecdsa-p256-sha256"]
ALGORITHMS: Final[tuple[Algorithm, ...]] = ("ed25519", "ecdsa-p256-sha256")

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

_P256_COORDINATE = 32
_ED25519_LENGTH = 32
_MAX_KEY_TEXT = 16_384
# JWK "alg" values (RFC 8037 section 3.1, RFC 7518 section 3.1) that agree with each algorithm.
_JWK_ALG: Final[dict[Algorithm, str]] = {"ed25519": "EdDSA", "ecdsa-p256-sha256": "ES256"}


@dataclass(frozen=True, slots=True)
class PublicKeyInfo:
    """A partner's public key, the id signatures name it by, and the one algorithm it serves.

    Construct it with :func:`public_key_info`, :func:`public_key_from_pem`,
    :func:`public_key_from_jwk` or :func:`load_public_key`; the constructor checks that
    ``algorithm`` is the key's own algorithm. Holding one says nothing about whether the key is
    trusted: that is the key resolver's decision (which partner owns it, whether it is revoked).
    """

    key_id: str
    algorithm: Algorithm
    public_key: PublicKey

    def __post_init__(self) -> None:
        if not self.key_id:
            raise ValueError("a key id must not be empty")
        if algorithm_of(self.public_key) != self.algorithm:
            raise KeyRefused(
                "unsupported",
                f"a {algorithm_of(self.public_key)} key cannot serve {self.algorithm}",
            )

    def pem(self) -> str:
        """The key as PEM ``SubjectPublicKeyInfo``."""
        return public_key_pem(self.public_key)

    def jwk(self) -> dict[str, str]:
        """The key as a public JWK, with ``kid``, ``alg`` and ``use`` set."""
        return {
            **jwk_of(self.public_key),
            "kid": self.key_id,
            "alg": _JWK_ALG[self.algorithm],
            "use": "sig",
        }

    def thumbprint(self) -> str:
        """The key's RFC 7638 JWK thumbprint (which is ``key_id`` unless another was given)."""
        return jwk_thumbprint(self.public_key)


def algorithm_of(key: PublicKey | PrivateKey) -> Algorithm:
    """The RFC 9421 algorithm a key serves: ``ed25519`` or ``ecdsa-p256-sha256``.

    Raises :class:`KeyRefused` (``unsupported``) for any other key, so callers holding a key
    object of unknown provenance learn that here rather than at signing time.
    """
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ecdsa-p256-sha256"
        raise KeyRefused(
            "unsupported", f"EC keys must be on P-256 (secp256r1), not {key.curve.name}"
        )
    raise KeyRefused(
        "unsupported", f"only Ed25519 and ECDSA P-256 keys are accepted, not {_kind(key)}"
    )


def public_key_info(key: PublicKey, key_id: str | None = None) -> PublicKeyInfo:
    """Wrap a key object: its algorithm, and ``key_id`` or else its JWK thumbprint."""
    algorithm = algorithm_of(key)
    return PublicKeyInfo(key_id or jwk_thumbprint(key), algorithm, key)


# Reading public keys -------------------------------------------------------------------------
def load_public_key(text: str | bytes, key_id: str | None = None) -> PublicKeyInfo:
    """Read a public key given as PEM ``SubjectPublicKeyInfo`` or as a JWK in JSON.

    Which one is decided by the text: PEM starts with ``-----BEGIN``, a JWK with ``{``. A JWK's
    own ``kid`` is not trusted as the key id (the partner chose it); pass ``key_id`` to name the
    key, or get its thumbprint.
    """
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(raw) > _MAX_KEY_TEXT:
        raise KeyRefused("malformed", "the key text is too long")
    stripped = raw.strip()
    if stripped.startswith(b"-----BEGIN"):
        return public_key_from_pem(stripped, key_id)
    if stripped.startswith(b"{"):
        try:
            jwk = json.loads(stripped)
        except (ValueError, UnicodeDecodeError):
            raise KeyRefused("malformed", "the key is not valid JSON") from None
        if not isinstance(jwk, dict):
            raise KeyRefused("malformed", "a JWK must be a JSON object")
        return public_key_from_jwk(jwk, key_id)
    raise KeyRefused("malformed", "expected a PEM public key or a JWK (JSON object)")


def public_key_from_pem(pem: str | bytes, key_id: str | None = None) -> PublicKeyInfo:
    """Read a PEM ``SubjectPublicKeyInfo`` (``-----BEGIN PUBLIC KEY-----``).

    A private key, a certificate or an RSA key is refused with :class:`KeyRefused`.
    """
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
    if b"PRIVATE KEY-----" in data:
        raise KeyRefused("malformed", "this is a private key: send only the public key")
    try:
        key = serialization.load_pem_public_key(data)
    except UnsupportedAlgorithm:
        raise KeyRefused("unsupported", "the PEM holds a key of an unsupported type") from None
    except ValueError:
        raise KeyRefused("malformed", "not a PEM SubjectPublicKeyInfo public key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise KeyRefused(
            "unsupported", f"only Ed25519 and ECDSA P-256 keys are accepted, not {_kind(key)}"
        )
    return public_key_info(key, key_id)


def public_key_from_jwk(jwk: Mapping[str, object], key_id: str | None = None) -> PublicKeyInfo:
    """Read a public JWK: ``{"kty": "OKP", "crv": "Ed25519", "x": …}`` or
    ``{"kty": "EC", "crv": "P-256", "x": …, "y": …}``.

    Refused: a JWK with a private member (``d``), a ``kty``/``crv`` other than those, coordinates
    that are not unpadded base64url of the right length or not a point on the curve, and
    metadata that contradicts the key (``alg`` other than ``EdDSA``/``ES256``, ``use`` other than
    ``sig``, ``key_ops`` without ``verify``). ``kid`` is ignored unless it is passed as ``key_id``.
    """
    if "d" in jwk:
        raise KeyRefused("malformed", "this JWK holds a private key: send only the public key")
    kty, crv = jwk.get("kty"), jwk.get("crv")
    key: PublicKey
    if kty == "OKP" and crv == "Ed25519":
        x = _b64url_member(jwk, "x", _ED25519_LENGTH)
        key = ed25519.Ed25519PublicKey.from_public_bytes(x)
    elif kty == "EC" and crv == "P-256":
        x = _b64url_member(jwk, "x", _P256_COORDINATE)
        y = _b64url_member(jwk, "y", _P256_COORDINATE)
        numbers = ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
        )
        try:
            key = numbers.public_key()
        except ValueError:
            raise KeyRefused("malformed", "the JWK's x and y are not a point on P-256") from None
    else:
        raise KeyRefused(
            "unsupported",
            f"only OKP/Ed25519 and EC/P-256 JWKs are accepted, not kty={kty!r} crv={crv!r}",
        )
    algorithm = algorithm_of(key)
    _check_jwk_metadata(jwk, algorithm)
    return PublicKeyInfo(key_id or jwk_thumbprint(key), algorithm, key)


def _check_jwk_metadata(jwk: Mapping[str, object], algorithm: Algorithm) -> None:
    alg = jwk.get("alg")
    if alg is not None and alg != _JWK_ALG[algorithm]:
        raise KeyRefused(
            "unsupported", f"the JWK says alg={alg!r}; this key signs {_JWK_ALG[algorithm]}"
        )
    use = jwk.get("use")
    if use is not None and use != "sig":
        raise KeyRefused("unsupported", f"the JWK says use={use!r}; signing keys need 'sig'")
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        raise KeyRefused("unsupported", "the JWK's key_ops do not include 'verify'")


def _b64url_member(jwk: Mapping[str, object], name: str, length: int) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str) or not value:
        raise KeyRefused("malformed", f"the JWK has no {name!r} member")
    if "=" in value or not value.isascii():
        raise KeyRefused("malformed", f"the JWK's {name!r} is not unpadded base64url")
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise KeyRefused("malformed", f"the JWK's {name!r} is not base64url") from None
    if len(decoded) != length or _b64url(decoded) != value:
        raise KeyRefused(
            "malformed", f"the JWK's {name!r} must encode exactly {length} bytes, canonically"
        )
    return decoded


# Writing and naming keys ---------------------------------------------------------------------
def jwk_of(key: PublicKey) -> dict[str, str]:
    """The RFC 7638 required members of the key's JWK (nothing else), sorted by name."""
    algorithm = algorithm_of(key)
    if algorithm == "ed25519":
        assert isinstance(key, ed25519.Ed25519PublicKey)
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    assert isinstance(key, ec.EllipticCurvePublicKey)
    numbers = key.public_numbers()
    return {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64url(numbers.x.to_bytes(_P256_COORDINATE, "big")),
        "y": _b64url(numbers.y.to_bytes(_P256_COORDINATE, "big")),
    }


def jwk_thumbprint(key: PublicKey) -> str:
    """The key's JWK thumbprint (RFC 7638 section 3): SHA-256 of the required members as
    compact JSON in lexicographic order, base64url without padding. 43 characters.
    """
    canonical = json.dumps(jwk_of(key), separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_key_pem(key: PublicKey) -> str:
    """The key as PEM ``SubjectPublicKeyInfo``."""
    algorithm_of(key)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


# Private keys: for partners' tooling and tests ------------------------------------------------
def generate_private_key(algorithm: Algorithm = "ed25519") -> PrivateKey:
    """A fresh private key for ``algorithm`` (tests and partner tooling; the hub keeps none)."""
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ecdsa-p256-sha256":
        return ec.generate_private_key(ec.SECP256R1())
    raise ValueError(f"unsupported algorithm {algorithm!r}")


def private_key_pem(key: PrivateKey, password: bytes | None = None) -> bytes:
    """The private key as PKCS #8 PEM, encrypted with ``password`` when one is given."""
    algorithm_of(key)
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key_pem(pem: str | bytes, password: bytes | None = None) -> PrivateKey:
    """Read a PEM private key (PKCS #8, or the traditional EC form); Ed25519 or P-256 only."""
    data = pem.encode("ascii", "replace") if isinstance(pem, str) else bytes(pem)
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except UnsupportedAlgorithm:
        raise KeyRefused("unsupported", "the PEM holds a key of an unsupported type") from None
    except (ValueError, TypeError):
        raise KeyRefused(
            "malformed", "not a PEM private key (or the password is wrong or missing)"
        ) from None
    if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
        raise KeyRefused(
            "unsupported", f"only Ed25519 and ECDSA P-256 keys are accepted, not {_kind(key)}"
        )
    algorithm_of(key)
    return key


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _kind(key: object) -> str:
    return type(key).__name__.lstrip("_")
