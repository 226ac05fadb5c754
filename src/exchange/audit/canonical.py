"""RFC 8785 JSON Canonicalization Scheme (JCS) for audit events and tree heads.

One JSON value has one byte string: members sorted by their UTF-16 code units (RFC 8785
section 3.2.3), no whitespace, strings with minimal escapes (section 3.2.2.2), numbers as
ECMAScript prints a double (section 3.2.2.3), I-JSON integers only (section 3.2.2.3, RFC 7493:
at most 2**53 - 1 in magnitude). The encoder is the ``rfc8785`` package; this module freezes
values so that what was canonicalised cannot change afterwards, and maps its errors to
:class:`~exchange.audit.errors.AuditError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import rfc8785

from exchange.audit.errors import AuditError

__all__ = ["MAX_SAFE_INTEGER", "canonical_json", "freeze_json", "thaw_json"]

MAX_SAFE_INTEGER = 2**53 - 1
"""The largest integer RFC 8785 (through I-JSON, RFC 7493 section 2.2) represents exactly."""


def freeze_json(value: Any) -> Any:
    """A read-only deep copy of a JSON value: mappings become ``MappingProxyType``, arrays tuples.

    Accepts ``None``, ``bool``, ``int`` (I-JSON range), finite ``float``, ``str``, mappings with
    string keys, and lists or tuples; raises AuditError on anything else.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise AuditError(f"integer {value} is outside the I-JSON range (RFC 8785 3.2.2.3)")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise AuditError(f"{value} has no JSON form (RFC 8785 3.2.2.3)")
        return value
    if isinstance(value, Mapping):
        frozen: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise AuditError(f"JSON object keys are strings, not {type(key).__name__}")
            frozen[key] = freeze_json(item)
        return MappingProxyType(frozen)
    if isinstance(value, list | tuple):
        return tuple(freeze_json(item) for item in value)
    raise AuditError(f"{type(value).__name__} is not a JSON value")


def thaw_json(value: Any) -> Any:
    """A plain ``dict`` / ``list`` copy of a (possibly frozen) JSON value."""
    if isinstance(value, Mapping):
        return {key: thaw_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [thaw_json(item) for item in value]
    return value


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value (frozen or not)."""
    try:
        return rfc8785.dumps(thaw_json(value))
    except rfc8785.CanonicalizationError as error:
        raise AuditError(f"not canonicalisable JSON (RFC 8785): {error}") from error
