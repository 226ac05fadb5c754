"""Per-type property tables for the STIX 2.1 validator: common properties (section 3.2), SDOs
(section 4), SROs (5) and meta objects (7); the SCO tables (6) are in ``validation_scos``.

Each STIX object type is a ``TypeSpec``: its kind, a ``Shape`` (property checks, required
properties, "at least one of" sets, an extra rule) and the timestamp orderings the spec
requires. The tables list only what STIX 2.1 makes a MUST: open vocabularies (section 10) are
plain strings here, closed enumerations are checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.stix.types import SCO_TYPES as STANDARD_SCO_TYPES
from exchange.stix.types import SDO_TYPES
from exchange.stix.validation_checks import (
    Check,
    Problem,
    Shape,
    boolean,
    check_shape,
    dictionary,
    enum,
    hashes,
    identifier,
    integer,
    language_tag,
    list_of,
    matching,
    number,
    segment,
    shape,
    short,
    string,
    timestamp,
    timestamp_millis,
    uri,
)

__all__ = [
    "CORE_PROPS",
    "DEFINITION_EXTENSIONS",
    "EXTENSIONS",
    "EXTERNAL_REFERENCE",
    "GRANULAR_MARKING",
    "OBJECT_TYPES",
    "SCO_CORE_PROPS",
    "SDO_TYPES",
    "STRINGS",
    "TLP_V1",
    "TypeSpec",
    "words",
]

# Objects that are not SDOs or SCOs (section 5 relationships, section 7 meta objects, bundles).
_NOT_SDO_OR_SCO = (
    "relationship",
    "sighting",
    "bundle",
    "marking-definition",
    "language-content",
    "extension-definition",
)


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """How one STIX object type is checked.

    ``order`` lists ``(later, earlier, strictly)`` timestamp pairs; ``uuid4_unless`` (SCOs)
    names the ID contributing properties without which the id MUST be a UUIDv4 (section 6).
    """

    kind: str
    shape: Shape
    order: tuple[tuple[str, str, bool], ...] = ()
    uuid4_unless: tuple[str, ...] | None = None


def words(*parts: str) -> tuple[str, ...]:
    """The whitespace-separated names of a (long) table entry."""
    return tuple("".join(parts).split())


# --- Common nested types ---------------------------------------------------------------------

_CVE_ID = matching(r"CVE-[0-9]{4}-(?:0[0-9]{3}|[1-9][0-9]{3,})", "a CVE id (CVE-YYYY-NNNN+)")
_CAPEC_ID = matching(r"CAPEC-[0-9]+", "a CAPEC id (CAPEC-N)")
_CVE_OR_CAPEC = matching(r"(?:CVE-[0-9]{4}-(?:0[0-9]{3}|[1-9][0-9]{3,}))|(?:CAPEC-[0-9]+)", "")


def _external_reference_rule(ref: Mapping[str, Any]) -> Problem | None:
    # Section 2.5: source_name is required, plus one of description, url or external_id;
    # CVE and CAPEC references MUST use source_name "cve"/"capec" with a well-formed id.
    source = ref["source_name"]
    external_id = ref.get("external_id")
    if source in ("cve", "capec"):
        if "external_id" not in ref:
            return ("invalid_external_reference", "", f"a {source} reference needs external_id")
        problem = (_CVE_ID if source == "cve" else _CAPEC_ID)(external_id)
        if problem is not None:
            return ("invalid_external_reference", ".external_id", problem[2])
        return None
    if isinstance(external_id, str) and _CVE_OR_CAPEC(external_id) is None:
        return (
            "invalid_external_reference",
            ".source_name",
            "a CVE/CAPEC external_id needs source_name 'cve'/'capec'",
        )
    if not any(name in ref for name in ("description", "url", "external_id")):
        return (
            "invalid_external_reference",
            "",
            "needs at least one of description, url, external_id",
        )
    return None


EXTERNAL_REFERENCE = shape(
    Shape(
        props={
            "source_name": string,
            "description": string,
            "url": uri,
            "hashes": hashes,
            "external_id": string,
        },
        required=("source_name",),
        rule=_external_reference_rule,
    )
)

_KILL_CHAIN_PHASES = list_of(
    shape(
        Shape(
            props={"kill_chain_name": string, "phase_name": string},
            required=("kill_chain_name", "phase_name"),
        )
    )
)

_MARKING_REF = identifier(("marking-definition",))


def _granular_marking_rule(marking: Mapping[str, Any]) -> Problem | None:
    # Section 7.2.3: exactly one of marking_ref and lang.
    if ("marking_ref" in marking) == ("lang" in marking):
        return ("invalid_marking_ref", "", "exactly one of marking_ref and lang is required")
    return None


GRANULAR_MARKING = shape(
    Shape(
        props={
            "selectors": list_of(
                matching(
                    r"[a-z0-9_-]{3,249}(?:\.(?:\[[0-9]+\]|[a-z0-9_-]{1,250}))*|id",
                    "a selector (property.path[index])",
                    "invalid_selector",
                )
            ),
            "marking_ref": _MARKING_REF,
            "lang": language_tag,
        },
        required=("selectors",),
        rule=_granular_marking_rule,
    )
)

# Extensions (sections 7.3 and 11): keys are extension-definition ids, or (predefined SCO
# extensions, and 2.0-style ones) names ending in "-ext".
_EXTENSION_TYPES = (
    "new-sdo",
    "new-sco",
    "new-sro",
    "property-extension",
    "toplevel-property-extension",
)
_EXTENSION_DEFINITION_ID = identifier(("extension-definition",))
_EXTENSION_NAME = matching(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext", "")
_EXTENSION_BODY = Shape(props={"extension_type": enum(_EXTENSION_TYPES)})


def _extensions(*, allow_named: bool) -> Check:
    def check(value: Any) -> Problem | None:
        if not isinstance(value, dict):
            return ("invalid_type", "", "must be a dictionary of extensions")
        if not value:
            return ("invalid_extension", "", "must not be an empty dictionary")
        for key, body in value.items():
            by_definition = _EXTENSION_DEFINITION_ID(key) is None
            if not by_definition and not (allow_named and _EXTENSION_NAME(key) is None):
                return (
                    "invalid_extension",
                    "",
                    f"key {short(key)} is neither an extension-definition id nor a '-ext' name",
                )
            if not isinstance(body, dict) or not body:
                return ("invalid_extension", f".{segment(key)}", "must be a non-empty object")
            if by_definition:
                if "extension_type" not in body:
                    return ("invalid_extension", f".{segment(key)}", "'extension_type' is required")
                problem = check_shape(_EXTENSION_BODY, body)
                if problem is not None:
                    return problem[0], f".{segment(key)}{problem[1]}", problem[2]
        return None

    return check


EXTENSIONS = _extensions(allow_named=True)
DEFINITION_EXTENSIONS = _extensions(allow_named=False)

# --- Common properties (section 3.2) ----------------------------------------------------------

STRINGS = list_of(string)

CORE_PROPS: Mapping[str, Check] = {
    "created": timestamp_millis,
    "modified": timestamp_millis,
    "created_by_ref": identifier(("identity",)),
    "revoked": boolean,
    "labels": STRINGS,
    "confidence": integer(0, 100),
    "lang": language_tag,
    "external_references": list_of(EXTERNAL_REFERENCE),
    "object_marking_refs": list_of(_MARKING_REF),
    "granular_markings": list_of(GRANULAR_MARKING),
    "extensions": EXTENSIONS,
}
_CORE_REQUIRED = ("created", "modified")

SCO_CORE_PROPS: Mapping[str, Check] = {
    "lang": language_tag,
    "object_marking_refs": list_of(_MARKING_REF),
    "granular_markings": list_of(GRANULAR_MARKING),
    "defanged": boolean,
    "extensions": EXTENSIONS,
}


def _core(
    kind: str,
    props: Mapping[str, Check],
    required: tuple[str, ...] = (),
    *,
    any_of: tuple[str, ...] = (),
    rule: Callable[[Mapping[str, Any]], Problem | None] | None = None,
    order: tuple[tuple[str, str, bool], ...] = (),
) -> TypeSpec:
    return TypeSpec(
        kind,
        Shape({**CORE_PROPS, **props}, _CORE_REQUIRED + required, any_of, rule=rule),
        order,
    )


# --- SDOs (section 4) -------------------------------------------------------------------------

_SEEN = (("last_seen", "first_seen", False),)
_REFS = list_of(identifier())
_SOFTWARE = identifier(("software",))
_DESCRIBED = {"name": string, "description": string}


def _location_rule(loc: Mapping[str, Any]) -> Problem | None:
    # Section 4.10: region, country or latitude+longitude; latitude and longitude together;
    # precision only with them.
    has_lat, has_lon = "latitude" in loc, "longitude" in loc
    if has_lat != has_lon:
        return ("missing_property", "", "latitude and longitude must be given together")
    if "precision" in loc and not has_lat:
        return ("missing_property", "", "precision requires latitude and longitude")
    if not has_lat and "region" not in loc and "country" not in loc:
        return ("missing_property", "", "one of region, country or latitude+longitude needed")
    return None


def _malware_rule(malware: Mapping[str, Any]) -> Problem | None:
    # Section 4.11: a malware family MUST have a name.
    if malware.get("is_family") is True and "name" not in malware:
        return ("missing_property", "", "'name' is required when is_family is true")
    return None


def _observed_data_rule(observed: Mapping[str, Any]) -> Problem | None:
    # Section 4.14: exactly one of objects (deprecated) and object_refs.
    if ("objects" in observed) == ("object_refs" in observed):
        return ("missing_property", "", "exactly one of objects and object_refs is required")
    return None


def _not_sdo_ref(value: Any) -> Problem | None:
    problem = _ANY_REF(value)
    if problem is not None:
        return problem
    if value.partition("--")[0] in SDO_TYPES:
        return ("invalid_reference", "", "must refer to an SCO or SRO, not an SDO")
    return None


_ANY_REF = identifier()

_SDOS: dict[str, TypeSpec] = {
    "attack-pattern": _core(
        "sdo",
        {**_DESCRIBED, "aliases": STRINGS, "kill_chain_phases": _KILL_CHAIN_PHASES},
        ("name",),
    ),
    "campaign": _core(
        "sdo",
        {
            **_DESCRIBED,
            "aliases": STRINGS,
            "first_seen": timestamp,
            "last_seen": timestamp,
            "objective": string,
        },
        ("name",),
        order=_SEEN,
    ),
    "course-of-action": _core("sdo", _DESCRIBED, ("name",)),
    "grouping": _core(
        "sdo", {**_DESCRIBED, "context": string, "object_refs": _REFS}, ("context", "object_refs")
    ),
    "identity": _core(
        "sdo",
        {
            **_DESCRIBED,
            "roles": STRINGS,
            "identity_class": string,
            "sectors": STRINGS,
            "contact_information": string,
        },
        ("name",),
    ),
    "incident": _core("sdo", {**_DESCRIBED, "kill_chain_phases": _KILL_CHAIN_PHASES}, ("name",)),
    "indicator": _core(
        "sdo",
        {
            **_DESCRIBED,
            "indicator_types": STRINGS,
            "pattern": string,
            "pattern_type": string,
            "pattern_version": string,
            "valid_from": timestamp,
            "valid_until": timestamp,
            "kill_chain_phases": _KILL_CHAIN_PHASES,
        },
        ("pattern", "pattern_type", "valid_from"),
        order=(("valid_until", "valid_from", True),),
    ),
    "infrastructure": _core(
        "sdo",
        {
            **_DESCRIBED,
            "infrastructure_types": STRINGS,
            "aliases": STRINGS,
            "kill_chain_phases": _KILL_CHAIN_PHASES,
            "first_seen": timestamp,
            "last_seen": timestamp,
        },
        ("name",),
        order=_SEEN,
    ),
    "intrusion-set": _core(
        "sdo",
        {
            **_DESCRIBED,
            "aliases": STRINGS,
            "first_seen": timestamp,
            "last_seen": timestamp,
            "goals": STRINGS,
            "resource_level": string,
            "primary_motivation": string,
            "secondary_motivations": STRINGS,
        },
        ("name",),
        order=_SEEN,
    ),
    "location": _core(
        "sdo",
        {
            **_DESCRIBED,
            "latitude": number(-90, 90),
            "longitude": number(-180, 180),
            "precision": number(),
            "region": string,
            "country": string,
            "administrative_area": string,
            "city": string,
            "street_address": string,
            "postal_code": string,
        },
        rule=_location_rule,
    ),
    "malware": _core(
        "sdo",
        {
            **_DESCRIBED,
            "malware_types": STRINGS,
            "is_family": boolean,
            "aliases": STRINGS,
            "kill_chain_phases": _KILL_CHAIN_PHASES,
            "first_seen": timestamp,
            "last_seen": timestamp,
            "operating_system_refs": list_of(_SOFTWARE),
            "architecture_execution_envs": STRINGS,
            "implementation_languages": STRINGS,
            "capabilities": STRINGS,
            "sample_refs": list_of(identifier(("file", "artifact"))),
        },
        ("is_family",),
        rule=_malware_rule,
        order=_SEEN,
    ),
    "malware-analysis": _core(
        "sdo",
        {
            "product": string,
            "version": string,
            "host_vm_ref": _SOFTWARE,
            "operating_system_ref": _SOFTWARE,
            "installed_software_refs": list_of(_SOFTWARE),
            "configuration_version": string,
            "modules": STRINGS,
            "analysis_engine_version": string,
            "analysis_definition_version": string,
            "submitted": timestamp,
            "analysis_started": timestamp,
            "analysis_ended": timestamp,
            "result_name": string,
            "result": string,
            "analysis_sco_refs": _REFS,
            "sample_ref": identifier(("file", "network-traffic", "artifact")),
        },
        ("product",),
        any_of=("result", "analysis_sco_refs"),
    ),
    "note": _core(
        "sdo",
        {"abstract": string, "content": string, "authors": STRINGS, "object_refs": _REFS},
        ("content", "object_refs"),
    ),
    "observed-data": _core(
        "sdo",
        {
            "first_observed": timestamp,
            "last_observed": timestamp,
            "number_observed": integer(1, 999_999_999),
            "object_refs": list_of(_not_sdo_ref),
            # `objects` (deprecated) is checked object by object in validation.py
        },
        ("first_observed", "last_observed", "number_observed"),
        rule=_observed_data_rule,
        order=(("last_observed", "first_observed", False),),
    ),
    "opinion": _core(
        "sdo",
        {
            "explanation": string,
            "authors": STRINGS,
            "opinion": enum(
                ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")
            ),
            "object_refs": _REFS,
        },
        ("opinion", "object_refs"),
    ),
    "report": _core(
        "sdo",
        {**_DESCRIBED, "report_types": STRINGS, "published": timestamp, "object_refs": _REFS},
        ("name", "published", "object_refs"),
    ),
    "threat-actor": _core(
        "sdo",
        {
            **_DESCRIBED,
            "threat_actor_types": STRINGS,
            "aliases": STRINGS,
            "first_seen": timestamp,
            "last_seen": timestamp,
            "roles": STRINGS,
            "goals": STRINGS,
            "sophistication": string,
            "resource_level": string,
            "primary_motivation": string,
            "secondary_motivations": STRINGS,
            "personal_motivations": STRINGS,
        },
        ("name",),
        order=_SEEN,
    ),
    "tool": _core(
        "sdo",
        {
            **_DESCRIBED,
            "tool_types": STRINGS,
            "aliases": STRINGS,
            "kill_chain_phases": _KILL_CHAIN_PHASES,
            "tool_version": string,
        },
        ("name",),
    ),
    "vulnerability": _core("sdo", _DESCRIBED, ("name",)),
}

# --- SROs (section 5) and meta objects (section 7) --------------------------------------------

_RELATED = identifier(forbidden=_NOT_SDO_OR_SCO, what="an SDO or SCO")

_SROS_AND_META: dict[str, TypeSpec] = {
    "relationship": _core(
        "sro",
        {
            "relationship_type": matching(r"[a-z0-9-]+", "lowercase letters, digits and '-'"),
            "description": string,
            "source_ref": _RELATED,
            "target_ref": _RELATED,
            "start_time": timestamp,
            "stop_time": timestamp,
        },
        ("relationship_type", "source_ref", "target_ref"),
        order=(("stop_time", "start_time", True),),
    ),
    "sighting": _core(
        "sro",
        {
            "description": string,
            "first_seen": timestamp,
            "last_seen": timestamp,
            "count": integer(0, 999_999_999),
            "sighting_of_ref": identifier(
                forbidden=_NOT_SDO_OR_SCO + tuple(STANDARD_SCO_TYPES), what="an SDO"
            ),
            "observed_data_refs": list_of(identifier(("observed-data",))),
            "where_sighted_refs": list_of(identifier(("identity", "location"))),
            "summary": boolean,
        },
        ("sighting_of_ref",),
        order=_SEEN,
    ),
    "language-content": _core(
        "meta",
        {
            "object_ref": identifier(
                forbidden=("bundle", "language-content"), what="an object with text"
            ),
            "object_modified": timestamp,
            "contents": dictionary(),  # keys and sub-keys checked in validation.py
        },
        ("object_ref", "contents"),
    ),
    "extension-definition": _core(
        "meta",
        {
            **_DESCRIBED,
            "schema": string,
            "version": string,
            "extension_types": list_of(enum(_EXTENSION_TYPES)),
            "extension_properties": STRINGS,
        },
        ("name", "schema", "version", "extension_types"),
        rule=lambda definition: (
            (
                "invalid_value",
                ".extension_properties",
                "only allowed with a toplevel-property-extension",
            )
            if "extension_properties" in definition
            and "toplevel-property-extension" not in (definition.get("extension_types") or ())
            else None
        ),
    ),
}

# --- TLP 1.0 marking definitions (section 7.2.1) -----------------------------------------------

TLP_V1: Mapping[str, str] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

OBJECT_TYPES: Mapping[str, TypeSpec] = {**_SDOS, **_SROS_AND_META}
