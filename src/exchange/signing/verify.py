"""Verifying HTTP message signatures (RFC 9421) on partners' requests and the hub's responses.

Parsing is separate from trusting. :func:`parse_signature` says only that a ``Signature`` /
``Signature-Input`` pair is well formed and which signature it selects; :func:`verify_request`
(and :func:`verify_response`) decide whether it is trusted, in the numbered steps below, and
return a :class:`VerifiedSignature` the caller can keep as evidence. The cryptographic step and
the signature base are ``http-message-signatures``'; the hub's policy (required coverage,
freshness against a clock the caller passes in, nonce, key ownership) is here, so each refusal
has its own reason code (:class:`~exchange.signing.errors.SignatureInvalid`).

Steps of :func:`verify_request`, after RFC 9421 section 3.2 and the application requirements of
section 3.2.1:

1. parse ``Signature-Input`` and ``Signature`` (sections 4.1, 4.2) and select one signature:
   the only one, or the one named by ``label`` (section 3.2 steps 1-3);
2. the covered components include every required one, and a ``Content-Digest`` (RFC 9530) is
   present, covered when there is a body, and matches the body (section 3.2 step 4);
3. ``created`` is present and within ``max_skew`` of ``now`` either way; ``expires``, if
   present, has not passed (sections 2.3, 3.2.1);
4. ``nonce`` is present; it is returned for the caller's replay check (section 7.2.2);
5. ``keyid`` resolves to a key through the caller's resolver, which alone decides ownership and
   validity (section 3.2 step 5);
6. the ``alg`` parameter, if any, is the key's algorithm (section 3.2 step 6.4);
7. the signature verifies over the signature base rebuilt from the message (section 2.5;
   section 3.2 steps 7-9).

Pure: no I/O, no clock reads (``now`` is passed in), no global state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

import http_sf
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    InvalidSignature,
    MappingKeyResolver,
)

from exchange.signing._library import (
    ALGORITHM_CLASSES,
    RequestView,
    ResponseView,
    combine_fields,
    signature_base_of,
    verify_bytes,
)
from exchange.signing.digest import verify_content_digest
from exchange.signing.errors import ContentDigestInvalid, SignatureInvalid
from exchange.signing.keys import Algorithm, PublicKey, PublicKeyInfo, public_key_info

__all__ = [
    "REQUEST_COMPONENTS",
    "RESPONSE_COMPONENTS",
    "KeyResolver",
    "OriginalRequest",
    "ParsedSignature",
    "VerifiedSignature",
    "parse_signature",
    "verify_evidence",
    "verify_request",
    "verify_response",
]

#: What the hub requires a partner's write to cover.
REQUEST_COMPONENTS: Final[tuple[str, ...]] = (
    "@method",
    "@target-uri",
    "content-digest",
    "content-type",
)
#: What analysts' tooling requires a hub response to cover (RFC 9421 section 2.2.9 ``@status``).
RESPONSE_COMPONENTS: Final[tuple[str, ...]] = ("@status", "content-digest", "content-type")

KeyResolver = Callable[[str], PublicKeyInfo | None]

# RFC 9421 section 2.3: the signature parameters registered by the RFC (section 6.3.2).
_PARAMETERS: Final[frozenset[str]] = frozenset(
    {"alg", "created", "expires", "keyid", "nonce", "tag"}
)
_MAX_FIELD = 8192
_MAX_COMPONENTS = 64

_ComponentIdentity = tuple[str, frozenset[tuple[str, Any]]]


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """One well-formed signature selected from a message: what it claims, not yet trusted.

    ``components`` are the covered component identifiers in signed order: a bare name
    (``"@method"``, ``"content-type"``) when the component has no parameters, else its
    serialized structured-field form (``'"content-digest";key="sha-256"'``), the same
    convention ``required_components`` uses. ``signature_params`` is the serialized inner list,
    the value of the base's ``@signature-params`` line (RFC 9421 section 2.3).
    """

    label: str
    components: tuple[str, ...]
    signature_params: str
    signature: bytes
    created: int | None = None
    expires: int | None = None
    nonce: str | None = None
    key_id: str | None = None
    alg: str | None = None
    tag: str | None = None

    def covers(self, component: str) -> bool:
        """Whether ``component`` (a name or serialized identifier) is covered; parameter
        order does not matter (RFC 9421 section 2)."""
        wanted = _identity(component)
        return any(_identity(mine) == wanted for mine in self.components)


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature the hub verified, and the evidence to show for it later.

    ``signature_base`` and ``signature`` are enough to verify again with the key alone
    (:func:`verify_evidence`), after the key is rotated or the partner gone. ``nonce`` is always
    set by :func:`verify_request` (the caller must check it was not seen before, for as long as
    ``max_skew`` lets a signature be fresh); responses may have none.
    """

    label: str
    key_id: str
    algorithm: Algorithm
    created: datetime
    expires: datetime | None
    nonce: str | None
    tag: str | None
    covered_components: tuple[str, ...]
    signature_params: str
    signature_base: bytes
    signature: bytes


