"""Reading a POSTed TAXII 2.1 envelope (TAXII 2.1 section 3.7) or STIX bundle (STIX 2.1 8).

Only the shape of the envelope is checked here; each member is checked by
:func:`exchange.stix.objects.check_object`, so one bad object never spoils the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from exchange.errors import InvalidEnvelope, PayloadTooLarge
from exchange.stix.objects import ObjectVersion, Refusal, check_object

__all__ = ["parse_envelope", "parse_members"]


def parse_envelope(raw: bytes, *, max_objects: int) -> Sequence[ObjectVersion | Refusal]:
    """Parse an envelope body into one result per member, in the order they were sent."""
    return [check_object(member) for member in parse_members(raw, max_objects=max_objects)]


def parse_members(raw: bytes, *, max_objects: int) -> list[Any]:
    """The members of an envelope's ``objects`` list, as parsed JSON values."""
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEnvelope(f"the body is not valid UTF-8 JSON ({exc.msg})") from None
    if not isinstance(document, dict):
        raise InvalidEnvelope("an envelope is a JSON object with an 'objects' list")
    members = document.get("objects")
    if not isinstance(members, list):
        raise InvalidEnvelope("the envelope has no 'objects' list")
    if len(members) > max_objects:
        raise PayloadTooLarge(
            f"the envelope carries {len(members)} objects; the limit is {max_objects}"
        )
    return members
