"""The partner side: a ``requests`` auth object that signs each request for the hub (RFC 9421).

:class:`SigningAuth` is ``requests_http_signature.HTTPSignatureAuth`` configured for the hub:
the algorithm follows from the key (Ed25519 -> ``ed25519``, P-256 -> ``ecdsa-p256-sha256``),
every request gets a ``Content-Digest`` (RFC 9530) and a signature covering ``@method``,
``@target-uri``, ``content-digest`` and ``content-type`` with ``created``, a random ``nonce``,
``keyid`` and ``alg``. It can also carry the account's token, because taxii2-client takes either
``user``/``password`` or ``auth``, never both.

With taxii2-client (``taxii2client.v21``), pass it as ``auth=``: every endpoint class hands it to
its ``_HTTPConnection``, which sets it as ``requests.Session.auth``, so every GET and POST the
client makes (collection information, ``add_objects``, status polling) goes through it::

    auth = SigningAuth(private_key, key_id, user="alice", token=token)
    collection = Collection(url, auth=auth)
    collection.add_objects(envelope)

This module is the I/O edge: unlike the rest of the package it reads the system clock (for
``created``) unless a ``clock`` is given, and draws a random nonce per request.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import requests
from http_message_signatures import MappingKeyResolver
from requests.auth import HTTPBasicAuth
from requests_http_signature import HTTPSignatureAuth

from exchange.signing._library import ALGORITHM_CLASSES
from exchange.signing.keys import Algorithm, PrivateKey, algorithm_of

__all__ = ["SigningAuth"]


def _system_clock() -> datetime:
    return datetime.now(UTC)


class SigningAuth(HTTPSignatureAuth):
    """Sign every request for the hub, and optionally authenticate it with the account token.

    ``key`` is the partner's Ed25519 or P-256 private key, ``key_id`` the id the hub knows its
    public half by (by default its JWK thumbprint, :func:`exchange.signing.keys.jwk_thumbprint`).

    Token chaining: with ``user`` and ``token``, the request also gets
    ``Authorization: Basic base64(user:token)`` (what taxii2-client's ``user``/``password``
    would have sent); with ``token`` alone, ``Authorization: Bearer token``. The token is added
    *after* signing and is not covered: the signature base is what the hub keeps as evidence,
    and a credential has no place there; the hub checks the token on its own.

    Covered components, in order: ``@method``, ``@target-uri``, ``content-digest`` and, when the
    request has one, ``content-type``. Parameters: ``created``, ``keyid``, ``alg``, ``nonce``
    (and ``expires`` with ``expires_in``). Label: ``sig1`` unless given.

    Requests without a body (GET) are signed too, with the ``Content-Digest`` of the empty body
    (``sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:``): it costs nothing and states
    that there is no body. They carry no ``Content-Type``, so that is not covered: a verifier
    of GETs requires ``("@method", "@target-uri", "content-digest")``. The hub requires
    signatures on writes only; signing reads is harmless and proves the client's key.

    Redirects are not re-signed (``requests`` does not call auth objects again on them), and the
    signature covers the URL first requested; the hub's TAXII endpoints do not redirect.
    """

    def __init__(
        self,
        key: PrivateKey,
        key_id: str,
        *,
        user: str | None = None,
        token: str | None = None,
        label: str = "sig1",
        expires_in: timedelta | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not key_id:
            raise ValueError("key_id must not be empty")
        if user is not None and token is None:
            raise ValueError("a user needs a token")
        self.algorithm: Algorithm = algorithm_of(key)
        super().__init__(
            signature_algorithm=ALGORITHM_CLASSES[self.algorithm],
            key_id=key_id,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
            covered_component_ids=("@method", "@target-uri", "content-digest", "content-type"),
            label=label,
            include_alg=True,
            use_nonce=True,
            expires_in=expires_in,
            use_existing_digest=True,
        )
        self._clock = clock or _system_clock
        self._credential: requests.auth.AuthBase | None = None
        if user is not None and token is not None:
            self._credential = HTTPBasicAuth(user, token)
        elif token is not None:
            self._credential = _BearerAuth(token)

    def get_created(self, request: requests.PreparedRequest) -> datetime:
        """The signature's ``created`` time, from the clock (no ``Date`` field is added)."""
        created = self._clock()
        if created.tzinfo is None:
            raise ValueError("the clock must return timezone-aware times")
        return created

    def get_covered_component_ids(self, request: requests.PreparedRequest) -> Sequence[str]:
        """``@method``, ``@target-uri``, ``content-digest``, and ``content-type`` if present.

        Nothing is covered automatically (the base class would add ``Authorization`` and
        ``Date``): see the class docstring for why the token stays out.
        """
        components = ["@method", "@target-uri", "content-digest"]
        if "Content-Type" in request.headers:
            components.append("content-type")
        return components

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        """Sign ``request`` in place (adding ``Content-Digest``, ``Signature-Input`` and
        ``Signature``), then add the token, if any; ``requests`` calls this when it prepares."""
        signed = super().__call__(request)
        if self._credential is not None:
            signed = self._credential(signed)
        return signed


class _BearerAuth(requests.auth.AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request
