"""Checking what you pulled: verify the hub's signature on a TAXII response.

Every TAXII response with a body carries ``Content-Digest`` (RFC 9530) and an RFC 9421 signature
by the hub's "responses" key over the status, the body's digest, the media type and *your*
request's method and URL. The hub publishes its public keys, unauthenticated, at
``/.well-known/exchange-keys`` (a JWKS); fetch it once, or pin a copy you got out of band.

With ``requests`` directly::

    import requests
    from exchange.verify import verify_pulled

    keys = requests.get("https://hub.example.org/.well-known/exchange-keys", timeout=30).json()
    response = requests.get(url, auth=(user, token), headers={"Accept": TAXII_21}, timeout=30)
    checked = verify_pulled(response, keys)   # raises ResponseNotVerified if it does not check
    print(checked.key_id, checked.covered_components)

With taxii2-client, keep the raw ``requests.Response`` objects through the session's response
hook (taxii2-client returns parsed JSON only)::

    from taxii2client.common import _HTTPConnection
    from taxii2client.v21 import Collection

    pulled = []
    conn = _HTTPConnection(user, token, version="2.1")
    conn.session.hooks["response"].append(lambda response, **_: pulled.append(response))
    collection = Collection(url, conn=conn)
    collection.get_objects()
    for response in pulled:
        verify_pulled(response, keys)

(an existing ``Collection``'s connection is ``collection._conn``, the same hook works there.)

A saved response (``exchange verify URL --save FILE``) is JSON, format
``exchange-saved-response/1``::

    {"format": "exchange-saved-response/1",
     "received_at": "2026-01-31T12:00:00Z",          # when it was received (UTC)
     "request": {"method": "GET", "url": "https://hub.example.org/hub/..."},
     "status": 200,
     "headers": {"content-type": "...", "content-digest": "...",
                 "signature-input": "...", "signature": "..."},
     "body": "{\\"more\\": false, ...}"}                  # the body as UTF-8 text, unchanged

Check it with :func:`verify_saved` or ``exchange verify --saved FILE``; its freshness is judged
against ``received_at``, not against the time you check it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import requests

from exchange.signing.errors import KeyRefused, SignatureInvalid
from exchange.signing.keys import PublicKeyInfo, public_key_from_jwk
from exchange.signing.verify import OriginalRequest, VerifiedSignature, verify_response

__all__ = [
    "REQUIRED_COMPONENTS",
    "SAVED_FORMAT",
    "ResponseNotVerified",
    "VerifiedResponse",
    "saved_response",
    "verify_message",
    "verify_pulled",
    "verify_saved",
]

#: What a hub response signature must cover to be accepted.
REQUIRED_COMPONENTS: Final[tuple[str, ...]] = (
    "@status",
    "content-digest",
    "content-type",
    '"@method";req',
    '"@target-uri";req',
)
SAVED_FORMAT: Final = "exchange-saved-response/1"
#: How far the signature's ``created`` may be from the time the response was received.
MAX_SKEW: Final = timedelta(minutes=5)
#: How long after its retirement a key may still have signed (server processes re-read the
#: key every ``response_key_check_seconds``, 30 s by default).
RETIRED_GRACE: Final = timedelta(minutes=5)


class ResponseNotVerified(Exception):
    """The response does not carry a valid hub signature; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class VerifiedResponse:
    """A response whose hub signature and body digest verified."""

    method: str
    url: str
    status: int
    body: bytes
    key_id: str
    key_retired: str | None
    created: datetime
    covered_components: tuple[str, ...]
    signature: VerifiedSignature

    def summary(self) -> str:
        """One line: what was checked, with which key."""
        retired = f", retired {self.key_retired}" if self.key_retired else ""
        return (
            f"OK {self.method} {self.url} -> {self.status}: signed by hub key {self.key_id}"
            f"{retired} at {self.created.isoformat()}; covers {' '.join(self.covered_components)}"
        )


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _response_keys(keys: Mapping[str, Any]) -> dict[str, tuple[PublicKeyInfo, str | None]]:
    found: dict[str, tuple[PublicKeyInfo, str | None]] = {}
    members = keys.get("keys")
    if not isinstance(members, list):
        raise ResponseNotVerified("bad_keys", "the key set has no 'keys' list")
    for jwk in members:
        if not isinstance(jwk, dict) or jwk.get("purpose") != "responses":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str):
            continue
        try:
            info = public_key_from_jwk(jwk, key_id=kid)
        except KeyRefused as exc:
            raise ResponseNotVerified("bad_keys", f"key {kid!r}: {exc}") from None
        if info.thumbprint() != kid:  # hub key ids are their thumbprints
            raise ResponseNotVerified("bad_keys", f"key {kid!r} is not named by its thumbprint")
        retired = jwk.get("retired")
        found[kid] = (info, retired if isinstance(retired, str) else None)
    return found


