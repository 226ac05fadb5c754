"""Pure object transforms the clauses use: victim redaction and partner anonymisation.

Every function returns a new dict and never changes its argument. The tables below are the
STIX 2.1 property sets (sections 3.2, 4, 5, 6, 7); anything not in them is a custom property
(section 11.1) and, for an anonymous partner, is removed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from exchange.agreements.facts import EnvelopeFacts
from exchange.agreements.markings import IEP_EXTENSION_ID, canonical_tlp_definition, iep_of
from exchange.agreements.markings import is_standard_tlp as _is_standard_tlp

__all__ = [
    "ANONYMOUS_IEP_DESCRIPTION",
    "ANONYMOUS_IEP_NAME",
    "PUBLIC_REFERENCE_SOURCES",
    "REDACTED_INCIDENT_NAME",
    "REDACTED_VICTIM_NAME",
    "REDACTION_KEEPS",
    "STANDARD_PROPERTIES",
    "anonymise",
    "anonymise_marking_definition",
    "is_kept_marking",
    "leaked_ids",
    "prune_granular_markings",
    "redact_victim",
    "replace_refs",
]


# --- STIX 2.1 property tables --------------------------------------------------------------
def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Section 3.2: common properties of SDOs and SROs; section 6.1: of SCOs.
_SDO_COMMON = _names(
    "type spec_version id created_by_ref created modified revoked labels confidence lang "
    "external_references object_marking_refs granular_markings extensions"
)
_SCO_COMMON = _names(
    "type spec_version id object_marking_refs granular_markings defanged extensions"
)
_SDO_SPECIFIC: dict[str, frozenset[str]] = {
    # Section 4 (SDOs).
    "attack-pattern": _names("name description aliases kill_chain_phases"),
    "campaign": _names("name description aliases first_seen last_seen objective"),
    "course-of-action": _names("name description"),
    "grouping": _names("name description context object_refs"),
    "identity": _names("name description roles identity_class sectors contact_information"),
    "incident": _names("name description kill_chain_phases"),
    "indicator": _names(
        "name description indicator_types pattern pattern_type pattern_version valid_from "
        "valid_until kill_chain_phases"
    ),
    "infrastructure": _names(
        "name description infrastructure_types aliases kill_chain_phases first_seen last_seen"
    ),
    "intrusion-set": _names(
        "name description aliases first_seen last_seen goals resource_level primary_motivation "
        "secondary_motivations"
    ),
    "location": _names(
        "name description latitude longitude precision region country administrative_area city "
        "street_address postal_code"
    ),
    "malware": _names(
        "name description malware_types is_family aliases kill_chain_phases first_seen "
        "last_seen operating_system_refs architecture_execution_envs implementation_languages "
        "capabilities sample_refs"
    ),
    "malware-analysis": _names(
        "product version host_vm_ref operating_system_ref installed_software_refs "
        "configuration_version modules analysis_engine_version analysis_definition_version "
        "submitted analysis_started analysis_ended result_name result analysis_sco_refs "
        "sample_ref"
    ),
    "note": _names("abstract content authors object_refs"),
    "observed-data": _names("first_observed last_observed number_observed objects object_refs"),
    "opinion": _names("explanation authors opinion object_refs"),
    "report": _names("name description report_types published object_refs"),
    "threat-actor": _names(
        "name description threat_actor_types aliases first_seen last_seen roles goals "
        "sophistication resource_level primary_motivation secondary_motivations "
        "personal_motivations"
    ),
    "tool": _names("name description tool_types aliases kill_chain_phases tool_version"),
    "vulnerability": _names("name description"),
    # Section 5 (SROs).
    "relationship": _names(
        "relationship_type description source_ref target_ref start_time stop_time"
    ),
    "sighting": _names(
        "description first_seen last_seen count sighting_of_ref observed_data_refs "
        "where_sighted_refs summary"
    ),
}
_SCO_SPECIFIC: dict[str, frozenset[str]] = {
    # Section 6 (SCOs).
    "artifact": _names("mime_type payload_bin url hashes encryption_algorithm decryption_key"),
    "autonomous-system": _names("number name rir"),
    "directory": _names("path path_enc ctime mtime atime contains_refs"),
    "domain-name": _names("value resolves_to_refs"),
    "email-addr": _names("value display_name belongs_to_ref"),
    "email-message": _names(
        "is_multipart date content_type from_ref sender_ref to_refs cc_refs bcc_refs message_id "
        "subject received_lines additional_header_fields body body_multipart raw_email_ref"
    ),
    "file": _names(
        "hashes size name name_enc magic_number_hex mime_type ctime mtime atime "
        "parent_directory_ref contains_refs content_ref"
    ),
    "ipv4-addr": _names("value resolves_to_refs belongs_to_refs"),
    "ipv6-addr": _names("value resolves_to_refs belongs_to_refs"),
    "mac-addr": _names("value"),
    "mutex": _names("name"),
    "network-traffic": _names(
        "start end is_active src_ref dst_ref src_port dst_port protocols src_byte_count "
        "dst_byte_count src_packets dst_packets ipfix src_payload_ref dst_payload_ref "
        "encapsulates_refs encapsulated_by_ref"
    ),
    "process": _names(
        "is_hidden pid created_time cwd command_line environment_variables "
        "opened_connection_refs creator_user_ref image_ref parent_ref child_refs"
    ),
    "software": _names("name cpe swid languages vendor version"),
    "url": _names("value"),
    "user-account": _names(
        "user_id credential account_login account_type display_name is_service_account "
        "is_privileged can_escalate_privs is_disabled account_created account_expires "
        "credential_last_changed account_first_login account_last_login"
    ),
    "windows-registry-key": _names("key values modified_time creator_user_ref number_of_subkeys"),
    "x509-certificate": _names(
        "is_self_signed hashes version serial_number signature_algorithm issuer "
        "validity_not_before validity_not_after subject subject_public_key_algorithm "
        "subject_public_key_modulus subject_public_key_exponent x509_v3_extensions"
    ),
}
# Section 7 (SMOs): each has its own set of common properties.
_SMO: dict[str, frozenset[str]] = {
    "marking-definition": _names(
        "type spec_version id created_by_ref created external_references object_marking_refs "
        "granular_markings definition_type definition name extensions"
    ),
    "language-content": (_SDO_COMMON - {"lang"}) | _names("object_ref object_modified contents"),
    "extension-definition": (_SDO_COMMON - {"lang", "extensions", "confidence"})
    | _names("name description schema version extension_types extension_properties"),
}

STANDARD_PROPERTIES: Mapping[str, frozenset[str]] = {
    **{name: _SDO_COMMON | specific for name, specific in _SDO_SPECIFIC.items()},
    **{name: _SCO_COMMON | specific for name, specific in _SCO_SPECIFIC.items()},
    **_SMO,
}
"""STIX 2.1 type → the property names the specification defines for it."""

# Section 6: the predefined SCO extensions, by the type they extend, and their properties.
_PREDEFINED_EXTENSIONS: dict[str, dict[str, frozenset[str]]] = {
    "file": {
        "archive-ext": _names("contains_refs comment"),
        "ntfs-ext": _names("sid alternate_data_streams"),
        "pdf-ext": _names("version is_optimized document_info_dict pdfid0 pdfid1"),
        "raster-image-ext": _names("image_height image_width bits_per_pixel exif_tags"),
        "windows-pebinary-ext": _names(
            "pe_type imphash machine_hex number_of_sections time_date_stamp "
            "pointer_to_symbol_table_hex number_of_symbols size_of_optional_header "
            "characteristics_hex file_header_hashes optional_header sections"
        ),
    },
    "network-traffic": {
        "http-request-ext": _names(
            "request_method request_value request_version request_header message_body_length "
            "message_body_data_ref"
        ),
        "icmp-ext": _names("icmp_type_hex icmp_code_hex"),
        "socket-ext": _names(
            "address_family is_blocking is_listening options socket_type socket_descriptor "
            "socket_handle"
        ),
        "tcp-ext": _names("src_flags_hex dst_flags_hex"),
    },
    "process": {
        "windows-process-ext": _names(
            "aslr_enabled dep_enabled priority owner_sid window_title startup_info integrity_level"
        ),
        "windows-service-ext": _names(
            "service_name descriptions display_name group_name start_type service_dll_refs "
            "service_type service_status"
        ),
    },
    "user-account": {"unix-account-ext": _names("gid groups home_dir shell")},
}
# Nested STIX 2.1 types whose keys are fixed: kill-chain-phase (2.8), external-reference (2.5),
# granular-marking (7.2.3).
_KILL_CHAIN_PHASE = frozenset({"kill_chain_name", "phase_name"})
_GRANULAR_MARKING = frozenset({"lang", "marking_ref", "selectors"})

# External references that name a public catalogue entry and nothing about the partner. Only
# `source_name` and a well-formed `external_id` are kept: a `url` or `description` could carry
# anything.
PUBLIC_REFERENCE_SOURCES: Mapping[str, re.Pattern[str]] = {
    "cve": re.compile(r"CVE-\d{4}-\d{4,}"),
    "capec": re.compile(r"CAPEC-\d{1,6}"),
    "cwe": re.compile(r"CWE-\d{1,6}"),
    "mitre-attack": re.compile(r"[A-Z]{1,2}\d{4}(?:\.\d{3})?"),
    "mitre-ics-attack": re.compile(r"[A-Z]{1,2}\d{4}(?:\.\d{3})?"),
    "mitre-mobile-attack": re.compile(r"[A-Z]{1,2}\d{4}(?:\.\d{3})?"),
}

# --- Victim redaction ----------------------------------------------------------------------
REDACTED_VICTIM_NAME = "Redacted victim"
REDACTED_INCIDENT_NAME = "Redacted incident"
_REDACTION_COMMON = frozenset(
    {
        "type",
        "spec_version",
        "id",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "confidence",
        "lang",
        "object_marking_refs",
        "granular_markings",
    }
)
REDACTION_KEEPS: Mapping[str, frozenset[str]] = {
    "identity": _REDACTION_COMMON | {"identity_class", "sectors"},
    "incident": _REDACTION_COMMON | {"kill_chain_phases"},
    "location": _REDACTION_COMMON | {"country", "region"},
    "relationship": _REDACTION_COMMON
    | {"relationship_type", "source_ref", "target_ref", "start_time", "stop_time"},
    "sighting": _REDACTION_COMMON
    | {
        "sighting_of_ref",
        "observed_data_refs",
        "where_sighted_refs",
        "first_seen",
        "last_seen",
        "count",
        "summary",
    },
}
"""Victim-object type → the properties redaction keeps (granular markings only where their
selectors still point at a kept property). Identities and incidents also get a fixed name."""
_REDACTED_NAMES = {"identity": REDACTED_VICTIM_NAME, "incident": REDACTED_INCIDENT_NAME}


def _selector_root(selector: str) -> str:
    return re.split(r"[.\[]", selector, maxsplit=1)[0]


def prune_granular_markings(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A copy whose granular markings select only properties still present (STIX 2.1 7.2.3.1).

    A marking left with no selector is dropped, and so is an empty ``granular_markings``.
    """
    result = dict(obj)
    markings = result.get("granular_markings")
    if not isinstance(markings, list):
        return result
    kept: list[Any] = []
    for marking in markings:
        if not isinstance(marking, Mapping):
            continue
        selectors = marking.get("selectors")
        if not isinstance(selectors, list):
            continue
        live = [s for s in selectors if isinstance(s, str) and _selector_root(s) in result]
        if live:
            kept.append({**marking, "selectors": live})
    if kept:
        result["granular_markings"] = kept
    else:
        result.pop("granular_markings", None)
    return result


