"""``GET /.well-known/exchange-keys``: the hub's public keys as a JWKS (RFC 7517 section 5).

No authentication: it holds public keys only. Every hub key is listed, current and retired, so
what a retired key signed can still be checked. Each JWK has ``kty``/``crv``/``x``, ``kid``
(its RFC 7638 thumbprint), ``alg`` (``EdDSA``), ``use`` (``sig``) and three extra members:
``purpose`` (``responses`` for TAXII response signatures, ``audit`` for audit tree heads),
``created`` and, once the key has been replaced, ``retired`` (both RFC 3339 UTC).
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from exchange.sharing.base import HubBase
from exchange.signing.keys import public_key_from_pem
from exchange.store.models import HubKey

__all__ = ["JWKS_MEDIA_TYPE", "WELL_KNOWN_KEYS", "build_well_known_router", "hub_keys", "jwks"]

WELL_KNOWN_KEYS: Final = "/.well-known/exchange-keys"
JWKS_MEDIA_TYPE: Final = "application/jwk-set+json"


def hub_keys(hub: HubBase, purpose: str | None = None) -> list[HubKey]:
    """Every hub key (current and retired), oldest first, optionally of one purpose."""
    return hub._store.hub_keys(purpose)


def public_jwk(key: HubKey) -> dict[str, Any]:
    """One hub key as a public JWK with its purpose and times; never the private half."""
    jwk: dict[str, Any] = public_key_from_pem(key.public_key, key.key_id).jwk()
    jwk["purpose"] = key.purpose
    jwk["created"] = key.created_at
    if key.retired_at is not None:
        jwk["retired"] = key.retired_at
    return jwk


def jwks(keys: list[HubKey]) -> dict[str, Any]:
    """The JWKS document for these keys."""
    return {"keys": [public_jwk(key) for key in keys]}


def build_well_known_router() -> APIRouter:
    """The unauthenticated well-known routes."""
    router = APIRouter(tags=["keys"])

    @router.get(WELL_KNOWN_KEYS)
    async def exchange_keys(request: Request) -> Response:
        """The hub's public keys (responses and audit), current and retired, as a JWKS."""
        hub: HubBase = request.app.state.hub
        # The response key is made on first use: publish it even before the first signature.
        await run_in_threadpool(hub.hub_key, "responses")
        keys = await run_in_threadpool(hub_keys, hub)
        return Response(
            orjson.dumps(jwks(keys)),
            media_type=JWKS_MEDIA_TYPE,
            headers={"Cache-Control": "max-age=60"},
        )

    return router
