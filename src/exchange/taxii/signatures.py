"""Hub-signed TAXII responses: ``Content-Digest`` (RFC 9530) and an RFC 9421 signature.

Every TAXII response with a body (objects, manifests, versions, collections, status, discovery,
and TAXII error messages) gets, from the hub's current "responses" key (Ed25519):

- ``Content-Digest: sha-256=:…:`` over the body as sent;
- ``Signature-Input`` / ``Signature`` (label ``sig1``) covering ``@status``, ``content-digest``,
  ``content-type``, ``"@method";req`` and ``"@target-uri";req`` with ``created``, ``keyid`` and
  ``alg="ed25519"``, so a response cannot be passed off as the answer to another query.

The ``@target-uri`` is the URL the client used: ``Settings.public_url`` (when set) or the
request's scheme and ``Host``, followed by the request's path and query exactly as sent.

It is a pure-ASGI middleware. The signature base is written here directly (RFC 9421 section 2.5)
instead of through ``http-message-signatures``: the library's generic serialisation costs about
0.6 ms a response, the direct one about 60 µs, most of it Ed25519. Tests check that every
signature made here verifies with :func:`exchange.signing.verify.verify_response` (the library's
verifier). The key is read from the store once, then again at most every
``Settings.response_key_check_seconds``, so a rotation (``exchange hub-key rotate``) reaches
every server process within that time.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from cryptography.hazmat.primitives.asymmetric import ed25519
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange.sharing.base import HubBase
from exchange.signing.keys import load_private_key_pem

__all__ = [
    "COVERED",
    "PURPOSE",
    "ResponseSigner",
    "ResponseSigningMiddleware",
    "signature_base",
]

PURPOSE: Final = "responses"
LABEL: Final = "sig1"
#: The covered components, in signed order.
COVERED: Final[tuple[str, ...]] = (
    '"@status"',
    '"content-digest"',
    '"content-type"',
    '"@method";req',
    '"@target-uri";req',
)
#: Paths whose responses are signed: TAXII discovery and the API root below it.
SIGNED_PREFIXES: Final[tuple[str, ...]] = ("/taxii2/", "/hub/")


def _params(created: int, key_id: str) -> str:
    return f'({" ".join(COVERED)});created={created};keyid="{key_id}";alg="ed25519"'


def signature_base(
    *,
    status: int,
    content_digest: str,
    content_type: str,
    method: str,
    target_uri: str,
    created: int,
    key_id: str,
) -> bytes:
    """The RFC 9421 section 2.5 signature base of a hub response over :data:`COVERED`."""
    lines = (
        f'"@status": {status}',
        f'"content-digest": {content_digest}',
        f'"content-type": {content_type.strip()}',
        f'"@method";req: {method}',
        f'"@target-uri";req: {target_uri}',
        f'"@signature-params": {_params(created, key_id)}',
    )
    return "\n".join(lines).encode("utf-8")


@dataclass(frozen=True, slots=True)
class _Key:
    key_id: str
    private_key: ed25519.Ed25519PrivateKey


class ResponseSigner:
    """Signs responses with the hub's current "responses" key, re-read every ``check_every``
    seconds (``0``: on every response)."""

    def __init__(
        self,
        hub: HubBase,
        *,
        check_every: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._hub = hub
        self._check_every = check_every
        self._monotonic = monotonic
        self._key: _Key | None = None
        self._loaded_at = 0.0

    def stale(self) -> bool:
        """Whether the key must be (re)read from the store before the next signature."""
        return self._key is None or self._monotonic() - self._loaded_at >= self._check_every

    def refresh(self) -> None:
        """Read the current key from the store (made on first use); blocking I/O."""
        stored = self._hub.hub_key(PURPOSE)
        if self._key is None or self._key.key_id != stored.key_id:
            private = load_private_key_pem(stored.private_key)
            if not isinstance(private, ed25519.Ed25519PrivateKey):
                raise TypeError("the hub's response key must be Ed25519")
            self._key = _Key(stored.key_id, private)
        self._loaded_at = self._monotonic()

    def sign(
        self,
        status: int,
        content_type: str,
        body: bytes,
        method: str,
        target_uri: str,
        now: datetime | None = None,
    ) -> list[tuple[str, str]]:
        """The ``Content-Digest``, ``Signature-Input`` and ``Signature`` fields for a response."""
        if self._key is None:  # the middleware refreshes off the event loop; this is a fallback
            self.refresh()
        key = self._key
        assert key is not None
        created = int((now or datetime.now(UTC)).timestamp())
        digest = "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"
        base = signature_base(
            status=status,
            content_digest=digest,
            content_type=content_type,
            method=method,
            target_uri=target_uri,
            created=created,
            key_id=key.key_id,
        )
        signature = base64.b64encode(key.private_key.sign(base)).decode()
        return [
            ("content-digest", digest),
            ("signature-input", f"{LABEL}={_params(created, key.key_id)}"),
            ("signature", f"{LABEL}=:{signature}:"),
        ]


def target_uri(scope: Scope, public_url: str | None) -> str:
    """The absolute URL the client asked for, as the client wrote it."""
    if public_url:
        base = public_url.rstrip("/")
    else:
        host = ""
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host = value.decode("latin-1")
                break
        if not host and scope.get("server"):
            server_host, port = scope["server"]
            host = f"{server_host}:{port}" if port else str(server_host)
        base = f"{scope.get('scheme', 'http')}://{host}"
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
    query: bytes = scope.get("query_string") or b""
    uri = base + raw_path.decode("latin-1")
    return uri + ("?" + query.decode("latin-1") if query else "")


class ResponseSigningMiddleware:
    """Adds ``Content-Digest`` and the hub's signature to TAXII responses with a body.

    The body is held until the response is complete (TAXII responses here are single-message
    ``Response`` objects, so nothing is delayed); responses with no body are passed through.
    """

    def __init__(self, app: ASGIApp, *, signer: ResponseSigner, public_url: str | None) -> None:
        self.app = app
        self.signer = signer
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(SIGNED_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self.signer.stale():
            await run_in_threadpool(self.signer.refresh)
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_signed(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            headers = list(start.get("headers", []))
            content_type = next(
                (value.decode("latin-1") for name, value in headers if name == b"content-type"),
                None,
            )
            if body and content_type is not None:
                fields = self.signer.sign(
                    start["status"],
                    content_type,
                    body,
                    scope["method"],
                    target_uri(scope, self.public_url),
                )
                headers += [(name.encode(), value.encode()) for name, value in fields]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_signed)
