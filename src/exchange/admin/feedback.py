"""Sightings back over HTTP: analysts report sightings (``POST /analyst/sightings``), partners
read the counts of what was reported about their objects (``GET /partner/feedback``).

The sightings themselves reach each partner in its feedback collection, which it pulls with any
TAXII 2.1 client like its inbox. Errors are TAXII error messages, as everywhere on the hub.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from exchange.admin.audit import PartnerAccount
from exchange.errors import InvalidRequest, NotAllowed, PayloadTooLarge, UnsupportedMediaType
from exchange.store.models import Account, Role
from exchange.taxii.auth import CurrentAccount, HubDep

__all__ = ["MAX_SIGHTING_BYTES", "build_feedback_router"]

# A sighting is a few hundred bytes; nothing an analyst sends needs more.
MAX_SIGHTING_BYTES = 64 * 1024
_JSON_MEDIA_TYPES = frozenset(
    {"application/json", "application/stix+json", "application/taxii+json"}
)


def require_analyst(account: CurrentAccount) -> Account:
    """The authenticated account, which must be an analyst (else 403)."""
    if account.role is not Role.ANALYST:
        raise NotAllowed("this endpoint is for analysts")
    return account


AnalystAccount = Annotated[Account, Depends(require_analyst)]


async def _read_json(request: Request) -> Any:
    media = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media not in _JSON_MEDIA_TYPES:
        raise UnsupportedMediaType("send the sighting as application/json")
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(f"a sighting is at most {MAX_SIGHTING_BYTES} bytes")
    if declared is not None and declared.isdigit() and int(declared) > MAX_SIGHTING_BYTES:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_SIGHTING_BYTES:
            raise too_large
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON (UTF-8)") from None


def build_feedback_router() -> APIRouter:
    """``/analyst/sightings`` and ``/partner/feedback``."""
    router = APIRouter(tags=["feedback"])

    @router.post("/analyst/sightings", status_code=201)
    async def report_sighting(request: Request, account: AnalystAccount, hub: HubDep) -> Response:
        """Report a sighting of an object in your country's collection: a STIX 2.1 sighting
        (``{"sighting": {...}}``) or ``{"object_id", "verdict": "seen" | "false_positive",
        "count"?, "first_seen"?, "last_seen"?, "note"?}``. 201 with how many partners it
        reached (200 when it had been reported before); 404 when your collection does not
        show the object."""
        document = await _read_json(request)
        receipt = await run_in_threadpool(hub.report_sighting, account, document)
        return JSONResponse(receipt.to_json(), status_code=201 if receipt.added else 200)

    @router.get("/partner/feedback")
    def partner_feedback(
        account: PartnerAccount,
        hub: HubDep,
        after: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    ) -> dict[str, Any]:
        """Per object of yours that analysts reported on (ordered by id; page with ``after`` =
        the previous page's ``next_after``): sightings reported as seen, their counts added
        up, false positives, last sighted, last reported; and your feedback collection's id."""
        return hub.partner_feedback(account, after=after, limit=limit)

    return router