def redact_victim(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The victim object reduced to ``REDACTION_KEEPS``, or None when it cannot be made safe.

    None for a type without a rule, and for a location left with neither ``country`` nor
    ``region`` (STIX 2.1 section 4.9 needs one of them, or coordinates, which are removed).
    """
    keeps = REDACTION_KEEPS.get(str(obj.get("type")))
    if keeps is None:
        return None
    result = {key: value for key, value in obj.items() if key in keeps}
    name = _REDACTED_NAMES.get(str(obj.get("type")))
    if name is not None:
        result["name"] = name
    if result["type"] == "location" and "country" not in result and "region" not in result:
        return None
    return prune_granular_markings(result)


# --- Attribution ---------------------------------------------------------------------------
def replace_refs(value: Any, producers: frozenset[str], replacement: str) -> Any:
    """A copy of ``value`` with every string equal to a producer id replaced (lists deduped)."""
    if isinstance(value, str):
        return replacement if value in producers else value
    if isinstance(value, Mapping):
        return {key: replace_refs(item, producers, replacement) for key, item in value.items()}
    if isinstance(value, list):
        items = [replace_refs(item, producers, replacement) for item in value]
        if any(isinstance(item, str) and item == replacement for item in items):
            deduped: list[Any] = []
            for item in items:
                if not (isinstance(item, str) and item == replacement and item in deduped):
                    deduped.append(item)
            return deduped
        return items
    return value


def is_kept_marking(ref: object, facts: EnvelopeFacts) -> bool:
    """Whether an anonymous object keeps a marking ref: standard TLP, or IEP in the envelope."""
    if _is_standard_tlp(ref):
        return True
    definition = facts.marking_definitions.get(ref) if isinstance(ref, str) else None
    return definition is not None and iep_of(definition) is not None


def _drop_custom_keys(value: Any) -> Any:
    # Custom properties nested in standard ones (STIX 2.1 section 11.1: names start with x_).
    if isinstance(value, Mapping):
        return {
            key: _drop_custom_keys(item)
            for key, item in value.items()
            if not (isinstance(key, str) and key.startswith("x_"))
        }
    if isinstance(value, list):
        return [_drop_custom_keys(item) for item in value]
    return value


def _public_references(refs: object) -> list[dict[str, str]]:
    kept: list[dict[str, str]] = []
    if not isinstance(refs, list):
        return kept
    for ref in refs:
        if not isinstance(ref, Mapping):
            continue
        source, external_id = ref.get("source_name"), ref.get("external_id")
        pattern = PUBLIC_REFERENCE_SOURCES.get(source) if isinstance(source, str) else None
        if pattern is not None and isinstance(external_id, str) and pattern.fullmatch(external_id):
            kept.append({"source_name": str(source), "external_id": external_id})
    return kept


def _only(keys: frozenset[str]) -> Callable[[object], list[dict[str, Any]]]:
    def keep(items: object) -> list[dict[str, Any]]:
        if not isinstance(items, list):
            return []
        return [
            {key: value for key, value in item.items() if key in keys}
            for item in items
            if isinstance(item, Mapping)
        ]

    return keep


def _predefined_extensions(stix_type: str, extensions: object) -> dict[str, Any]:
    allowed = _PREDEFINED_EXTENSIONS.get(stix_type, {})
    kept: dict[str, Any] = {}
    if not isinstance(extensions, Mapping):
        return kept
    for name, body in extensions.items():
        # Extension-definition ids (STIX 2.1 7.3) and any other non-predefined key are dropped.
        properties = allowed.get(name)
        if properties is not None and isinstance(body, Mapping):
            kept[name] = {key: value for key, value in body.items() if key in properties}
    return kept


_EMPTIABLE = frozenset(
    {
        "external_references",
        "object_marking_refs",
        "granular_markings",
        "kill_chain_phases",
        "extensions",
    }
)


def _anonymise_standard(
    obj: Mapping[str, Any], allowed: frozenset[str], facts: EnvelopeFacts
) -> dict[str, Any]:
    stix_type = str(obj.get("type"))
    result: dict[str, Any] = {key: value for key, value in obj.items() if key in allowed}
    if "external_references" in result:
        result["external_references"] = _public_references(result["external_references"])
    if "object_marking_refs" in result:
        refs = result["object_marking_refs"]
        result["object_marking_refs"] = [
            ref for ref in (refs if isinstance(refs, list) else []) if is_kept_marking(ref, facts)
        ]
    if "granular_markings" in result:
        result["granular_markings"] = [
            marking
            for marking in _only(_GRANULAR_MARKING)(result["granular_markings"])
            if "marking_ref" not in marking or is_kept_marking(marking["marking_ref"], facts)
        ]
    if "kill_chain_phases" in result:
        result["kill_chain_phases"] = _only(_KILL_CHAIN_PHASE)(result["kill_chain_phases"])
    if "extensions" in result:
        result["extensions"] = _predefined_extensions(stix_type, result["extensions"])
    if stix_type == "observed-data" and isinstance(result.get("objects"), Mapping):
        # Deprecated embedded SCOs (STIX 2.1 4.14): each is anonymised as an SCO of its type.
        embedded: dict[str, Any] = {}
        for key, sco in result["objects"].items():
            sco_type = sco.get("type") if isinstance(sco, Mapping) else None
            sco_allowed = STANDARD_PROPERTIES.get(sco_type) if isinstance(sco_type, str) else None
            if sco_allowed is not None and sco_type in _SCO_SPECIFIC and isinstance(sco, Mapping):
                embedded[key] = _anonymise_standard(sco, sco_allowed, facts)
        result["objects"] = embedded
    result = {
        key: value for key, value in result.items() if not (key in _EMPTIABLE and value in ([], {}))
    }
    return prune_granular_markings(_drop_custom_keys(result))


_IEP_FIELDS = frozenset(
    {
        "extension_type",
        "encrypt_in_transit",
        "permitted_actions",
        "affected_party_notifications",
        "tlp",
        "provider_attribution",
        "unmodified_resale",
        "iep_version",
        "start_date",
        "end_date",
    }
)
# Anonymous IEP policies get an iep_id derived from the policy's own terms, so the same terms
# give the same id whoever wrote them (RFC 9562 section 5.5, name-based UUID).
_IEP_NAMESPACE = uuid.UUID("4b0a7d0e-2f61-4d8e-9a3c-58c1f0e6a7b2")
ANONYMOUS_IEP_NAME = "IEP data marking"
ANONYMOUS_IEP_DESCRIPTION = "An IEP 2.0 policy a partner applied; the provider is anonymous."


def anonymise_marking_definition(obj: Mapping[str, Any]) -> dict[str, Any] | None:
    """The marking definition as an anonymous partner's recipients may see it, or None.

    Standard TLP definitions become their canonical form (STIX 2.1 7.2.1.4, TLP 2.0); IEP 2.0
    definitions are rebuilt from their policy fields, with a fixed name and description and an
    ``iep_id`` derived from the policy itself; any other (statement markings, home-made TLP
    look-alikes) is None: it is not redistributed.
    """
    canonical = canonical_tlp_definition(str(obj.get("id")))
    if canonical is not None:
        return canonical
    if iep_of(obj) is None:
        return None
    extensions = obj.get("extensions")
    body = extensions.get(IEP_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    policy = {
        key: value
        for key, value in (body.items() if isinstance(body, Mapping) else ())
        if key in _IEP_FIELDS
    }
    policy["iep_id"] = str(
        uuid.uuid5(_IEP_NAMESPACE, orjson.dumps(policy, option=orjson.OPT_SORT_KEYS).decode())
    )
    policy["description"] = ANONYMOUS_IEP_DESCRIPTION
    result: dict[str, Any] = {
        key: obj[key] for key in ("type", "spec_version", "id", "created") if key in obj
    }
    result["name"] = ANONYMOUS_IEP_NAME
    # IEP 2.0 for STIX 2.1 requires external_references; these two name only the frameworks.
    result["external_references"] = [
        {"source_name": "iep", "url": "https://www.first.org/iep/"},
        {"source_name": "tlp", "url": "https://www.first.org/tlp/"},
    ]
    result["extensions"] = {IEP_EXTENSION_ID: policy}
    return result


def _ref_kept(ref: object, facts: EnvelopeFacts) -> bool:
    # A ref to something an anonymous partner's recipients never get would name it: partner
    # statement markings and extension definitions are often published in the partner's own
    # feeds, and custom type names often carry the partner's name.
    if not isinstance(ref, str):
        return False
    stix_type = ref.partition("--")[0]
    if stix_type == "marking-definition":
        return is_kept_marking(ref, facts)
    return stix_type in STANDARD_PROPERTIES and stix_type != "extension-definition"


def _without_hidden_refs(obj: dict[str, Any], facts: EnvelopeFacts) -> dict[str, Any] | None:
    result = dict(obj)
    for key, value in obj.items():
        if key in {"id", "object_marking_refs"}:
            continue
        if key.endswith("_ref") and not _ref_kept(value, facts):
            return None  # a single reference (e.g. a relationship's end) cannot be dropped
        if key.endswith("_refs") and isinstance(value, list):
            kept = [ref for ref in value if _ref_kept(ref, facts)]
            if kept:
                result[key] = kept
            elif key == "object_refs" and value:
                return None  # STIX 2.1 requires object_refs where it is defined (4.3, 4.11, ...)
            else:
                result.pop(key)
    return result


def anonymise(obj: Mapping[str, Any], facts: EnvelopeFacts, hub_id: str) -> dict[str, Any] | None:
    """The object with every partner-identifying property removed, or None if it cannot be.

    Kept: the STIX 2.1 properties of its type (``STANDARD_PROPERTIES``), minus custom ``x_``
    keys nested inside them; external references only to public catalogues
    (``PUBLIC_REFERENCE_SOURCES``: source name and id); marking refs only to standard TLP and
    to IEP definitions in the envelope; predefined SCO extensions only (no extension-definition
    ids); references (``*_ref``, ``*_refs``) only to objects recipients can get (standard
    types, TLP and IEP markings). Then every producer id is replaced by ``hub_id``. None for
    custom object types, extension definitions, non-TLP non-IEP marking definitions, and
    objects whose required references would all be gone.
    """
    stix_type = obj.get("type")
    if stix_type == "marking-definition":
        return anonymise_marking_definition(obj)
    if stix_type == "extension-definition" or not isinstance(stix_type, str):
        return None
    allowed = STANDARD_PROPERTIES.get(stix_type)
    if allowed is None:
        return None
    result = _without_hidden_refs(_anonymise_standard(obj, allowed, facts), facts)
    if result is None:
        return None
    stix_id = result.pop("id")
    rewritten: dict[str, Any] = replace_refs(result, facts.producer_ids, hub_id)
    return {"id": stix_id, **rewritten}


def leaked_ids(obj: Mapping[str, Any], facts: EnvelopeFacts) -> list[str]:
    """Producer ids still found anywhere in the object's JSON (in free text, say)."""
    text = orjson.dumps(obj).decode()
    return [ref for ref in sorted(facts.producer_ids) if ref in text]
