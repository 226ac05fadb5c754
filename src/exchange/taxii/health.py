"""``GET /health/live`` and ``GET /health/ready``: what a load balancer asks each node.

No authentication, and nothing in the answers but the verdict: ``live`` says the process
serves requests; ``ready`` also asks the store (the database answers and holds the hub's
schema), so a node that lost its database is taken out of rotation with 503.
"""

from __future__ import annotations

import logging
from typing import Final

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from exchange.errors import ExchangeError
from exchange.sharing.base import HubBase

__all__ = ["HEALTH_LIVE", "HEALTH_READY", "build_health_router"]

HEALTH_LIVE: Final = "/health/live"
HEALTH_READY: Final = "/health/ready"

log = logging.getLogger("exchange.health")


def _verdict(status: str, code: int) -> Response:
    return Response(
        orjson.dumps({"status": status}),
        status_code=code,
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


def build_health_router() -> APIRouter:
    """The unauthenticated health routes."""
    router = APIRouter(tags=["health"])

    @router.get(HEALTH_LIVE)
    async def live() -> Response:
        """The process is up and serving requests."""
        return _verdict("live", 200)

    @router.get(HEALTH_READY)
    async def ready(request: Request) -> Response:
        """The node can serve: its store answers (503 otherwise)."""
        hub: HubBase = request.app.state.hub
        try:
            await run_in_threadpool(hub.check_store)
        except ExchangeError as exc:
            log.warning("not ready: %s", exc)
            return _verdict("unavailable", 503)
        return _verdict("ready", 200)

    return router
