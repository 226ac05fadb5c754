"""The TAXII status resource of one write (TAXII 2.1 section 4.3.1), built from its outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from exchange.stix.objects import SINGLE_VERSION, Refusal
from exchange.stix.timestamps import format_date_added, format_version
from exchange.store.models import AddOutcome

__all__ = ["render_status"]


def _detail(
    stix_id: str | None, version: int | str | None, message: str, date_added: int | None = None
) -> dict[str, Any]:
    detail: dict[str, Any] = {"id": stix_id if stix_id is not None else ""}
    if isinstance(version, int):
        if version != SINGLE_VERSION:
            detail["version"] = format_version(version)
        elif date_added is not None:
            # TAXII 2.1 section 3.4.2: an object without modified or created is versioned by
            # its date_added.
            detail["version"] = format_date_added(date_added)
    elif version is not None:
        detail["version"] = version
    detail["message"] = message
    return detail


def render_status(
    status_id: str,
    requested_at: int,
    results: Sequence[AddOutcome | Refusal],
) -> bytes:
    """The status resource as JSON bytes, every object accounted for (all complete)."""
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, Refusal):
            failures.append(_detail(result.stix_id, result.version, result.reason))
        elif result.refused is not None:
            failures.append(_detail(result.stix_id, result.version, result.refused))
        else:
            message = "added" if result.stored else "already present"
            successes.append(_detail(result.stix_id, result.version, message, result.date_added))
    status = {
        "id": status_id,
        "status": "complete",
        "request_timestamp": format_date_added(requested_at),
        "total_count": len(results),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }
    return orjson.dumps(status)
