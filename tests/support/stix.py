"""STIX 2.1 objects for end-to-end tests: fresh ids, timestamps of now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any


def now_stix() -> str:
    """Now as a STIX timestamp (milliseconds, as producers write them)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def indicator(pattern: str, name: str, **extra: Any) -> dict[str, Any]:
    """A new, valid indicator with this pattern, created and valid from now."""
    stamp = now_stix()
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": stamp,
        "modified": stamp,
        "name": name,
        "indicator_types": ["malicious-activity"],
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": stamp,
        **extra,
    }
