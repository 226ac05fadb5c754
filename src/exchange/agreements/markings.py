"""Reading TLP and IEP data markings (STIX 2.1 section 7.2; FIRST TLP 2.0; FIRST IEP 2.0).

A STIX object is marked by the ids in its ``object_marking_refs`` and ``granular_markings``
(STIX 2.1 sections 7.2.2, 7.2.3). TLP markings are recognised by id: the four TLP 1.0 marking
definitions the STIX 2.1 specification fixes (section 7.2.1.4) and the five TLP 2.0 marking
definitions OASIS publishes in cti-stix-common-objects (an extension on a marking definition,
``tlp_2_0``). TLP 1.0 WHITE reads as TLP 2.0 CLEAR (FIRST TLP 2.0, "Changes from TLP 1.0").
IEP 2.0 markings are marking definitions that carry the IEP 2.0 property extension
(cti-stix-common-objects, iep-marking-definition-762) with a ``tlp`` and an optional ``end_date``.

Everything here is pure data and pure functions; the hub ships the TLP 2.0 definitions next to
objects it marks, so they are kept here in full.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from exchange.agreements.terms import TLP_ORDER, Tlp
from exchange.stix.timestamps import parse_timestamp

__all__ = [
    "IEP_EXTENSION_ID",
    "TLP1_MARKING",
    "TLP2_EXTENSION_ID",
    "TLP2_MARKING",
    "TLP2_MARKING_DEFINITIONS",
    "Iep",
    "canonical_tlp_definition",
    "highest_tlp",
    "iep_of",
    "is_standard_tlp",
    "tlp2_marking_definition",
    "tlp_of_definition",
    "tlp_of_ref",
]

# STIX 2.1 section 7.2.1.4: the TLP 1.0 marking definitions; "other instances of tlp-marking
# MUST NOT be used or created". WHITE is read as CLEAR (FIRST TLP 2.0).
TLP1_MARKING: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    Tlp.GREEN: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    Tlp.AMBER: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    Tlp.RED: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_TLP1_NAMES: dict[Tlp, str] = {
    Tlp.CLEAR: "white",
    Tlp.GREEN: "green",
    Tlp.AMBER: "amber",
    Tlp.RED: "red",
}
_TLP1_CREATED = "2017-01-20T00:00:00.000Z"

# TLP 2.0 as published by OASIS (cti-stix-common-objects, objects/marking-definition and
# extension-definition-specifications/tlp-2.0): one marking definition per level.
TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_MARKING: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP2_CREATED = "2022-10-01T00:00:00.000Z"

# IEP 2.0 for STIX 2.1 (cti-stix-common-objects, iep-marking-definition-762).
IEP_EXTENSION_ID = "extension-definition--762e2e97-ee51-43e5-a9ea-165fbb862c4a"

_STANDARD_TLP: dict[str, Tlp] = {
    **{ref: tlp for tlp, ref in TLP1_MARKING.items()},
    **{ref: tlp for tlp, ref in TLP2_MARKING.items()},
}

# The words TLP 1.0, TLP 2.0 and IEP 2.0 ("white", "amber+strict", ...) use for each level.
_TLP_WORDS: dict[str, Tlp] = {
    "white": Tlp.CLEAR,
    "clear": Tlp.CLEAR,
    "green": Tlp.GREEN,
    "amber": Tlp.AMBER,
    "amber+strict": Tlp.AMBER_STRICT,
    "red": Tlp.RED,
}


def _read_only(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_read_only(item) for item in value)
    return value


def _tlp2_definition(tlp: Tlp) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_MARKING[tlp],
        "created": _TLP2_CREATED,
        "name": f"TLP:{tlp.value.upper()}",
        "extensions": {
            TLP2_EXTENSION_ID: {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        },
    }


def _tlp1_definition(tlp: Tlp) -> dict[str, Any]:
    word = _TLP1_NAMES[tlp]
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP1_MARKING[tlp],
        "created": _TLP1_CREATED,
        "definition_type": "tlp",
        "name": f"TLP:{word.upper()}",
        "definition": {"tlp": word},
    }


# The TLP 2.0 marking-definition objects, exactly as OASIS publishes them (read-only views;
# use tlp2_marking_definition() for a dict to ship).
TLP2_MARKING_DEFINITIONS: Mapping[Tlp, Mapping[str, Any]] = MappingProxyType(
    {tlp: _read_only(_tlp2_definition(tlp)) for tlp in TLP2_MARKING}
)
_CANONICAL: dict[str, dict[str, Any]] = {
    **{TLP1_MARKING[tlp]: _tlp1_definition(tlp) for tlp in TLP1_MARKING},
    **{TLP2_MARKING[tlp]: _tlp2_definition(tlp) for tlp in TLP2_MARKING},
}


def tlp2_marking_definition(tlp: Tlp) -> dict[str, Any]:
    """A fresh copy of the TLP 2.0 marking definition for ``tlp``, ready to ship."""
    return _tlp2_definition(tlp)


def canonical_tlp_definition(ref: str) -> dict[str, Any] | None:
    """The standard TLP 1.0 or 2.0 marking definition with this id (a fresh copy), else None."""
    found = _CANONICAL.get(ref)
    return copy.deepcopy(found) if found is not None else None


def tlp_of_ref(ref: object) -> Tlp | None:
    """The TLP level of a standard TLP 1.0 or 2.0 marking-definition id, else None."""
    return _STANDARD_TLP.get(ref) if isinstance(ref, str) else None


def is_standard_tlp(ref: object) -> bool:
    """Whether ``ref`` is one of the nine standard TLP 1.0 / 2.0 marking-definition ids."""
    return tlp_of_ref(ref) is not None


def _tlp_word(value: object) -> Tlp | None:
    return _TLP_WORDS.get(value.strip().lower()) if isinstance(value, str) else None


def tlp_of_definition(definition: Mapping[str, Any]) -> Tlp | None:
    """The TLP level a marking-definition object states, whatever its id, else None.

    Standard ids are read by id. A definition with another id that still states a TLP level
    (TLP 1.0 style ``definition_type: tlp``, STIX 2.1 section 7.2.1.4, or the TLP 2.0
    extension) is read by content: the specification forbids such objects, but reading them
    can only make an object's TLP stricter, never looser.
    """
    standard = tlp_of_ref(definition.get("id"))
    if standard is not None:
        return standard
    if definition.get("definition_type") == "tlp":
        body = definition.get("definition")
        if isinstance(body, Mapping):
            return _tlp_word(body.get("tlp")) or Tlp.RED
        return Tlp.RED
    extensions = definition.get("extensions")
    if isinstance(extensions, Mapping) and TLP2_EXTENSION_ID in extensions:
        body = extensions[TLP2_EXTENSION_ID]
        found = _tlp_word(body.get("tlp_2_0")) if isinstance(body, Mapping) else None
        return found or Tlp.RED
    return None


def highest_tlp(levels: list[Tlp]) -> Tlp | None:
    """The most restrictive of ``levels`` (FIRST TLP 2.0 order), or None when empty."""
    return max(levels, key=TLP_ORDER.__getitem__) if levels else None


# IEP 2.0 ------------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Iep:
    """What the hub reads from an IEP 2.0 marking definition.

    A field that is present but unreadable reads as the strictest value: an unknown ``tlp`` as
    RED, an unparseable ``end_date`` as the epoch (the policy has ended). ``tlp`` is None only
    when the marking states no TLP at all (IEP 2.0 makes it required).
    """

    marking_id: str
    tlp: Tlp | None
    start_date: datetime | None
    end_date: datetime | None


def _iep_date(value: object, *, unreadable: datetime | None) -> datetime | None:
    if value is None:
        return None
    micros = parse_timestamp(value)
    if micros is None:
        return unreadable
    return _EPOCH + timedelta(microseconds=micros)


def iep_of(marking_definition: Mapping[str, Any]) -> Iep | None:
    """The IEP 2.0 policy a marking definition carries (IEP 2.0 for STIX 2.1), else None."""
    if marking_definition.get("type") != "marking-definition":
        return None
    extensions = marking_definition.get("extensions")
    if not isinstance(extensions, Mapping) or IEP_EXTENSION_ID not in extensions:
        return None
    body = extensions[IEP_EXTENSION_ID]
    if not isinstance(body, Mapping):
        # An IEP extension we cannot read: the strictest policy, ended.
        return Iep(str(marking_definition.get("id", "")), Tlp.RED, None, _EPOCH)
    raw_tlp = body.get("tlp")
    tlp = None if raw_tlp is None else (_tlp_word(raw_tlp) or Tlp.RED)
    return Iep(
        marking_id=str(marking_definition.get("id", "")),
        tlp=tlp,
        start_date=_iep_date(body.get("start_date"), unreadable=None),
        end_date=_iep_date(body.get("end_date"), unreadable=_EPOCH),
    )
