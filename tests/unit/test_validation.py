"""``validate_object``: one hand-written row per STIX 2.1 MUST rule, and a robustness property.

Each row starts from a valid object of some type, applies a change, and expects a reason code
(or None for variants that must stay valid, e.g. open vocabularies). The hypothesis test feeds
arbitrary JSON shaped like STIX objects and requires a verdict, never an exception.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exchange.stix.objects import Refusal, check_object
from exchange.stix.validation import TYPES, Invalid, validate_object

DELETE = object()
T = "2016-04-06T20:03:48.000Z"
T2 = "2016-05-07T11:22:30.000Z"
IDENTITY = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"
INDICATOR = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
MALWARE = "malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"
FILE = "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"
OBSERVED = "observed-data--b67d30ff-02ac-498a-92f9-32f845f448cf"
LOCATION = "location--a6e9345f-5a15-4c29-8bb3-7dcc5d168d64"
TLP_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
STATEMENT = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"
EXTENSION = "extension-definition--d83fce45-ef58-4c6c-a3f4-1fbc32e98c6e"
SHA256 = "aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f"


def _sdo(stix_type: str, uuid: str, **props: Any) -> dict[str, Any]:
    return {
        "type": stix_type,
        "spec_version": "2.1",
        "id": f"{stix_type}--{uuid}",
        "created": T,
        "modified": T,
        **props,
    }


def _sco(stix_type: str, uuid: str, **props: Any) -> dict[str, Any]:
    return {"type": stix_type, "spec_version": "2.1", "id": f"{stix_type}--{uuid}", **props}


U = "8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"
U5 = "ff1e0780-358c-5808-a8c7-d0fca4ef6ef4"

VALID: dict[str, dict[str, Any]] = {
    "attack-pattern": _sdo("attack-pattern", U, name="Spear Phishing"),
    "campaign": _sdo("campaign", U, name="Green Group", first_seen=T, last_seen=T2),
    "course-of-action": _sdo("course-of-action", U, name="Block it"),
    "grouping": _sdo("grouping", U, context="suspicious-activity", object_refs=[INDICATOR]),
    "identity": _sdo("identity", U, name="ACME", identity_class="organization"),
    "incident": _sdo("incident", U, name="Breach"),
    "indicator": _sdo(
        "indicator",
        U,
        pattern=f"[file:hashes.'SHA-256' = '{SHA256}']",
        pattern_type="stix",
        valid_from=T,
        kill_chain_phases=[{"kill_chain_name": "lockheed", "phase_name": "delivery"}],
    ),
    "infrastructure": _sdo("infrastructure", U, name="C2 servers"),
    "intrusion-set": _sdo("intrusion-set", U, name="Bobcat Breakin"),
    "location": _sdo("location", U, region="europe", latitude=48.8, longitude=2.3),
    "malware": _sdo("malware", U, name="Cryptolocker", is_family=True),
    "malware-analysis": _sdo("malware-analysis", U, product="av", result="malicious"),
    "note": _sdo("note", U, content="seen", object_refs=[MALWARE]),
    "observed-data": _sdo(
        "observed-data",
        U,
        first_observed=T,
        last_observed=T2,
        number_observed=50,
        object_refs=[FILE],
    ),
    "opinion": _sdo("opinion", U, opinion="agree", object_refs=[MALWARE]),
    "report": _sdo("report", U, name="Report", published=T, object_refs=[MALWARE]),
    "threat-actor": _sdo("threat-actor", U, name="Evil Org"),
    "tool": _sdo("tool", U, name="VNC"),
    "vulnerability": _sdo(
        "vulnerability",
        U,
        name="CVE-2016-1234",
        external_references=[{"source_name": "cve", "external_id": "CVE-2016-1234"}],
    ),
    "relationship": _sdo(
        "relationship",
        U,
        relationship_type="indicates",
        source_ref=INDICATOR,
        target_ref=MALWARE,
    ),
    "sighting": _sdo(
        "sighting",
        U,
        sighting_of_ref=INDICATOR,
        where_sighted_refs=[IDENTITY, LOCATION],
        observed_data_refs=[OBSERVED],
        count=3,
    ),
    "artifact": _sco("artifact", U, mime_type="image/jpeg", payload_bin="aGVsbG8gd29ybGQ="),
    "autonomous-system": _sco("autonomous-system", U5, number=15139),
    "directory": _sco("directory", U5, path="C:\\Windows", path_enc="UTF-8"),
    "domain-name": _sco("domain-name", U5, value="example.com"),
    "email-addr": _sco("email-addr", U5, value="john@example.com"),
    "email-message": _sco("email-message", U5, is_multipart=False, body="hello"),
    "file": _sco("file", U5, name="a.exe", hashes={"SHA-256": SHA256}),
    "ipv4-addr": _sco("ipv4-addr", U5, value="198.51.100.3/32"),
    "ipv6-addr": _sco("ipv6-addr", U5, value="2001:0db8::1"),
    "mac-addr": _sco("mac-addr", U5, value="d2:fb:49:24:37:18"),
    "mutex": _sco("mutex", U5, name="__CLEANSWEEP__"),
    "network-traffic": _sco(
        "network-traffic", U5, src_ref=f"ipv4-addr--{U5}", dst_port=443, protocols=["tcp"]
    ),
    "process": _sco("process", U, pid=1221, command_line="./gedit"),
    "software": _sco(
        "software", U5, name="Word", cpe="cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*"
    ),
    "url": _sco("url", U5, value="https://example.com/research/index.html"),
    "user-account": _sco("user-account", U5, user_id="1001", account_login="jdoe"),
    "windows-registry-key": _sco("windows-registry-key", U5, key="HKEY_LOCAL_MACHINE\\System\\Foo"),
    "x509-certificate": _sco("x509-certificate", U5, serial_number="36:f7:d4:32"),
    "marking-definition": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": STATEMENT,
        "created": T,
        "definition_type": "statement",
        "definition": {"statement": "Copyright 2019, Example Corp"},
    },
    "tlp": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_GREEN,
        "created": "2017-01-20T00:00:00.000Z",
        "definition_type": "tlp",
        "name": "TLP:GREEN",
        "definition": {"tlp": "green"},
    },
    "tlp2": {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        "created": "2022-10-01T00:00:00.000Z",
        "name": "TLP:GREEN",
        "extensions": {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                "extension_type": "property-extension",
                "tlp_2_0": "green",
            }
        },
    },
    "language-content": _sdo(
        "language-content",
        U,
        object_ref=MALWARE,
        object_modified=T,
        contents={"de": {"name": "Bank Angriff", "description": "Weitere Informationen"}},
    ),
    "extension-definition": _sdo(
        "extension-definition",
        U,
        created_by_ref=IDENTITY,
        name="New SDO",
        schema="https://example.com/schema.json",
        version="1.0",
        extension_types=["new-sdo"],
    ),
    "custom": _sdo(
        "x-acme-widget",
        U,
        x_acme_size=3,
        extensions={EXTENSION: {"extension_type": "new-sdo"}},
    ),
}


def _change(base: str, **changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(VALID[base])
    for key, value in changes.items():
        if value is DELETE:
            obj.pop(key, None)
        else:
            obj[key] = value
    return obj


GRANULAR = [{"marking_ref": TLP_GREEN, "selectors": ["name"]}]

ROWS: list[tuple[str, dict[str, Any], str | None]] = [
    # Required properties, per type (sections 4-7)
    ("indicator needs pattern", _change("indicator", pattern=DELETE), "missing_property"),
    ("indicator needs valid_from", _change("indicator", valid_from=DELETE), "missing_property"),
    ("malware needs is_family", _change("malware", is_family=DELETE), "missing_property"),
    ("malware family needs name", _change("malware", name=DELETE), "missing_property"),
    ("non-family malware needs no name", _change("malware", name=DELETE, is_family=False), None),
    ("report needs published", _change("report", published=DELETE), "missing_property"),
    ("relationship needs target", _change("relationship", target_ref=DELETE), "missing_property"),
    (
        "sighting needs sighting_of_ref",
        _change("sighting", sighting_of_ref=DELETE),
        "missing_property",
    ),
    (
        "observed-data needs count",
        _change("observed-data", number_observed=DELETE),
        "missing_property",
    ),
    ("note needs content", _change("note", content=DELETE), "missing_property"),
    ("opinion needs opinion", _change("opinion", opinion=DELETE), "missing_property"),
    ("grouping needs context", _change("grouping", context=DELETE), "missing_property"),
    ("identity needs name", _change("identity", name=DELETE), "missing_property"),
    ("SDO needs modified", _change("tool", modified=DELETE), "missing_property"),
    (
        "location needs a place",
        _change("location", region=DELETE, latitude=DELETE, longitude=DELETE),
        "missing_property",
    ),
    ("latitude needs longitude", _change("location", longitude=DELETE), "missing_property"),
    ("analysis needs a result", _change("malware-analysis", result=DELETE), "missing_property"),
    ("file needs hashes or name", _change("file", name=DELETE, hashes=DELETE), "missing_property"),
    ("traffic needs an end point", _change("network-traffic", src_ref=DELETE), "missing_property"),
    ("traffic needs protocols", _change("network-traffic", protocols=DELETE), "missing_property"),
    ("artifact needs payload or url", _change("artifact", payload_bin=DELETE), "missing_property"),
    (
        "artifact url needs hashes",
        _change("artifact", payload_bin=DELETE, url="https://x.org/a"),
        "missing_property",
    ),
    ("email needs is_multipart", _change("email-message", is_multipart=DELETE), "missing_property"),
    (
        "process needs a property",
        _change("process", pid=DELETE, command_line=DELETE),
        "missing_property",
    ),
    (
        "registry key needs a property",
        _change("windows-registry-key", key=DELETE),
        "missing_property",
    ),
    (
        "language content needs contents",
        _change("language-content", contents=DELETE),
        "missing_property",
    ),
    (
        "extension definition needs schema",
        _change("extension-definition", schema=DELETE),
        "missing_property",
    ),
    (
        "observed-data: not both objects and refs",
        _change("observed-data", objects={"0": {"type": "file", "name": "a"}}),
        "missing_property",
    ),
    # Property types and ranges (sections 2, 3.2)
    ("name is a string", _change("tool", name=7), "invalid_type"),
    ("lists are not empty", _change("tool", labels=[]), "empty_list"),
    ("no null values", _change("tool", description=None), "invalid_value"),
    ("revoked is a boolean", _change("tool", revoked="yes"), "invalid_type"),
    ("confidence is 0-100", _change("tool", confidence=101), "out_of_range"),
    ("confidence is an integer", _change("tool", confidence=True), "invalid_type"),
    ("number_observed is at least 1", _change("observed-data", number_observed=0), "out_of_range"),
    (
        "number_observed at most 999999999",
        _change("observed-data", number_observed=1_000_000_000),
        "out_of_range",
    ),
    ("sighting count at most 999999999", _change("sighting", count=1_000_000_000), "out_of_range"),
    ("sighting count may be 0", _change("sighting", count=0), None),
    ("latitude is -90..90", _change("location", latitude=91), "out_of_range"),
    ("is_family is a boolean", _change("malware", is_family="true"), "invalid_type"),
    ("ports are 0-65535", _change("network-traffic", dst_port=70000), "out_of_range"),
    (
        "kill chain phase needs phase_name",
        _change("indicator", kill_chain_phases=[{"kill_chain_name": "x"}]),
        "missing_property",
    ),
    # Timestamps (section 2.15) and their order
    (
        "valid_from is a real date",
        _change("indicator", valid_from="2016-02-30T00:00:00Z"),
        "invalid_timestamp",
    ),
    (
        "created is precise to the millisecond",
        _change("tool", created="2016-04-06T20:03:48Z", modified="2016-04-06T20:03:48Z"),
        "invalid_timestamp",
    ),
    (
        "timestamps end in Z",
        _change("campaign", first_seen="2016-04-06T20:03:48+00:00"),
        "invalid_timestamp",
    ),
    ("valid_until after valid_from", _change("indicator", valid_until=T), "timestamp_order"),
    (
        "last_seen not before first_seen",
        _change("campaign", last_seen="2015-01-01T00:00:00Z"),
        "timestamp_order",
    ),
    ("last_seen may equal first_seen", _change("campaign", last_seen=T), None),
    (
        "stop_time after start_time",
        _change("relationship", start_time=T, stop_time=T),
        "timestamp_order",
    ),
    (
        "last_observed not before first",
        _change("observed-data", last_observed="2015-01-01T00:00:00Z"),
        "timestamp_order",
    ),
    (
        "traffic end not before start",
        _change("network-traffic", start=T2, end=T),
        "timestamp_order",
    ),
    # Identifiers and references (sections 2.9, 3.2, 5)
    (
        "id UUID is RFC 4122",
        _change("tool", id="tool--8e2e2d2b-17d4-0cbf-938f-98ee46b3cd3f"),
        "invalid_identifier",
    ),
    (
        "created_by_ref is an identity",
        _change("tool", created_by_ref=INDICATOR),
        "invalid_reference",
    ),
    ("refs are identifiers", _change("report", object_refs=["malware-foo"]), "invalid_reference"),
    (
        "object_marking_refs are markings",
        _change("tool", object_marking_refs=[IDENTITY]),
        "invalid_reference",
    ),
    ("sighting_of_ref is an SDO", _change("sighting", sighting_of_ref=FILE), "invalid_reference"),
    (
        "sighting_of_ref may be custom",
        _change("sighting", sighting_of_ref=f"x-acme-widget--{U}"),
        None,
    ),
    (
        "where_sighted_refs identity/location",
        _change("sighting", where_sighted_refs=[MALWARE]),
        "invalid_reference",
    ),
    (
        "observed_data_refs are observed-data",
        _change("sighting", observed_data_refs=[INDICATOR]),
        "invalid_reference",
    ),
    (
        "relationships do not link markings",
        _change("relationship", source_ref=TLP_GREEN),
        "invalid_reference",
    ),
    ("relationships may link SCOs", _change("relationship", target_ref=FILE), None),
    (
        "observed-data refs are not SDOs",
        _change("observed-data", object_refs=[MALWARE]),
        "invalid_reference",
    ),
    ("host_vm_ref is software", _change("malware-analysis", host_vm_ref=FILE), "invalid_reference"),
    ("email from_ref is email-addr", _change("email-message", from_ref=FILE), "invalid_reference"),
    ("process id is UUIDv4", _change("process", id=f"process--{U5}"), "invalid_identifier"),
    (
        "bare registry key id is UUIDv4",
        _change("windows-registry-key", key=DELETE, number_of_subkeys=2),
        "invalid_identifier",
    ),
    (
        "relationship_type is lowercase",
        _change("relationship", relationship_type="Indicates"),
        "invalid_value",
    ),
    # Vocabularies: enumerations are closed, open vocabularies are not (section 10)
    ("opinion is an enumeration", _change("opinion", opinion="maybe"), "invalid_vocabulary"),
    ("identity_class is open", _change("identity", identity_class="alien"), None),
    ("identity_class is a string", _change("identity", identity_class=["unknown"]), "invalid_type"),
    ("indicator_types are open", _change("indicator", indicator_types=["weird"]), None),
    (
        "pattern_type is open and not parsed",
        _change("indicator", pattern_type="snort", pattern="alert tcp any"),
        None,
    ),
    (
        "encryption_algorithm is closed",
        _change("artifact", encryption_algorithm="foo"),
        "invalid_vocabulary",
    ),
    (
        "extension_types are closed",
        _change("extension-definition", extension_types=["bogus"]),
        "invalid_vocabulary",
    ),
    (
        "extension_properties need toplevel",
        _change("extension-definition", extension_properties=["x_a"]),
        "invalid_value",
    ),
    # Indicator patterns (section 9)
    (
        "pattern syntax",
        _change("indicator", pattern="[file:hashes.'SHA-256' = ]"),
        "invalid_pattern",
    ),
    (
        "pattern hash format",
        _change("indicator", pattern="[file:hashes.MD5 = 'abc']"),
        "invalid_pattern",
    ),
    ("pattern property names", _change("indicator", pattern="[x-foo:n = 'a']"), "invalid_pattern"),
    (
        "pattern qualifiers",
        _change("indicator", pattern="[file:size = 1] WITHIN 5 SECONDS WITHIN 1 SECONDS"),
        "invalid_pattern",
    ),
    # Property names, reserved names, binary/hex values (sections 3.1, 11.1)
    ("custom name with hyphen", _change("tool", **{"x-foo": 1}), "custom_property_name"),
    ("custom name too short", _change("tool", ab=1), "custom_property_name"),
    ("custom name starts with a letter", _change("tool", **{"9abc": 1}), "custom_property_name"),
    ("custom name upper case", _change("tool", x_Foo=1), "custom_property_name"),
    ("custom x_ name is fine", _change("tool", x_acme_score=1), None),
    ("reserved property", _change("tool", severity="high"), "reserved_property"),
    ("reserved property on SCO", _change("file", action=True), "reserved_property"),
    ("_bin is base64", _change("tool", x_blob_bin="!!!"), "invalid_value"),
    ("_hex is hex", _change("tool", x_flags_hex="abc"), "invalid_value"),
    ("custom lists not empty", _change("tool", x_acme_list=[]), "empty_list"),
    ("lang is RFC 5646", _change("tool", lang="foo"), "invalid_language"),
    ("lang may have a region", _change("tool", lang="en-US"), None),
    # Extensions (sections 7.3, 11)
    ("extension keys", _change("tool", extensions={"foo": {"a": 1}}), "invalid_extension"),
    (
        "extension_type required",
        _change("tool", extensions={EXTENSION: {"x_a": 1}}),
        "invalid_extension",
    ),
    (
        "extension_type vocabulary",
        _change("tool", extensions={EXTENSION: {"extension_type": "new"}}),
        "invalid_vocabulary",
    ),
    ("extensions not empty", _change("tool", extensions={}), "invalid_extension"),
    ("predefined SCO extension", _change("file", extensions={"ntfs-ext": {"sid": "1"}}), None),
    (
        "predefined extension properties",
        _change("file", extensions={"ntfs-ext": {"x": 1}}),
        "missing_property",
    ),
    (
        "pe time_date_stamp seconds",
        _change(
            "file",
            extensions={
                "windows-pebinary-ext": {
                    "pe_type": "exe",
                    "time_date_stamp": "2016-11-31T08:17:27Z",
                }
            },
        ),
        "invalid_timestamp",
    ),
    (
        "socket address family closed",
        _change("network-traffic", extensions={"socket-ext": {"address_family": "AF_X"}}),
        "invalid_vocabulary",
    ),
    # Data markings (section 7.2)
    ("granular marking", _change("tool", granular_markings=GRANULAR), None),
    (
        "selector must select",
        _change(
            "tool", granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["description"]}]
        ),
        "invalid_selector",
    ),
    (
        "selector syntax",
        _change("tool", granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["[0]"]}]),
        "invalid_selector",
    ),
    (
        "selector list index",
        _change(
            "tool",
            labels=["a"],
            granular_markings=[{"marking_ref": TLP_GREEN, "selectors": ["labels.[1]"]}],
        ),
        "invalid_selector",
    ),
    (
        "granular marking_ref is a marking",
        _change("tool", granular_markings=[{"marking_ref": IDENTITY, "selectors": ["name"]}]),
        "invalid_reference",
    ),
    (
        "granular lang or marking_ref",
        _change(
            "tool",
            granular_markings=[{"lang": "en", "marking_ref": TLP_GREEN, "selectors": ["name"]}],
        ),
        "invalid_marking_ref",
    ),
    (
        "granular lang alone",
        _change("tool", granular_markings=[{"lang": "en", "selectors": ["name"]}]),
        None,
    ),
    ("TLP 1.0 exact", _change("tlp", name="TLP:GREENISH"), "invalid_marking_definition"),
    (
        "TLP 1.0 ids reserved",
        _change("tlp", definition_type="statement", definition={"statement": "x"}),
        "invalid_marking_definition",
    ),
    (
        "statement needs statement",
        _change("marking-definition", definition={"text": "x"}),
        "missing_property",
    ),
    (
        "definition or extension",
        _change("marking-definition", definition=DELETE, definition_type=DELETE),
        "missing_property",
    ),
    (
        "marking does not mark itself",
        _change("marking-definition", object_marking_refs=[STATEMENT]),
        "invalid_marking_ref",
    ),
    (
        "marking extensions by definition only",
        _change("tlp2", extensions={"tlp-ext": {"a": 1}}),
        "invalid_extension",
    ),
    # External references and hashes (sections 2.5, 2.7)
    (
        "source_name required",
        _change("tool", external_references=[{"url": "https://x.org"}]),
        "missing_property",
    ),
    (
        "reference needs more than a name",
        _change("tool", external_references=[{"source_name": "x"}]),
        "invalid_external_reference",
    ),
    (
        "cve id format",
        _change(
            "vulnerability", external_references=[{"source_name": "cve", "external_id": "CVE-16-1"}]
        ),
        "invalid_external_reference",
    ),
    (
        "capec id format",
        _change("tool", external_references=[{"source_name": "capec", "external_id": "capec-1"}]),
        "invalid_external_reference",
    ),
    (
        "CVE ids need source cve",
        _change(
            "tool", external_references=[{"source_name": "nvd", "external_id": "CVE-2016-1234"}]
        ),
        "invalid_external_reference",
    ),
    (
        "reference url is a URI",
        _change("tool", external_references=[{"source_name": "x", "url": "www.example.com"}]),
        "invalid_value",
    ),
    ("hash format", _change("file", hashes={"MD5": "abc"}), "invalid_hash"),
    ("hash key length", _change("file", hashes={"MD": "abc"}), "invalid_hash"),
    ("custom hash algorithm", _change("file", hashes={"x_acme": "abc"}), None),
    # SCO value formats (section 6)
    ("ipv4 value", _change("ipv4-addr", value="999.1.1.1"), "invalid_value"),
    ("ipv6 value", _change("ipv6-addr", value="fe80::1/129"), "invalid_value"),
    ("mac value lowercase", _change("mac-addr", value="D2:FB:49:24:37:18"), "invalid_value"),
    ("url value", _change("url", value="foo"), "invalid_value"),
    ("email value", _change("email-addr", value="John <j@example.com>"), "invalid_value"),
    ("domain value", _change("domain-name", value="ex_ample.com"), "invalid_value"),
    (
        "registry hive not abbreviated",
        _change("windows-registry-key", key="HKLM\\System"),
        "invalid_value",
    ),
    ("artifact mime type", _change("artifact", mime_type="bla/blabla"), "invalid_value"),
    ("artifact base64", _change("artifact", payload_bin="not base64"), "invalid_value"),
    (
        "active traffic has no end",
        _change("network-traffic", is_active=True, end=T),
        "invalid_value",
    ),
    (
        "single-part email has no parts",
        _change("email-message", body_multipart=[{"body": "x"}]),
        "invalid_value",
    ),
    ("cpe format", _change("software", cpe="invalid"), "invalid_value"),
    ("software languages", _change("software", languages=["bbb"]), "invalid_language"),
    ("character sets", _change("directory", path_enc="bla.bla.bla"), "invalid_vocabulary"),
    (
        "language-content keys",
        _change("language-content", contents={"espanol!": {"name": "x"}}),
        "invalid_value",
    ),
    (
        "language-content languages",
        _change("language-content", contents={"qq": {"name": "x"}}),
        "invalid_language",
    ),
    (
        "language-content sub-keys",
        _change("language-content", contents={"de": {"a": "x"}}),
        "custom_property_name",
    ),
    (
        "embedded SCO refs resolve",
        _change(
            "observed-data",
            object_refs=DELETE,
            objects={"0": {"type": "email-addr", "value": "a@b.org", "belongs_to_ref": "1"}},
        ),
        "invalid_reference",
    ),
    (
        "embedded SCOs",
        _change(
            "observed-data",
            object_refs=DELETE,
            objects={
                "0": {"type": "user-account", "user_id": "1"},
                "1": {"type": "email-addr", "value": "a@b.org", "belongs_to_ref": "0"},
            },
        ),
        None,
    ),
    # Object types
    (
        "bundles are not objects",
        {"type": "bundle", "id": f"bundle--{U}", "objects": []},
        "invalid_type",
    ),
    (
        "reserved type",
        {"type": "action", "id": f"action--{U}", "spec_version": "2.1"},
        "invalid_type",
    ),
    ("custom SCO", {"type": "x-acme-thing", "id": f"x-acme-thing--{U}", "x_acme_size": 1}, None),
]


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_objects(name: str) -> None:
    obj = VALID[name]
    assert not isinstance(check_object(obj), Refusal)
    assert validate_object(obj) is None


@pytest.mark.parametrize(
    ("obj", "code"), [(row[1], row[2]) for row in ROWS], ids=[r[0] for r in ROWS]
)
def test_rules(obj: dict[str, Any], code: str | None) -> None:
    result = validate_object(obj)
    if code is None:
        assert result is None
    else:
        assert isinstance(result, Invalid), f"expected {code}"
        assert result.code == code, result
        assert result.message


def test_every_type_has_a_valid_example() -> None:
    assert set(TYPES) <= set(VALID)
    assert len([t for t, spec in TYPES.items() if spec.kind == "sco"]) == 18
    assert len([t for t, spec in TYPES.items() if spec.kind == "sdo"]) == 19


def test_messages_do_not_echo_long_input() -> None:
    long = "A" * 10_000
    for obj in (
        _change("tool", name=long * 0 + "x", **{long: 1}),
        _change("indicator", pattern=f"[file:name = '{long}'] {long}"),
        _change("url", value=long),
        _change("tool", created_by_ref=f"{long}--{U}"),
        _change("file", hashes={"MD5": long}),
        _change(
            "tool", granular_markings=[{"marking_ref": TLP_GREEN, "selectors": [long.lower()]}]
        ),
    ):
        result = validate_object(obj)
        assert result is not None
        assert len(result.message) < 200, result.message


# --- Never raises -----------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_NAMES = sorted({name for spec in TYPES.values() for name in spec.shape.props})
_TYPE_NAMES = [*sorted(TYPES), "marking-definition", "x-acme-thing", "bundle"]


@st.composite
def _object_like(draw: st.DrawFn) -> dict[str, Any]:
    stix_type = draw(st.sampled_from(_TYPE_NAMES))
    obj: dict[str, Any] = {"type": stix_type, "id": f"{stix_type}--{U}", "spec_version": "2.1"}
    if draw(st.booleans()):
        obj.update(created=T, modified=T)
    if draw(st.booleans()):
        obj.update(copy.deepcopy(VALID.get(stix_type, {})))
    keys = st.sampled_from(_NAMES) | st.text(max_size=8)
    obj.update(draw(st.dictionaries(keys, _JSON, max_size=6)))
    return obj


@settings(deadline=None, max_examples=200)
@given(_object_like())
def test_never_raises_on_object_like_json(obj: dict[str, Any]) -> None:
    result = validate_object(obj)
    assert result is None or (isinstance(result, Invalid) and result.code != "internal_error")


@settings(deadline=None, max_examples=100)
@given(_JSON)
def test_never_raises_on_any_json(value: Any) -> None:
    result = validate_object(value)
    assert result is None or result.code != "internal_error"
