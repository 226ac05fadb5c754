"""Checking submitted objects just enough to store and serve them (STIX 2.1 section 2, 3).

This is the structural floor every stored object passes: it is a JSON object with a well-formed
``type`` and ``id``, a known ``spec_version``, and valid ``created``/``modified`` timestamps from
which its TAXII version is taken (TAXII 2.1 section 3.4.2: ``modified``, else ``created``, else the
object has a single version). Checking the full STIX 2.1 rules is a later stage of the pipeline.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import orjson

from exchange.stix.timestamps import format_version, parse_timestamp

__all__ = ["SINGLE_VERSION", "ObjectVersion", "Refusal", "check_object"]

# An object with neither `modified` nor `created` (most SCOs) has exactly one version.
SINGLE_VERSION = 0

# STIX 2.1 section 2.9 (type) and 2.9 (identifier): lowercase ASCII letters, digits and hyphens,
# 3 to 250 characters; identifiers are `type--UUID`.
_TYPE = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,248})[a-z0-9]")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_SUPPORTED_SPEC_VERSIONS = frozenset({"2.1"})
_MAX_ID_LENGTH = 300


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One well-formed object version, ready to store."""

    stix_id: str
    type: str
    version: int
    spec_version: str
    body: bytes
    digest: bytes

    @property
    def version_text(self) -> str | None:
        """The version as TAXII shows it, or None for a single-version object."""
        return None if self.version == SINGLE_VERSION else format_version(self.version)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why one submitted object was not taken; reported in the TAXII status resource."""

    stix_id: str | None
    version: str | None
    reason: str


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_object(item: Any) -> ObjectVersion | Refusal:
    """Check one envelope member; return the storable version or the reason it is refused."""
    if not isinstance(item, dict):
        return Refusal(None, None, "not a STIX object: envelope members must be JSON objects")
    stix_id = item.get("id")
    shown_id = stix_id if isinstance(stix_id, str) and len(stix_id) <= _MAX_ID_LENGTH else None
    raw_version = item.get("modified", item.get("created"))
    shown_version = raw_version if isinstance(raw_version, str) and len(raw_version) < 64 else None

    def refuse(reason: str) -> Refusal:
        return Refusal(shown_id, shown_version, reason)

    stix_type = item.get("type")
    if not isinstance(stix_type, str):
        return refuse("missing required property 'type'")
    if not _TYPE.fullmatch(stix_type) or "--" in stix_type:
        return refuse(f"invalid type {_short(stix_type)} (STIX 2.1 section 2.9)")
    if not isinstance(stix_id, str):
        return refuse("missing required property 'id'")
    prefix, sep, uuid = stix_id.partition("--")
    if not sep or prefix != stix_type or not _UUID.fullmatch(uuid):
        return refuse(f"invalid id {_short(stix_id)}: must be '{stix_type}--' and a lowercase UUID")

    spec_version = item.get("spec_version")
    if spec_version is None:
        # SDOs, SROs and marking definitions must carry spec_version (STIX 2.1 3.2); SCOs may
        # leave it out, and then they are 2.1. Objects with `created` are of the first kind.
        if "created" in item:
            return refuse("missing required property 'spec_version'")
        spec_version = "2.1"
    if not isinstance(spec_version, str) or spec_version not in _SUPPORTED_SPEC_VERSIONS:
        return refuse(f"unsupported spec_version {_short(spec_version)}: this hub takes 2.1")

    created = item.get("created")
    created_us = None
    if created is not None:
        created_us = parse_timestamp(created)
        if created_us is None:
            return refuse(f"'created' is not a STIX timestamp: {_short(created)}")
    modified = item.get("modified")
    version = SINGLE_VERSION
    if modified is not None:
        modified_us = parse_timestamp(modified)
        if modified_us is None:
            return refuse(f"'modified' is not a STIX timestamp: {_short(modified)}")
        if created_us is not None and modified_us < created_us:
            return refuse("'modified' is earlier than 'created'")
        version = modified_us
    elif created_us is not None:
        version = created_us

    # Keys sorted: two submissions that differ only in key order are the same object version.
    try:
        body = orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # orjson refuses to write JSON nested deeper than 255 levels (or integers past 64 bits);
        # no STIX object needs either.
        return refuse("the object is nested too deeply or holds an integer out of range")
    return ObjectVersion(
        stix_id=stix_id,
        type=stix_type,
        version=version,
        spec_version=spec_version,
        body=body,
        digest=hashlib.sha256(body).digest(),
    )