class OriginalRequest(NamedTuple):
    """The request a response answers, for a response signature covering ``;req`` components
    (RFC 9421 section 2.4)."""

    method: str
    url: str
    headers: Mapping[str, str] | None = None


# Step 1: parsing -----------------------------------------------------------------------------
def parse_signature(
    headers: Mapping[str, str] | Iterable[tuple[str, str]], label: str | None = None
) -> ParsedSignature:
    """Select one signature from ``Signature-Input`` and ``Signature`` (RFC 9421 section 4).

    Both fields are structured-field Dictionaries with the same labels; a ``Signature-Input``
    member is an Inner List of component identifiers (Strings) with parameters, a ``Signature``
    member is a Byte Sequence. With ``label=None`` the message must carry exactly one signature.

    Raises :class:`SignatureInvalid`: ``missing_signature`` (no fields, or no such label) or
    ``malformed_signature`` (anything not well formed, several signatures and no label, an
    unregistered parameter or one of the wrong type, a repeated component).
    """
    fields = combine_fields(headers)
    if "signature-input" not in fields and "signature" not in fields:
        raise SignatureInvalid("missing_signature", "the request has no HTTP message signature")
    if "signature-input" not in fields or "signature" not in fields:
        raise SignatureInvalid(
            "malformed_signature", "Signature and Signature-Input must be sent together"
        )
    inputs = _parse_dictionary(fields["signature-input"], "Signature-Input")
    signatures = _parse_dictionary(fields["signature"], "Signature")
    if set(inputs) != set(signatures):
        raise SignatureInvalid(
            "malformed_signature", "Signature and Signature-Input have different labels"
        )
    if label is None:
        if len(inputs) != 1:
            raise SignatureInvalid(
                "malformed_signature",
                f"the message carries {len(inputs)} signatures; name the one to verify",
            )
        label = next(iter(inputs))
    elif label not in inputs:
        raise SignatureInvalid("missing_signature", f"no signature labelled {label!r}")
    return _parse_member(label, inputs[label], signatures[label])


def _parse_dictionary(value: str, name: str) -> dict[str, Any]:
    if len(value) > _MAX_FIELD:
        raise SignatureInvalid("malformed_signature", f"{name} is too long")

    def reject_duplicate(key: str, context: str) -> None:
        if context == "dictionary":
            raise SignatureInvalid("malformed_signature", f"{name} repeats the label {key!r}")

    try:
        parsed = http_sf.parse(
            value.encode("ascii"), tltype="dictionary", on_duplicate_key=reject_duplicate
        )
    except UnicodeEncodeError:
        raise SignatureInvalid("malformed_signature", f"{name} is not ASCII") from None
    except ValueError as exc:  # http_sf.StructuredFieldError is a ValueError
        raise SignatureInvalid(
            "malformed_signature", f"{name} is not a structured-field dictionary: {exc}"
        ) from None
    if not isinstance(parsed, dict) or not parsed:
        raise SignatureInvalid("malformed_signature", f"{name} is empty")
    return parsed


