"""Building the web application: ``create_app(settings)`` wires store, service and routes.

Nothing is built at import time; tests and ``exchange serve`` each call ``create_app``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from exchange import __version__
from exchange.accounts.throttle import Throttle
from exchange.admin.audit import build_audit_router
from exchange.admin.exports import build_exports_router
from exchange.admin.feedback import build_feedback_router
from exchange.admin.keys import build_key_router
from exchange.admin.partners import build_partner_router
from exchange.admin.routes import build_admin_router
from exchange.countries import load_countries
from exchange.errors import ExchangeError
from exchange.settings import Settings
from exchange.sharing.base import Clock
from exchange.sharing.service import Hub
from exchange.store.opening import open_store
from exchange.store.protocol import Store
from exchange.taxii.auth import current_account, get_hub
from exchange.taxii.errors import error_response, handle_exchange_error, handle_unexpected
from exchange.taxii.health import build_health_router
from exchange.taxii.routes import build_router
from exchange.taxii.signatures import ResponseSigner, ResponseSigningMiddleware
from exchange.taxii.well_known import build_well_known_router

__all__ = ["build_hub", "create_app"]

log = logging.getLogger("exchange")

_PURGE_EVERY = 3600.0  # seconds between retention purges
_HEAD_EVERY = 60.0  # seconds between signed audit tree heads (when the log grew)

TITLE = "exchange"
DESCRIPTION = (
    "Cyber-threat information exchange hub: vetted partners share STIX 2.1 with the police of "
    "member countries."
)


def build_hub(
    settings: Settings,
    *,
    create: bool = False,
    store: Store | None = None,
    clock: Clock | None = None,
) -> Hub:
    """The hub service over the configured store (made and migrated when ``create``).

    ``clock`` replaces the wall clock (tests of validity windows, lapses, embargoes).
    """
    countries = load_countries(settings.config_dir)
    store = store or open_store(settings, create=create)
    return Hub(
        store,
        countries,
        max_objects_per_envelope=settings.max_objects_per_envelope,
        max_nesting_depth=settings.max_nesting_depth,
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        clock=clock,
        signature_max_skew_seconds=settings.signature_max_skew_seconds,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed"}
    return error_response(
        exc.status_code, titles.get(exc.status_code, "HTTP error"), str(exc.detail)
    )


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        # FastAPI parses a JSON body before it runs the route's dependencies: without this, a
        # request with no valid credentials would learn how the route reads its body (422)
        # instead of being told to authenticate (401).
        try:
            await run_in_threadpool(current_account, request, get_hub(request))
        except ExchangeError as error:
            return await handle_exchange_error(request, error)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()[:5]
    )
    return error_response(422, "Invalid request body", problems[:500])


async def _maintain(hub: Hub, every: float) -> None:
    """Release ended embargoes and refresh stale planner statistics every few seconds, purge
    what retention no longer allows every hour and sign a tree head every minute. Each node may
    run this: the store's write transactions make it safe to repeat.
    """
    loop = asyncio.get_running_loop()
    last_purge = 0.0
    last_head = 0.0
    while True:
        await asyncio.sleep(every)
        try:
            analysed = await run_in_threadpool(hub.refresh_store_statistics)
            if analysed:
                log.info("maintenance: planner statistics refreshed for %s", ", ".join(analysed))
            released = await run_in_threadpool(hub.release_embargoes)
            purged = 0
            if loop.time() - last_purge >= _PURGE_EVERY:
                purged = await run_in_threadpool(hub.purge_expired)
                last_purge = loop.time()
            if loop.time() - last_head >= _HEAD_EVERY:
                await run_in_threadpool(hub.publish_tree_head)
                last_head = loop.time()
        except Exception:
            log.exception("maintenance failed; retrying in %s s", every)
            continue
        if released or purged:
            log.info("maintenance: %d objects released, %d placements purged", released, purged)


def create_app(settings: Settings, *, hub: Hub | None = None) -> FastAPI:
    """The ASGI application for these settings."""
    service = hub or build_hub(settings)
    service.ensure_country_collections()
    # Partners made before feedback existed get their feedback collection now.
    service.ensure_feedback_collections()
    # The hub's keys are made now (their creation is an audit event), not by the first tree
    # head the maintenance loop signs or the first response the middleware signs.
    service.hub_key("audit")
    service.hub_key("responses")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = asyncio.create_task(_maintain(service, settings.maintenance_seconds))
        try:
            yield
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            if hub is None:
                service.close()

    app = FastAPI(
        title=TITLE,
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
        docs_url="/admin/docs",
        redoc_url=None,
        openapi_url="/admin/openapi.json",
    )
    app.state.hub = service
    # Lockouts and request rates are this process's own (see exchange.accounts.throttle).
    app.state.throttle = Throttle.from_settings(settings)
    app.state.public_url = settings.public_url.rstrip("/") if settings.public_url else None
    app.include_router(
        build_router(title=TITLE, description=DESCRIPTION, max_body_bytes=settings.max_body_bytes)
    )
    app.include_router(build_admin_router())
    app.include_router(build_partner_router())
    app.include_router(build_key_router())
    app.include_router(build_audit_router())
    app.include_router(build_exports_router())
    app.include_router(build_feedback_router())
    app.include_router(build_well_known_router())
    app.include_router(build_health_router())
    app.add_middleware(
        ResponseSigningMiddleware,
        signer=ResponseSigner(service, check_every=settings.response_key_check_seconds),
        public_url=app.state.public_url,
    )
    app.add_exception_handler(ExchangeError, handle_exchange_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, handle_unexpected)
    return app
