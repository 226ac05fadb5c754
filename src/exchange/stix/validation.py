"""Fast STIX 2.1 validation for the hot path: the first MUST-level problem of one object.

``validate_object`` runs after ``check_object`` (``exchange.stix.objects``) has accepted the
object's structure (type, id, spec_version, created/modified) and checks the rest of what STIX
2.1 makes a MUST: property names and values (section 3.1), common properties (3.2), the
properties of every SDO (section 4), SRO (5), SCO (6) and meta object (7) type, references and
the types they may point at, closed enumerations, extensions (7.3, 11), data markings (7.2),
external references (2.5), hashes (2.7) and indicator patterns (section 9, see ``patterns``).
Open vocabularies (section 10) are never enforced: they are SHOULDs.

The per-type rules are data (``validation_types``, ``validation_scos``); this module is the
engine plus the rules that need the whole object. Validation never raises, whatever JSON it
is handed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange.stix.patterns import check_indicator_pattern
from exchange.stix.validation_checks import (
    Problem,
    Shape,
    binary,
    check_shape,
    hex_string,
    identifier,
    is_language_tag,
    is_timestamp,
    language_tag,
    list_of,
    segment,
    shape,
    short,
    string,
    timestamp,
    timestamp_key,
)
from exchange.stix.validation_scos import EMBEDDED_SCO_REFS, EMBEDDED_SCO_TYPES, SCO_TYPES
from exchange.stix.validation_types import (
    CORE_PROPS,
    DEFINITION_EXTENSIONS,
    EXTERNAL_REFERENCE,
    GRANULAR_MARKING,
    OBJECT_TYPES,
    SCO_CORE_PROPS,
    TLP_V1,
    TypeSpec,
)

__all__ = ["Invalid", "validate_object"]


@dataclass(frozen=True, slots=True)
class Invalid:
    """The first MUST-level problem found in an object: a reason code and a message."""

    code: str
    message: str


# Section 3.1: property names are ASCII lowercase letters, digits and underscore, 3 to 250
# characters, starting with a letter (`id` is the one shorter name the spec defines).
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{2,249}")
# Names STIX 2.1 reserves for future use: they MUST NOT be used as properties.
_RESERVED_PROPERTIES = frozenset({"severity", "action", "username", "phone_numbers"})
_RESERVED_TYPES = frozenset({"action"})
_BINARY_NAME = re.compile(r"[a-z][a-z0-9_]{0,245}_bin")
_HEX_NAME = re.compile(r"[a-z][a-z0-9_]{0,245}_hex")
# Section 2.9: the UUID of an identifier is an RFC 4122 UUID (version 1-5, variant 10xx).
# (check_object further insists on lowercase hex, which TAXII id matching needs.)
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)
_CONTENT_KEY = re.compile(r"[a-z0-9_]{3,250}")
_ALWAYS_KNOWN = frozenset({"type", "id", "spec_version"})

# Every STIX 2.1 type but marking-definition (checked by _marking_definition).
TYPES: Mapping[str, TypeSpec] = {**OBJECT_TYPES, **SCO_TYPES}
_CUSTOM_CORE = TypeSpec("custom", Shape(CORE_PROPS, ("created", "modified")))
_CUSTOM_SCO = TypeSpec("custom", Shape(SCO_CORE_PROPS))

_MARKING_DEFINITION = Shape(
    props={
        "created": timestamp,
        "created_by_ref": identifier(("identity",)),
        "name": string,
        "lang": language_tag,
        "external_references": list_of(EXTERNAL_REFERENCE),
        "object_marking_refs": list_of(identifier(("marking-definition",))),
        "granular_markings": list_of(GRANULAR_MARKING),
        "extensions": DEFINITION_EXTENSIONS,
        "definition_type": string,
        "definition": shape(Shape()),
    },
    required=("created",),
)
_TLP_PROPERTIES = frozenset(
    {"type", "id", "spec_version", "name", "created", "definition", "definition_type"}
)
_STATEMENT = Shape(props={"statement": string}, required=("statement",))


def _invalid(problem: Problem, name: str = "") -> Invalid:
    code, where, what = problem
    place = f"{segment(name)}{where}" if name else where.lstrip(".")
    return Invalid(code, f"{place}: {what}" if place else what)


def validate_object(obj: Mapping[str, Any]) -> Invalid | None:
    """The first MUST-level STIX 2.1 problem of one object, or None when there is none."""
    try:
        return _validate(obj)
    except Exception:  # a defect here must not take the ingest path down with it
        return Invalid("internal_error", "the object could not be validated")


def _validate(obj: Mapping[str, Any]) -> Invalid | None:
    if not isinstance(obj, Mapping):
        return Invalid("invalid_type", "a STIX object must be a JSON object")
    stix_type = obj.get("type")
    if not isinstance(stix_type, str):
        return Invalid("missing_property", "type: 'type' is required")
    if stix_type == "bundle":
        return Invalid("invalid_type", "type: a bundle is a container, not a STIX object")
    if stix_type in _RESERVED_TYPES or not stix_type[:1].isalpha():
        return Invalid("invalid_type", f"type: {short(stix_type)} is reserved or not a name")
    problem = _check_id(obj, stix_type)
    if problem is not None:
        return problem
    if stix_type == "marking-definition":
        return _marking_definition(obj)

    spec = TYPES.get(stix_type)
    if spec is None:
        spec = _CUSTOM_CORE if "created" in obj or "modified" in obj else _CUSTOM_SCO
    return _check_properties(obj, spec) or _check_rules(obj, stix_type, spec)


def _check_id(obj: Mapping[str, Any], stix_type: str) -> Invalid | None:
    stix_id = obj.get("id")
    if not isinstance(stix_id, str):
        return Invalid("missing_property", "id: 'id' is required")
    prefix, _, uuid = stix_id.partition("--")
    if prefix != stix_type or _UUID.fullmatch(uuid) is None:
        return Invalid("invalid_identifier", f"id: {short(stix_id)} is not {stix_type}--<UUID>")
    return None


def _check_properties(obj: Mapping[str, Any], spec: TypeSpec) -> Invalid | None:
    props = spec.shape.props
    for name, value in obj.items():
        if name not in props and name not in _ALWAYS_KNOWN:
            if not isinstance(name, str) or (
                name != "id" and _PROPERTY_NAME.fullmatch(name) is None
            ):
                return Invalid(
                    "custom_property_name",
                    f"{short(name)}: property names are 3-250 of [a-z0-9_], starting a-z",
                )
            if name in _RESERVED_PROPERTIES:
                return Invalid("reserved_property", f"{name}: this property name is reserved")
        # Section 3.1: no property is null, no list is empty.
        if value is None:
            return Invalid("invalid_value", f"{segment(name)}: must not be null")
        if isinstance(value, list) and not value:
            return Invalid("empty_list", f"{segment(name)}: must not be an empty list")
        if name[-4:] == "_bin" and _BINARY_NAME.fullmatch(name):
            problem = binary(value)
            if problem is not None:
                return _invalid(problem, name)
        elif name[-4:] == "_hex" and _HEX_NAME.fullmatch(name):
            problem = hex_string(value)
            if problem is not None:
                return _invalid(problem, name)
    problem = check_shape(spec.shape, obj)
    return None if problem is None else _invalid(problem)


def _check_rules(obj: Mapping[str, Any], stix_type: str, spec: TypeSpec) -> Invalid | None:
    for later, earlier, strictly in spec.order:
        late, early = obj.get(later), obj.get(earlier)
        if late is not None and early is not None and is_timestamp(late) and is_timestamp(early):
            late_key, early_key = timestamp_key(late), timestamp_key(early)
            if late_key < early_key or (strictly and late_key == early_key):
                relation = "later than" if strictly else "later than or equal to"
                return Invalid("timestamp_order", f"{later}: must be {relation} {earlier}")
    # Section 6: without ID contributing properties an SCO id MUST be a UUIDv4 (a process id
    # always).
    if (
        spec.uuid4_unless is not None
        and not any(name in obj for name in spec.uuid4_unless)
        and obj["id"][-22] != "4"
    ):
        return Invalid("invalid_identifier", "id: must be a UUIDv4 for this object")
    if stix_type == "indicator" and obj.get("pattern_type") == "stix":
        pattern = obj.get("pattern")
        if isinstance(pattern, str):
            pattern_problem = check_indicator_pattern(pattern)
            if pattern_problem is not None:
                return Invalid("invalid_pattern", f"pattern: {pattern_problem}")
    elif stix_type == "observed-data" and "objects" in obj:
        problem = _embedded_objects(obj["objects"])
        if problem is not None:
            return problem
    elif stix_type == "language-content":
        problem = _language_contents(obj["contents"])
        if problem is not None:
            return problem
    if "granular_markings" in obj:
        return _granular_selectors(obj)
    return None


def _granular_selectors(obj: Mapping[str, Any]) -> Invalid | None:
    # Section 7.2.3: every selector MUST select a property (or list item) of this object.
    for number, marking in enumerate(obj["granular_markings"]):
        for selector in marking["selectors"]:
            target: Any = obj
            for step in selector.split("."):
                if step[:1] == "[":
                    index = int(step[1:-1])
                    if not isinstance(target, list) or index >= len(target):
                        break
                    target = target[index]
                elif isinstance(target, Mapping) and step in target:
                    target = target[step]
                else:
                    break
            else:
                continue
            return Invalid(
                "invalid_selector",
                f"granular_markings[{number}].selectors: {short(selector)} selects nothing",
            )
    return None


def _language_contents(contents: Mapping[str, Any]) -> Invalid | None:
    # Section 7.1: contents keys are RFC 5646 language codes; each value maps property names
    # of the referenced object to translations.
    for language, translations in contents.items():
        if not is_language_tag(language):
            return Invalid(
                "invalid_language", f"contents: {short(language)} is not a language code"
            )
        if not isinstance(translations, Mapping):
            return Invalid("invalid_type", f"contents.{segment(language)}: must be an object")
        for name in translations:
            if not isinstance(name, str) or _CONTENT_KEY.fullmatch(name) is None:
                return Invalid(
                    "custom_property_name",
                    f"contents.{segment(language)}: {short(name)} is not a property name",
                )
    return None


def _embedded_objects(objects: Any) -> Invalid | None:
    # Section 4.14 (deprecated `objects`): a dictionary of SCOs that reference each other by
    # their keys in it.
    if not isinstance(objects, Mapping) or not objects:
        return Invalid("invalid_type", "objects: must be a non-empty dictionary of SCOs")
    for key, sco in objects.items():
        where = f"objects.{segment(key)}"
        if not isinstance(sco, Mapping):
            return Invalid("invalid_type", f"{where}: must be an object")
        sco_type = sco.get("type")
        if not isinstance(sco_type, str):
            return Invalid("missing_property", f"{where}: 'type' is required")
        spec = EMBEDDED_SCO_TYPES.get(sco_type, _CUSTOM_SCO)
        if "id" in sco and identifier((sco_type,))(sco["id"]) is not None:
            return Invalid("invalid_identifier", f"{where}.id: not a {sco_type} identifier")
        problem = _check_properties(sco, spec)
        if problem is not None:
            return Invalid(problem.code, f"{where}.{problem.message}")
        for name, allowed in EMBEDDED_SCO_REFS.get(sco_type, {}).items():
            value = sco.get(name)
            for ref in value if isinstance(value, list) else () if value is None else (value,):
                target = objects.get(ref) if isinstance(ref, str) else None
                if not isinstance(target, Mapping) or target.get("type") not in allowed:
                    return Invalid(
                        "invalid_reference",
                        f"{where}.{name}: {short(ref)} is not the key of a "
                        f"{' or '.join(sorted(allowed))[:60]} in objects",
                    )
    return None


def _marking_definition(obj: Mapping[str, Any]) -> Invalid | None:
    # Section 7.2.1: marking definitions have their own common properties (no `modified`) and
    # carry either a definition (statement, TLP 1.0) or an extension (e.g. TLP 2.0).
    problem = check_shape(_MARKING_DEFINITION, obj)
    if problem is not None:
        return _invalid(problem)
    for name, value in obj.items():
        if value is None or (isinstance(value, list) and not value):
            return Invalid("invalid_value", f"{segment(name)}: must not be null or empty")
    stix_id = obj["id"]
    definition_type = obj.get("definition_type")
    if definition_type == "tlp" or stix_id in TLP_V1:
        colour = TLP_V1.get(stix_id)
        if (
            colour is None
            or definition_type != "tlp"
            or obj.get("name") != f"TLP:{colour.upper()}"
            or obj.get("definition") != {"tlp": colour}
            or obj.get("created") != "2017-01-20T00:00:00.000Z"
            or not _TLP_PROPERTIES.issuperset(obj)
        ):
            return Invalid(
                "invalid_marking_definition",
                "TLP 1.0 markings must be exactly one of the four STIX 2.1 defines (7.2.1)",
            )
    elif definition_type == "statement":
        definition = obj.get("definition")
        if not isinstance(definition, Mapping):
            return Invalid("missing_property", "definition: a statement definition is required")
        problem = check_shape(_STATEMENT, definition)
        if problem is not None:
            return _invalid(problem, "definition")
    if "extensions" not in obj and not ("definition" in obj and "definition_type" in obj):
        return Invalid(
            "missing_property",
            "definition: definition_type and definition are required without an extension",
        )
    if stix_id in obj.get("object_marking_refs", ()) or any(
        isinstance(marking, Mapping) and marking.get("marking_ref") == stix_id
        for marking in obj.get("granular_markings", ())
    ):
        return Invalid("invalid_marking_ref", "a marking definition must not mark itself")
    if "granular_markings" in obj:
        return _granular_selectors(obj)
    return None