def _parse_member(label: str, member: Any, signature_member: Any) -> ParsedSignature:
    items, params = member
    if not isinstance(items, list):
        raise SignatureInvalid(
            "malformed_signature", f"Signature-Input {label!r} is not an inner list"
        )
    signature, _ = signature_member
    if not isinstance(signature, bytes) or not signature:
        raise SignatureInvalid(
            "malformed_signature", f"Signature {label!r} is not a non-empty byte sequence"
        )
    if len(items) > _MAX_COMPONENTS:
        raise SignatureInvalid("malformed_signature", "too many covered components")
    components: list[str] = []
    seen: set[_ComponentIdentity] = set()
    for value, item_params in items:
        if not isinstance(value, str) or not value or value != value.lower():
            raise SignatureInvalid(
                "malformed_signature", "component identifiers must be lower-case strings"
            )
        if value == "@signature-params":
            raise SignatureInvalid("malformed_signature", "@signature-params cannot be covered")
        identity = (value, frozenset(item_params.items()))
        if identity in seen:  # RFC 9421 section 2.5: no component twice
            raise SignatureInvalid("malformed_signature", f"component {value!r} is repeated")
        seen.add(identity)
        components.append(value if not item_params else http_sf.ser((value, item_params)))
    for name, param in params.items():
        if name not in _PARAMETERS:
            raise SignatureInvalid("malformed_signature", f"unknown signature parameter {name!r}")
        # RFC 9421 section 2.3: created/expires are Integers, the others Strings.
        integer = name in {"created", "expires"}
        if (type(param) is not int) if integer else (not isinstance(param, str)):
            kind = "an integer" if integer else "a string"
            raise SignatureInvalid("malformed_signature", f"parameter {name!r} must be {kind}")
    return ParsedSignature(
        label=label,
        components=tuple(components),
        signature_params=http_sf.ser({label: member}).partition("=")[2],
        signature=signature,
        created=params.get("created"),
        expires=params.get("expires"),
        nonce=params.get("nonce"),
        key_id=params.get("keyid"),
        alg=params.get("alg"),
        tag=params.get("tag"),
    )


def _identity(component: str) -> _ComponentIdentity:
    """A component's identity: its name and its parameters, in any order."""
    if not component.startswith('"'):
        return component, frozenset()
    try:
        parsed = http_sf.parse(component.encode("ascii"), tltype="item")
    except ValueError:
        raise ValueError(f"not a component identifier: {component!r}") from None
    value, params = parsed if isinstance(parsed, tuple) else (parsed, {})
    if not isinstance(value, str):
        raise ValueError(f"not a component identifier: {component!r}")
    return value, frozenset(params.items())


# The verification steps ----------------------------------------------------------------------
def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta,
    required_components: Iterable[str] = REQUEST_COMPONENTS,
    label: str | None = None,
) -> VerifiedSignature:
    """Verify a request's RFC 9421 signature under the hub's policy; see the module's steps.

    ``method`` and ``url`` are the request's method and absolute URL as the partner addressed it
    (scheme, host and port as the partner saw them: behind a proxy, the public URL). ``headers``
    may list a field more than once through ``items()``. ``body`` is the content as received,
    before any content coding is undone. ``resolve_key`` maps a ``keyid`` to the partner's key,
    or ``None``; it decides whether a key is owned, active and allowed. ``now`` must be aware.

    Returns the :class:`VerifiedSignature`; raises :class:`SignatureInvalid` with the reason of
    the first step that refused. The nonce is returned, not judged: the caller checks replays.
    """
    return _verify_message(
        RequestView(method, url, combine_fields(headers)),
        body,
        resolve_key=resolve_key,
        now=now,
        max_skew=max_skew,
        required_components=required_components,
        label=label,
        require_nonce=True,
    )