def verify_message(
    *,
    method: str,
    url: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    keys: Mapping[str, Any],
    now: datetime | None = None,
) -> VerifiedResponse:
    """Verify a hub response to ``method url`` against the JWKS ``keys``.

    ``now`` is when the response was received (default: now). Raises
    :class:`ResponseNotVerified` when the signature is missing, does not cover
    :data:`REQUIRED_COMPONENTS`, was made by a key not in ``keys`` (or long after it was
    retired), does not verify, or the body does not match ``Content-Digest``.
    """
    resolved = _response_keys(keys)
    moment = now or datetime.now(UTC)
    try:
        verified = verify_response(
            status,
            headers,
            body,
            resolve_key=lambda key_id: resolved[key_id][0] if key_id in resolved else None,
            now=moment,
            max_skew=MAX_SKEW,
            required_components=REQUIRED_COMPONENTS,
            request=OriginalRequest(method, url),
        )
    except SignatureInvalid as exc:
        raise ResponseNotVerified(exc.reason, exc.detail) from None
    retired = resolved[verified.key_id][1]
    if retired is not None and verified.created > _parse_time(retired) + RETIRED_GRACE:
        raise ResponseNotVerified(
            "retired_key", f"key {verified.key_id} was retired at {retired}, before it signed"
        )
    return VerifiedResponse(
        method=method,
        url=url,
        status=status,
        body=body,
        key_id=verified.key_id,
        key_retired=retired,
        created=verified.created,
        covered_components=verified.covered_components,
        signature=verified,
    )


def verify_pulled(response: requests.Response, keys: Mapping[str, Any]) -> VerifiedResponse:
    """Verify the hub's signature on a ``requests.Response`` your TAXII client received.

    ``keys`` is the hub's JWKS (``GET /.well-known/exchange-keys``, or a pinned copy). The
    request it answers is taken from ``response.request`` (method and URL as sent). Raises
    :class:`ResponseNotVerified` with the reason; see the module for taxii2-client.
    """
    request = response.request
    if request.method is None or request.url is None:
        raise ResponseNotVerified("no_request", "the response has no prepared request")
    return verify_message(
        method=request.method,
        url=request.url,
        status=response.status_code,
        headers=dict(response.headers),
        body=response.content,
        keys=keys,
    )


def saved_response(
    response: requests.Response, received_at: datetime | None = None
) -> dict[str, Any]:
    """A response as a ``exchange-saved-response/1`` document (see the module)."""
    request = response.request
    return {
        "format": SAVED_FORMAT,
        "received_at": (received_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "request": {"method": request.method, "url": request.url},
        "status": response.status_code,
        "headers": {name.lower(): value for name, value in response.headers.items()},
        "body": response.content.decode("utf-8"),
    }


def verify_saved(saved: Mapping[str, Any], keys: Mapping[str, Any]) -> VerifiedResponse:
    """Verify a saved response document (``exchange-saved-response/1``) against ``keys``."""
    try:
        if saved.get("format") != SAVED_FORMAT:
            raise ResponseNotVerified("bad_saved", f"not a {SAVED_FORMAT} document")
        request = saved["request"]
        headers = saved["headers"]
        if not isinstance(headers, dict) or not isinstance(saved["body"], str):
            raise ResponseNotVerified("bad_saved", "headers must be an object, body a string")
        return verify_message(
            method=str(request["method"]),
            url=str(request["url"]),
            status=int(saved["status"]),
            headers={str(name): str(value) for name, value in headers.items()},
            body=saved["body"].encode("utf-8"),
            keys=keys,
            now=_parse_time(str(saved["received_at"])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ResponseNotVerified("bad_saved", f"malformed saved response: {exc}") from None
