"""Signing the hub's responses (RFC 9421 section 2.2.9 ``@status``) for analysts' tooling.

The hub signs what an analyst needs to trust a response it received: the status, the body
(through ``Content-Digest``, RFC 9530) and the media type. Given the request it answers, it also
binds the response to that request with ``"@method";req`` and ``"@target-uri";req`` (RFC 9421
section 2.4), so a response to one query cannot be passed off as the answer to another.
Analysts verify with :func:`exchange.signing.verify.verify_response`.

``http-message-signatures`` signs responses as it signs requests (its component resolver treats
any message with a ``status_code`` as a response): this module only builds the message view and
returns the fields to add. Pure: no I/O, and the time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from http_message_signatures import HTTPMessageSigner, MappingKeyResolver

from exchange.signing._library import (
    ALGORITHM_CLASSES,
    RequestView,
    ResponseView,
    combine_fields,
)
from exchange.signing.digest import verify_content_digest
from exchange.signing.keys import PrivateKey, algorithm_of
from exchange.signing.verify import OriginalRequest

__all__ = ["sign_response"]

_ADDED = ("Content-Digest", "Signature-Input", "Signature")


def sign_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    private_key: PrivateKey,
    key_id: str,
    now: datetime,
    *,
    request: OriginalRequest | None = None,
    nonce: str | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """The fields to add to a response so that it carries the hub's signature.

    Covers, in order: ``@status``; ``content-digest`` (computed here from ``body`` unless
    ``headers`` already has one, which must then match); ``content-type`` when the response has
    one; and, given ``request``, ``"@method";req`` and ``"@target-uri";req``. Parameters:
    ``created`` (``now``, which must be aware), ``keyid``, ``alg`` and ``nonce`` if given.

    Returns ``Content-Digest`` (when it was computed here), ``Signature-Input`` and
    ``Signature``; ``headers`` is not changed. An existing signature is replaced, not appended.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    algorithm = algorithm_of(private_key)
    fields = combine_fields(headers)
    if "content-digest" in fields:
        verify_content_digest(fields["content-digest"], body)
    components = ["@status", "content-digest"]
    if "content-type" in fields:
        components.append("content-type")
    original = None
    if request is not None:
        original = RequestView(request.method, request.url, combine_fields(request.headers or {}))
        components += ['"@method";req', '"@target-uri";req']
    view = ResponseView(status, dict(fields), original)
    signer = HTTPMessageSigner(
        signature_algorithm=ALGORITHM_CLASSES[algorithm],
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: private_key}),
    )
    signer.sign(
        view,
        key_id=key_id,
        created=now,
        nonce=nonce,
        label=label,
        covered_component_ids=tuple(components),
        body=bytes(body),
        use_existing_digest="content-digest" in fields,
    )
    written = {name.lower(): value for name, value in view.headers.items()}
    new_fields = _ADDED if "content-digest" not in fields else _ADDED[1:]
    return {name: written[name.lower()] for name in new_fields}