def verify_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta,
    required_components: Iterable[str] = RESPONSE_COMPONENTS,
    request: OriginalRequest | None = None,
    label: str | None = None,
) -> VerifiedSignature:
    """Verify a hub response's signature (RFC 9421 section 2.2.9 ``@status``), for analysts.

    The same steps as :func:`verify_request` except that a nonce is not required (step 4):
    responses are not replayed into the hub. Pass ``request`` (the analyst's own method and
    URL) to verify a signature that binds the response to it with ``;req`` components (RFC 9421
    section 2.4), and require those in ``required_components`` to insist on the binding.
    """
    original = (
        None
        if request is None
        else RequestView(request.method, request.url, combine_fields(request.headers or {}))
    )
    return _verify_message(
        ResponseView(status, combine_fields(headers), original),
        body,
        resolve_key=resolve_key,
        now=now,
        max_skew=max_skew,
        required_components=required_components,
        label=label,
        require_nonce=False,
    )


def _verify_message(
    message: RequestView | ResponseView,
    body: bytes,
    *,
    resolve_key: KeyResolver,
    now: datetime,
    max_skew: timedelta,
    required_components: Iterable[str],
    label: str | None,
    require_nonce: bool,
) -> VerifiedSignature:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if max_skew < timedelta(0):
        raise ValueError("max_skew must not be negative")
    required = tuple(required_components)
    required_identities = [_identity(component) for component in required]
    fields = message.headers

    # (1) Parse Signature-Input and Signature, select one signature (RFC 9421 3.2 steps 1-3).
    parsed = parse_signature(fields, label)

    # (2) Required coverage (RFC 9421 3.2 step 4, 3.2.1); the body's digest (RFC 9530 section 2).
    covered = {_identity(component) for component in parsed.components}
    for component, identity in zip(required, required_identities, strict=True):
        if identity not in covered:
            raise SignatureInvalid("missing_component", f"the signature does not cover {component}")
    _check_digest(parsed, fields, body)

    # (3) created within max_skew of now, expires not passed (RFC 9421 2.3, 3.2 step 4, 3.2.1).
    created, expires = _check_times(parsed.created, parsed.expires, now, max_skew)

    # (4) A nonce, for the caller's replay check (RFC 9421 2.3, 3.2.1, 7.2.2).
    if require_nonce and not parsed.nonce:
        raise SignatureInvalid("missing_nonce", "the signature has no nonce parameter")

    # (5) The key, by keyid; the resolver decides ownership and validity (RFC 9421 3.2 step 5).
    if not parsed.key_id:
        raise SignatureInvalid("unknown_key", "the signature has no keyid parameter")
    key = resolve_key(parsed.key_id)
    if key is None:
        raise SignatureInvalid("unknown_key", f"no usable key has the id {parsed.key_id!r}")

    # (6) The algorithm is the key's; a contradicting alg fails (RFC 9421 3.2 step 6.4).
    if parsed.alg is not None and parsed.alg != key.algorithm:
        raise SignatureInvalid(
            "algorithm_mismatch",
            f"the signature claims {parsed.alg!r} but key {parsed.key_id!r} is {key.algorithm}",
        )

    # (7) Rebuild the signature base (RFC 9421 2.5) and verify it (3.2 steps 7-9).
    return _verify_cryptographically(
        message, parsed, key, required=required, now=now, max_skew=max_skew
    ).evidence(created, expires)


def _check_digest(parsed: ParsedSignature, fields: Mapping[str, str], body: bytes) -> None:
    # A covered content-digest vouches for the body whether the whole field is covered or one
    # member (`;key`), serialized or not (`;sf`); `;req` would be another message's digest.
    identities = [_identity(component) for component in parsed.components]
    digest_covered = any(
        name == "content-digest" and not {param for param, _ in params} - {"sf", "key"}
        for name, params in identities
    )
    if "content-digest" in fields:
        try:
            verify_content_digest(fields["content-digest"], body)
        except ContentDigestInvalid as exc:
            raise SignatureInvalid("digest_mismatch", exc.detail) from None
    elif digest_covered or body:
        raise SignatureInvalid("digest_mismatch", "the message has no Content-Digest field")
    if body and not digest_covered:
        raise SignatureInvalid(
            "missing_component", "the message has a body but its content-digest is not signed"
        )


