"""``Content-Digest`` (RFC 9530): compute it for a body, parse the field, check it against a body.

Pure: no I/O, no clock, no state. Parsing is separate from checking: :func:`parse_content_digest`
says only that a field is well formed; :func:`verify_content_digest` decides whether it vouches
for a body.

The field (RFC 9530 section 2) is a structured-field Dictionary (RFC 8941 section 3.2) whose keys
are hash algorithm names from the IANA "Hash Algorithms for HTTP Digest Fields" registry (section
7.2) and whose values are Byte Sequences holding the digest of the message content (the bytes as
sent, before any content coding is undone).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, Literal

import http_sf

from exchange.signing.errors import ContentDigestInvalid

__all__ = [
    "DEFAULT_DIGEST_ALGORITHM",
    "SUPPORTED_DIGEST_ALGORITHMS",
    "DigestAlgorithm",
    "compute_content_digest",
    "content_digest",
    "parse_content_digest",
    "verify_content_digest",
]

DigestAlgorithm = Literal["sha-256", "sha-512"]

# RFC 9530 section 7.2: the two "Active" algorithms. The others in the registry (md5, sha,
# unixsum, unixcksum, adler, crc32c) are "Deprecated" or "Insecure"; they are treated as unknown.
_HASHES: Final[Mapping[str, Callable[[bytes], bytes]]] = MappingProxyType(
    {
        "sha-256": lambda data: hashlib.sha256(data).digest(),
        "sha-512": lambda data: hashlib.sha512(data).digest(),
    }
)
_LENGTHS: Final[Mapping[str, int]] = MappingProxyType({"sha-256": 32, "sha-512": 64})

SUPPORTED_DIGEST_ALGORITHMS: Final[frozenset[str]] = frozenset(_HASHES)
DEFAULT_DIGEST_ALGORITHM: Final[DigestAlgorithm] = "sha-256"
_MAX_FIELD = 4096


def compute_content_digest(body: bytes, algorithm: DigestAlgorithm = "sha-256") -> bytes:
    """The raw digest of ``body`` under ``algorithm`` (RFC 9530 section 2)."""
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return _HASHES[algorithm](bytes(body))


def content_digest(body: bytes, algorithm: DigestAlgorithm = "sha-256") -> str:
    """The ``Content-Digest`` field value for ``body`` (RFC 9530 section 2).

    An empty body has a digest too: ``sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:``.
    """
    return http_sf.ser({algorithm: compute_content_digest(body, algorithm)})


def parse_content_digest(value: str) -> dict[str, bytes]:
    """The members of a ``Content-Digest`` field, algorithm name to digest bytes.

    Well formed means (RFC 9530 section 2): a structured-field Dictionary with at least one
    member, each a Byte Sequence (parameters, which no algorithm defines, are ignored); each
    algorithm named once; and a digest of a supported algorithm has that algorithm's length.
    Members of algorithms the hub does not compute are kept, unjudged: whether a field is
    usable is :func:`verify_content_digest`'s question.

    Raises :class:`ContentDigestInvalid` (``malformed``) otherwise.
    """
    if len(value) > _MAX_FIELD:
        raise ContentDigestInvalid("malformed", "the Content-Digest field is too long")

    def reject_duplicate(name: str, context: str) -> None:
        if context == "dictionary":
            raise ContentDigestInvalid(
                "malformed", f"Content-Digest names the algorithm {name!r} twice"
            )

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=reject_duplicate
        )
    except UnicodeEncodeError:
        raise ContentDigestInvalid("malformed", "Content-Digest is not ASCII") from None
    except ValueError as exc:  # http_sf.StructuredFieldError is a ValueError
        raise ContentDigestInvalid(
            "malformed", f"Content-Digest is not a structured-field dictionary: {exc}"
        ) from None
    if not isinstance(parsed, dict) or not parsed:
        raise ContentDigestInvalid("malformed", "Content-Digest holds no digest")
    digests: dict[str, bytes] = {}
    for name, member in parsed.items():
        digest = member[0] if isinstance(member, tuple) else member
        if not isinstance(digest, bytes):
            raise ContentDigestInvalid(
                "malformed", f"the Content-Digest member {name!r} is not a byte sequence"
            )
        want = _LENGTHS.get(name)
        if want is not None and len(digest) != want:
            raise ContentDigestInvalid(
                "malformed", f"the {name} digest is {len(digest)} bytes long, not {want}"
            )
        digests[name] = digest
    return digests


def verify_content_digest(value: str, body: bytes) -> tuple[str, ...]:
    """Check a ``Content-Digest`` field against ``body``; return the algorithms checked.

    Every member of a supported algorithm (``sha-256``, ``sha-512``) must match the body; members
    of other algorithms are ignored, as RFC 9530 section 2 allows a recipient to ignore digests
    it does not support, unless no supported member is left (then ``unsupported_algorithm``).
    Comparison is constant-time.

    Raises :class:`ContentDigestInvalid`: ``malformed``, ``unsupported_algorithm`` or
    ``mismatch``.
    """
    digests = parse_content_digest(value)
    usable = [name for name in digests if name in _HASHES]
    if not usable:
        names = ", ".join(sorted(digests))
        raise ContentDigestInvalid(
            "unsupported_algorithm",
            f"Content-Digest has no sha-256 or sha-512 digest (only: {names})",
        )
    for name in usable:
        if not hmac.compare_digest(digests[name], _HASHES[name](bytes(body))):
            raise ContentDigestInvalid(
                "mismatch", f"the {name} Content-Digest does not match the body"
            )
    return tuple(usable)
