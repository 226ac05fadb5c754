"""STIX 2.1 objects for end-to-end tests: fresh ids, timestamps of now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def now_stix() -> str:
    """Now as a STIX timestamp (milliseconds, as producers write them)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def indicator(
    pattern: str = "[ipv4-addr:value = '198.51.100.7']",
    *,
    stamp: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A new, valid indicator with this pattern, created, modified and valid from ``stamp``
    (default: now); ``extra`` adds or replaces properties."""
    moment = stamp or now_stix()
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": moment,
        "modified": moment,
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": moment,
        **extra,
    }