def _check_times(
    created: int | None, expires: int | None, now: datetime, max_skew: timedelta
) -> tuple[datetime, datetime | None]:
    if created is None:
        raise SignatureInvalid("stale", "the signature has no created parameter")
    created_at = _timestamp(created, "created")
    if created_at > now + max_skew:
        raise SignatureInvalid(
            "stale", f"the signature was created in the future ({created_at.isoformat()})"
        )
    if created_at < now - max_skew:
        raise SignatureInvalid(
            "stale",
            f"the signature was created at {created_at.isoformat()}, "
            f"more than {max_skew.total_seconds():g} seconds ago",
        )
    if expires is None:
        return created_at, None
    expires_at = _timestamp(expires, "expires")
    if expires_at < created_at:
        raise SignatureInvalid("malformed_signature", "the signature expires before it was made")
    # The signer chose the expiry: the hub does not stretch it by the skew.
    if expires_at <= now:
        raise SignatureInvalid("expired", f"the signature expired at {expires_at.isoformat()}")
    return created_at, expires_at


def _timestamp(value: int, name: str) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise SignatureInvalid("malformed_signature", f"{name} is not a usable time") from None


class _Verified(NamedTuple):
    parsed: ParsedSignature
    key: PublicKeyInfo
    signature_base: bytes

    def evidence(self, created: datetime, expires: datetime | None) -> VerifiedSignature:
        assert self.parsed.key_id is not None
        return VerifiedSignature(
            label=self.parsed.label,
            key_id=self.parsed.key_id,
            algorithm=self.key.algorithm,
            created=created,
            expires=expires,
            nonce=self.parsed.nonce,
            tag=self.parsed.tag,
            covered_components=self.parsed.components,
            signature_params=self.parsed.signature_params,
            signature_base=self.signature_base,
            signature=self.parsed.signature,
        )


class _Verifier(HTTPMessageVerifier):
    """The library's verifier for one key, with the caller's clock instead of the system's."""

    require_created = True

    def __init__(self, *, key_id: str, key: PublicKeyInfo, now: datetime, skew: timedelta) -> None:
        super().__init__(
            signature_algorithm=ALGORITHM_CLASSES[key.algorithm],
            key_resolver=MappingKeyResolver(public_keys={key_id: key.public_key}, private_keys={}),
        )
        self._now = now
        self.max_clock_skew = skew

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        """The same freshness check as step 3, against the caller's ``now``."""
        params = sig_input.params
        _check_times(params.get("created"), params.get("expires"), self._now, self.max_clock_skew)


def _verify_cryptographically(
    message: RequestView | ResponseView,
    parsed: ParsedSignature,
    key: PublicKeyInfo,
    *,
    required: tuple[str, ...],
    now: datetime,
    max_skew: timedelta,
) -> _Verified:
    assert parsed.key_id is not None
    verifier = _Verifier(key_id=parsed.key_id, key=key, now=now, skew=max_skew)
    # Show the library only the selected signature, so it needs no label policy of its own.
    headers = dict(message.headers)
    headers["signature-input"] = f"{parsed.label}={parsed.signature_params}"
    headers["signature"] = http_sf.ser({parsed.label: parsed.signature})
    message.headers = headers
    try:
        results = verifier.verify(message, max_age=None, require_components=required)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        why = str(exc).strip()
        raise SignatureInvalid(
            "bad_signature",
            "the signature does not verify over this message" + (f" ({why})" if why else ""),
        ) from None
    if len(results) != 1 or results[0].parameters.get("keyid") != parsed.key_id:
        raise SignatureInvalid("bad_signature", "the signature does not verify")
    return _Verified(parsed, key, signature_base_of(results[0]))


# Evidence ------------------------------------------------------------------------------------
def verify_evidence(
    signature_base: bytes, signature: bytes, public_key: PublicKeyInfo | PublicKey
) -> bool:
    """Whether ``signature`` is the key's signature over ``signature_base`` (RFC 9421 section
    3.3), for evidence kept from a :class:`VerifiedSignature`.

    Only the cryptography is judged, with the key's own algorithm; nothing about time, nonce or
    who owns the key now. Works after the key has been rotated out of the resolver.
    """
    info = public_key if isinstance(public_key, PublicKeyInfo) else public_key_info(public_key)
    return verify_bytes(info.algorithm, info.public_key, signature, signature_base)
