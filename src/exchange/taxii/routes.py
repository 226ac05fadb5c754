"""TAXII 2.1 endpoints (TAXII 2.1 sections 4 and 5). Every route needs an authenticated account.

Handlers are thin: read the request, call the hub service, render TAXII JSON. Object bodies are
written into the envelope as the stored bytes, never parsed again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from exchange.errors import InvalidRequest, NotAcceptable, PayloadTooLarge, UnsupportedMediaType
from exchange.sharing.keys import SignedRequest
from exchange.sharing.service import CollectionView, Hub, ObjectsPage
from exchange.stix.objects import SINGLE_VERSION
from exchange.stix.timestamps import format_date_added, format_version
from exchange.store.models import Account, PlacedObject, VersionSelector
from exchange.taxii.auth import CurrentAccount, HubDep, current_account
from exchange.taxii.filters import parse_read_params
from exchange.taxii.media import STIX_21, TAXII_21, accepts_taxii, is_taxii_body

__all__ = ["API_ROOT", "DISCOVERY", "build_router"]

DISCOVERY = "/taxii2/"
API_ROOT = "/hub/"

_OBJECT_FILTERS = frozenset({"id", "type", "version", "spec_version"})
_ONE_OBJECT_FILTERS = frozenset({"version", "spec_version"})
_VERSIONS_FILTERS = frozenset({"spec_version"})


def _public_url(request: Request) -> str:
    """The URL as the client addressed it (the public URL's origin when one is configured)."""
    public: str | None = request.app.state.public_url
    if public is None:
        return str(request.url)
    query = f"?{request.url.query}" if request.url.query else ""
    return f"{public}{request.url.path}{query}"


def require_taxii_accept(request: Request) -> None:
    """406 unless the client accepts TAXII 2.1 JSON (TAXII 2.1 section 1.6.8)."""
    if not accepts_taxii(request.headers.get("accept")):
        raise NotAcceptable(f"this endpoint answers in {TAXII_21}")


def _taxii(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=TAXII_21, headers=headers)


def _json(document: Any, *, status: int = 200) -> Response:
    return _taxii(orjson.dumps(document), status=status)


def _version_text(row: PlacedObject) -> str:
    # TAXII 2.1 section 3.4.2: an object with neither modified nor created is versioned by
    # its date_added.
    if row.version == SINGLE_VERSION:
        return format_date_added(row.date_added)
    return format_version(row.version)


def _date_headers(rows: Sequence[PlacedObject]) -> dict[str, str]:
    if not rows:
        return {}
    return {
        "X-TAXII-Date-Added-First": format_date_added(rows[0].date_added),
        "X-TAXII-Date-Added-Last": format_date_added(rows[-1].date_added),
    }


def _envelope_head(page: ObjectsPage) -> bytes:
    head = b'{"more":' + (b"true" if page.more else b"false")
    if page.next is not None:
        head += b',"next":' + orjson.dumps(page.next)
    return head


def _objects_response(page: ObjectsPage) -> Response:
    bodies = b",".join(row.body or b"{}" for row in page.rows)
    body = _envelope_head(page) + b',"objects":[' + bodies + b"]}"
    return _taxii(body, headers=_date_headers(page.rows))


def _manifest_response(page: ObjectsPage) -> Response:
    records = [
        {
            "id": row.stix_id,
            "date_added": format_date_added(row.date_added),
            "version": _version_text(row),
            "media_type": STIX_21,
        }
        for row in page.rows
    ]
    body = _envelope_head(page) + b',"objects":' + orjson.dumps(records) + b"}"
    return _taxii(body, headers=_date_headers(page.rows))


def _versions_response(page: ObjectsPage) -> Response:
    versions = [_version_text(row) for row in page.rows]
    body = _envelope_head(page) + b',"versions":' + orjson.dumps(versions) + b"}"
    return _taxii(body, headers=_date_headers(page.rows))


def _collection_resource(view: CollectionView) -> dict[str, Any]:
    collection = view.collection
    resource: dict[str, Any] = {"id": collection.id, "title": collection.title}
    if collection.description:
        resource["description"] = collection.description
    resource["can_read"] = view.access.can_read
    resource["can_write"] = view.access.can_write
    resource["media_types"] = [STIX_21]
    return resource


def _require_identity_coding(request: Request) -> None:
    """415 for a compressed body (RFC 9110 section 8.4.1): the hub never expands one, so a
    small body cannot become a large one, and the body is checked and signed as sent."""
    codings = [
        coding.strip().lower()
        for value in request.headers.getlist("content-encoding")
        for coding in value.split(",")
    ]
    unsupported = [coding for coding in codings if coding not in {"", "identity"}]
    if unsupported:
        shown = ", ".join(coding[:20] for coding in unsupported[:3])
        raise UnsupportedMediaType(
            f"Content-Encoding {shown} is not supported: send the envelope uncompressed"
        )


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"the body is larger than the limit of {limit} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        # The client went away, or the server closed a body that came too slowly: nobody is
        # left to answer, and it is not the hub's error.
        raise InvalidRequest("the client did not send the whole body") from None
    return b"".join(chunks)


def build_router(*, title: str, description: str, max_body_bytes: int) -> APIRouter:
    """The TAXII routes, authenticated and content-negotiated by default."""
    router = APIRouter(
        dependencies=[Depends(current_account), Depends(require_taxii_accept)],
        tags=["TAXII 2.1"],
    )

    @router.get(DISCOVERY)
    def discovery(request: Request) -> Response:
        """Server discovery (TAXII 2.1 section 4.1)."""
        base = request.app.state.public_url or str(request.base_url).rstrip("/")
        root = base + API_ROOT
        return _json(
            {"title": title, "description": description, "default": root, "api_roots": [root]}
        )

    @router.get(API_ROOT)
    def api_root() -> Response:
        """API root information (TAXII 2.1 section 4.2)."""
        return _json(
            {
                "title": title,
                "description": description,
                "versions": [TAXII_21],
                "max_content_length": max_body_bytes,
            }
        )

    @router.get(API_ROOT + "status/{status_id}/")
    def status(status_id: str, account: CurrentAccount, hub: HubDep) -> Response:
        """A status resource (TAXII 2.1 section 4.3); only its creator sees it."""
        return _taxii(hub.status(account, status_id))

    @router.get(API_ROOT + "collections/")
    def collections(account: CurrentAccount, hub: HubDep) -> Response:
        """The collections this account may see (TAXII 2.1 section 5.1)."""
        views = hub.visible_collections(account)
        return _json({"collections": [_collection_resource(view) for view in views]})

    @router.get(API_ROOT + "collections/{collection_id}/")
    def collection(collection_id: str, account: CurrentAccount, hub: HubDep) -> Response:
        """One collection (TAXII 2.1 section 5.2)."""
        return _json(_collection_resource(hub.collection_for(account, collection_id)))

    def read_page(
        request: Request,
        account: Account,
        hub: Hub,
        collection_id: str,
        *,
        object_id: str | None = None,
        allowed: frozenset[str],
        with_bodies: bool,
        scope: str,
        all_versions: bool = False,
    ) -> ObjectsPage:
        params = parse_read_params(request.query_params.multi_items(), allowed=allowed)
        query = params.query
        if all_versions:
            query = replace(query, versions=VersionSelector(last=False, all=True))
        return hub.read(
            account,
            collection_id,
            query,
            object_id=object_id,
            limit=params.limit,
            next_cursor=params.next,
            with_bodies=with_bodies,
            scope=scope,
        )

    @router.get(API_ROOT + "collections/{collection_id}/manifest/")
    def manifest(
        collection_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """The manifest of a collection (TAXII 2.1 section 5.3)."""
        page = read_page(
            request,
            account,
            hub,
            collection_id,
            allowed=_OBJECT_FILTERS,
            with_bodies=False,
            scope="manifest",
        )
        return _manifest_response(page)

    @router.get(API_ROOT + "collections/{collection_id}/objects/")
    def get_objects(
        collection_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """Objects of a collection (TAXII 2.1 section 5.4)."""
        page = read_page(
            request,
            account,
            hub,
            collection_id,
            allowed=_OBJECT_FILTERS,
            with_bodies=True,
            scope="objects",
        )
        return _objects_response(page)

    @router.post(API_ROOT + "collections/{collection_id}/objects/")
    async def add_objects(
        collection_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """Add objects (TAXII 2.1 section 5.5); answers 202 with the status resource."""
        if not is_taxii_body(request.headers.get("content-type")):
            raise UnsupportedMediaType(f"send a TAXII envelope as {TAXII_21}")
        _require_identity_coding(request)
        await run_in_threadpool(hub.collection_for, account, collection_id)
        body = await _read_body(request, max_body_bytes)
        signed = SignedRequest(request.method, _public_url(request), tuple(request.headers.items()))
        status = await run_in_threadpool(hub.add_objects, account, collection_id, body, signed)
        return _taxii(status, status=202)

    @router.get(API_ROOT + "collections/{collection_id}/objects/{object_id}/")
    def get_object(
        collection_id: str, object_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """One object's versions (TAXII 2.1 section 5.6)."""
        page = read_page(
            request,
            account,
            hub,
            collection_id,
            object_id=object_id,
            allowed=_ONE_OBJECT_FILTERS,
            with_bodies=True,
            scope="object",
        )
        return _objects_response(page)

    @router.delete(API_ROOT + "collections/{collection_id}/objects/{object_id}/")
    def delete_object(
        collection_id: str, object_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """Delete an object from a collection (TAXII 2.1 section 5.7); all versions by default."""
        pairs = request.query_params.multi_items()
        params = parse_read_params(pairs, allowed=_ONE_OBJECT_FILTERS, version_default="all")
        hub.delete_object(
            account,
            collection_id,
            object_id,
            params.query.versions,
            params.query.spec_versions,
        )
        return Response(status_code=200)

    @router.get(API_ROOT + "collections/{collection_id}/objects/{object_id}/versions/")
    def versions(
        collection_id: str, object_id: str, request: Request, account: CurrentAccount, hub: HubDep
    ) -> Response:
        """The versions of one object (TAXII 2.1 section 5.8)."""
        page = read_page(
            request,
            account,
            hub,
            collection_id,
            object_id=object_id,
            allowed=_VERSIONS_FILTERS,
            with_bodies=False,
            scope="versions",
            all_versions=True,
        )
        return _versions_response(page)

    return router
