"""The TAXII status resource of one write (TAXII 2.1 section 4.3.1), built from its outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from exchange.stix.objects import SINGLE_VERSION, Refusal
from exchange.stix.timestamps import format_date_added, format_version
from exchange.store.models import AddOutcome

__all__ = ["StatusLine", "line_for", "render_status"]


@dataclass(frozen=True, slots=True)
class StatusLine:
    """What became of one submitted object."""

    stix_id: str | None
    version: int | str | None  # µs, or the text given when it could not be read
    success: bool
    message: str
    date_added: int | None = None


def line_for(result: AddOutcome | Refusal, accepted: str = "added") -> StatusLine:
    """The status line of a store outcome or a refusal."""
    if isinstance(result, Refusal):
        return StatusLine(result.stix_id, result.version, False, result.reason)
    if result.refused is not None:
        return StatusLine(result.stix_id, result.version, False, result.refused)
    message = accepted if result.stored else "already present"
    return StatusLine(result.stix_id, result.version, True, message, result.date_added)


def _detail(line: StatusLine) -> dict[str, Any]:
    detail: dict[str, Any] = {"id": line.stix_id if line.stix_id is not None else ""}
    if isinstance(line.version, int):
        if line.version != SINGLE_VERSION:
            detail["version"] = format_version(line.version)
        elif line.date_added is not None:
            # TAXII 2.1 section 3.4.2: an object without modified or created is versioned by
            # its date_added.
            detail["version"] = format_date_added(line.date_added)
    elif line.version is not None:
        detail["version"] = line.version
    detail["message"] = line.message
    return detail


def render_status(status_id: str, requested_at: int, lines: Sequence[StatusLine]) -> bytes:
    """The status resource as JSON bytes, every object accounted for (all complete)."""
    successes = [_detail(line) for line in lines if line.success]
    failures = [_detail(line) for line in lines if not line.success]
    status = {
        "id": status_id,
        "status": "complete",
        "request_timestamp": format_date_added(requested_at),
        "total_count": len(lines),
        "success_count": len(successes),
        "successes": successes,
        "failure_count": len(failures),
        "failures": failures,
        "pending_count": 0,
        "pendings": [],
    }
    return orjson.dumps(status)
