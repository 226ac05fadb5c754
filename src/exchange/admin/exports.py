"""Exports for analysts over HTTP: ``GET /analyst/exports/{collection_id}/{format}``.

Any authenticated account may ask, under the TAXII access rules (an analyst: their country's
collection and shared collections they may read; a partner: its inbox and granted shared
collections; an admin: shared collections); a collection the account may not see answers 404,
like one that does not exist, and so does an unknown format. The body streams (chunked) as the
collection is read, in the format's media type:

==========================================  ===============================================
format                                      media type
==========================================  ===============================================
``bundle``                                  ``application/stix+json;version=2.1``
``csv``                                     ``text/csv; charset=utf-8``
``ipv4`` ``ipv6`` ``domains`` ``urls``      ``text/plain; charset=utf-8``
``hashes`` ``suricata``
``misp``                                    ``application/json``
==========================================  ===============================================

Query parameters, as TAXII 2.1 reads them (section 3.4.2): ``added_after``, ``match[type]`` and
``match[id]`` (comma lists or repeated); and ``min_confidence`` (0-100) and ``max_tlp``
(``clear``, ``green``, ``amber``, ``amber+strict``; ``white`` reads as ``clear``). Anything else,
or a malformed value, is a 400 with a TAXII error body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from starlette.responses import StreamingResponse

from exchange.agreements.terms import Tlp
from exchange.errors import InvalidRequest
from exchange.exports.eligibility import Filters
from exchange.exports.formats import ExportFormat
from exchange.store.models import ObjectQuery
from exchange.taxii.auth import CurrentAccount, HubDep, current_account
from exchange.taxii.filters import parse_read_params
from exchange.taxii.media import STIX_21

__all__ = ["EXPORTS", "build_exports_router", "media_type", "parse_export_params"]

EXPORTS = "/analyst/exports/"

_TAXII_PARAMS = frozenset({"added_after", "match[type]", "match[id]"})
_MAX_TLP_WORDS: dict[str, Tlp] = {
    "clear": Tlp.CLEAR,
    "white": Tlp.CLEAR,
    "green": Tlp.GREEN,
    "amber": Tlp.AMBER,
    "amber+strict": Tlp.AMBER_STRICT,
    # A '+' written unescaped in a query string arrives as a space (form encoding).
    "amber strict": Tlp.AMBER_STRICT,
}
_TEXT = "text/plain; charset=utf-8"
_MEDIA: dict[ExportFormat, tuple[str, str]] = {
    ExportFormat.BUNDLE: (STIX_21, "json"),
    ExportFormat.CSV: ("text/csv; charset=utf-8", "csv"),
    ExportFormat.MISP: ("application/json", "json"),
    ExportFormat.SURICATA: (_TEXT, "rules"),
}


def media_type(fmt: ExportFormat) -> str:
    """The media type an export in ``fmt`` is sent as."""
    return _MEDIA.get(fmt, (_TEXT, "txt"))[0]


def _one(pairs: list[tuple[str, str]], name: str) -> str | None:
    values = [value for key, value in pairs if key == name]
    if len(values) > 1:
        raise InvalidRequest(f"give {name} once")
    return values[0] if values else None


def parse_export_params(pairs: list[tuple[str, str]]) -> tuple[ObjectQuery, Filters]:
    """The store query and the export filters a request's query parameters ask for."""
    for key, _ in pairs:
        if key not in _TAXII_PARAMS and key not in {"min_confidence", "max_tlp"}:
            raise InvalidRequest(f"unknown query parameter {key[:60]!r}")
    taxii = [(key, value) for key, value in pairs if key in _TAXII_PARAMS]
    query = parse_read_params(taxii, allowed=frozenset({"id", "type"})).query
    min_confidence = None
    raw = _one(pairs, "min_confidence")
    if raw is not None:
        if not raw.isascii() or not raw.isdigit() or int(raw) > 100:
            raise InvalidRequest("min_confidence must be an integer from 0 to 100")
        min_confidence = int(raw)
    max_tlp = None
    raw = _one(pairs, "max_tlp")
    if raw is not None:
        max_tlp = _MAX_TLP_WORDS.get(raw.strip().lower())
        if max_tlp is None:
            raise InvalidRequest("max_tlp must be clear, green, amber or amber+strict")
    return query, Filters(min_confidence=min_confidence, max_tlp=max_tlp)


# A module-level alias: annotations are strings here (PEP 563), resolved in this namespace.
_FormatParameter = Annotated[
    str, Path(description=f"One of {', '.join(fmt.value for fmt in ExportFormat)}.")
]


def _parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description, **schema}


_OPENAPI_PARAMETERS = [
    _parameter(
        "added_after",
        "Only objects added after this STIX timestamp (TAXII 2.1 section 3.4.2).",
        {"schema": {"type": "string"}},
    ),
    _parameter(
        "match[type]",
        "Object types (comma list or repeated).",
        {"schema": {"type": "array", "items": {"type": "string"}}, "explode": True},
    ),
    _parameter(
        "match[id]",
        "Object ids (comma list or repeated).",
        {"schema": {"type": "array", "items": {"type": "string"}}, "explode": True},
    ),
    _parameter(
        "min_confidence",
        "Leave out objects below this confidence, and objects that state none.",
        {"schema": {"type": "integer", "minimum": 0, "maximum": 100}},
    ),
    _parameter(
        "max_tlp",
        "Leave out objects marked above this TLP, and objects whose TLP is unknown.",
        {"schema": {"type": "string", "enum": ["clear", "green", "amber", "amber+strict"]}},
    ),
]


def build_exports_router() -> APIRouter:
    """The export endpoint, authenticated by default."""
    router = APIRouter(dependencies=[Depends(current_account)], tags=["exports"])

    media_types = sorted({media_type(fmt) for fmt in ExportFormat})

    @router.get(
        EXPORTS + "{collection_id}/{export_format}",
        response_class=StreamingResponse,
        responses={200: {"description": "The export", "content": {m: {} for m in media_types}}},
        openapi_extra={"parameters": _OPENAPI_PARAMETERS},
    )
    def export(
        collection_id: str,
        export_format: _FormatParameter,
        request: Request,
        account: CurrentAccount,
        hub: HubDep,
    ) -> StreamingResponse:
        """A collection exported as a STIX bundle (``bundle``), indicators as CSV (``csv``),
        blocklists (``ipv4``, ``ipv6``, ``domains``, ``urls``, ``hashes``), Suricata rules
        (``suricata``) or a MISP event (``misp``); streamed as the collection is read.

        Blocklists, Suricata rules and MISP attributes hold only what indicators with simple
        patterns name and only what may feed automated tools: not revoked, not expired, not
        TLP:RED, and permitted by any IEP 2.0 policy on the indicator.
        """
        query, filters = parse_export_params(request.query_params.multi_items())
        chunks = hub.export(account, collection_id, export_format, query, filters)
        fmt = ExportFormat(export_format)
        suffix = _MEDIA.get(fmt, (_TEXT, "txt"))[1]
        headers = {
            "Content-Disposition": (
                f'attachment; filename="exchange-{collection_id}-{fmt.value}.{suffix}"'
            ),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
        return StreamingResponse(chunks, media_type=media_type(fmt), headers=headers)

    return router
