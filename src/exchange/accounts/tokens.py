"""Access tokens: random, shown once, stored only as a slow-KDF hash.

A token reads ``exh_<credential id>_<secret>``. The credential id is public and names the
account (so a bearer token alone finds it); the 256-bit secret is what proves possession. The
stored hash is scrypt (RFC 7914) with a per-token salt, so a stolen database does not yield
usable tokens. Because scrypt is deliberately slow, a verified token is remembered in memory
(keyed by its SHA-256, together with the stored hash it matched) so that only the first request
of a client pays for it; replacing the credential changes the stored hash and ends that.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["IssuedToken", "TokenVerifier", "hash_token", "issue_token", "parse_token"]

_PREFIX = "exh"
_TOKEN = re.compile(r"exh_([a-z0-9]{16})_([A-Za-z0-9_-]{43})")
# scrypt parameters: 16 MiB of memory and roughly 50 ms per hash on a server core.
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new credential: the token to hand over once, and what the store keeps."""

    token: str
    credential_id: str
    token_hash: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_token(token: str, *, salt: bytes | None = None) -> str:
    """The storable scrypt hash of a token, with its parameters and salt."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(token.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def _matches(token: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = hashlib.scrypt(
            token.encode(),
            salt=_unb64(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
            maxmem=128 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(computed, _unb64(digest))


def issue_token() -> IssuedToken:
    """Make a new random token and its hash."""
    credential_id = secrets.token_hex(8)
    token = f"{_PREFIX}_{credential_id}_{_b64(secrets.token_bytes(32))}"
    return IssuedToken(token=token, credential_id=credential_id, token_hash=hash_token(token))


def parse_token(token: str) -> str | None:
    """The credential id inside a well-formed token, or None."""
    match = _TOKEN.fullmatch(token)
    return None if match is None else match.group(1)


class TokenVerifier:
    """Checks presented tokens against stored hashes, remembering recent successes."""

    def __init__(self, capacity: int = 4096) -> None:
        self._capacity = capacity
        self._verified: OrderedDict[bytes, str] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str, stored_hash: str) -> bool:
        """Whether ``token`` is the one ``stored_hash`` was made from."""
        key = hashlib.sha256(token.encode()).digest()
        with self._lock:
            remembered = self._verified.get(key)
            if remembered is not None and hmac.compare_digest(remembered, stored_hash):
                self._verified.move_to_end(key)
                return True
        if not _matches(token, stored_hash):
            return False
        with self._lock:
            self._verified[key] = stored_hash
            while len(self._verified) > self._capacity:
                self._verified.popitem(last=False)
        return True
