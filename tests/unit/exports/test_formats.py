"""The export writers: a bundle that is a STIX 2.1 bundle, CSV that reads back with the csv
module, sorted blocklists without repeats, Suricata rules that match the rule grammar (a
regular expression of it, below), and a MISP event of the core format's shape."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from exchange.agreements.terms import Tlp
from exchange.exports.formats import (
    SID_BASE,
    SID_SPAN,
    ExportContext,
    ExportFormat,
    contributes,
    write,
)

NOW = datetime(2025, 6, 1, 12, 30, tzinfo=UTC)
SHA256 = "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"
MD5 = "8ecf8e7653e6a67d61ff03e0c61f3825"


def ind(pattern: str, number: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.UUID(int=number)}",
        "created": "2024-01-01T00:00:00.000Z",
        "modified": "2024-01-01T00:00:00.000Z",
        "pattern": pattern,
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
        **extra,
    }


def render(fmt: str, objects: Iterable[Mapping[str, Any]], **context: Any) -> bytes:
    chunks = list(write(ExportFormat(fmt), objects, ExportContext(title="FR", now=NOW, **context)))
    assert all(isinstance(chunk, bytes) and chunk for chunk in chunks)
    return b"".join(chunks)


MIXED = [
    ind("[ipv4-addr:value = '198.51.100.20'] OR [domain-name:value = 'B.example']", 1),
    ind("[ipv4-addr:value = '9.9.9.9' OR ipv4-addr:value = '198.51.100.3']", 2),
    ind("[ipv4-addr:value = '198.51.100.20']", 3),  # a repeat, from another indicator
    ind(f"[file:hashes.'SHA-256' = '{SHA256}'] OR [file:hashes.MD5 = '{MD5}']", 4),
    ind("[url:value = 'http://a.example/x?y=1'] OR [url:value = 'https://a.example/z']", 5),
    ind("[ipv6-addr:value = '2001:db8::10'] OR [ipv6-addr:value = '2001:db8::9']", 6),
    ind("[ipv4-addr:value = '198.51.100.99' AND domain-name:value = 'c.example']", 7),
    ind("rule x { condition: true }", 8, pattern_type="yara"),
    {"type": "malware", "id": f"malware--{uuid.UUID(int=9)}", "name": "x", "is_family": True},
]


# Bundle ---------------------------------------------------------------------------------------
def test_the_bundle_is_a_stix_21_bundle_of_the_objects() -> None:
    bundle = orjson.loads(render("bundle", MIXED))
    assert list(bundle) == ["type", "id", "objects"]
    assert bundle["type"] == "bundle"
    assert re.fullmatch(
        r"bundle--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", bundle["id"]
    )
    assert bundle["objects"] == MIXED
    assert "spec_version" not in bundle  # STIX 2.1 bundles have none (section 8)


def test_an_empty_bundle_is_still_a_bundle() -> None:
    first, second = orjson.loads(render("bundle", [])), orjson.loads(render("bundle", []))
    assert first["objects"] == []
    assert first["id"] != second["id"]


def test_the_bundle_streams_in_several_chunks() -> None:
    many = [ind(f"[ipv4-addr:value = '198.51.{i // 200}.{i % 200 + 1}']", i) for i in range(1200)]
    chunks = list(write(ExportFormat.BUNDLE, iter(many), ExportContext("FR", NOW)))
    assert len(chunks) > 2
    assert orjson.loads(b"".join(chunks))["objects"] == many


# CSV ------------------------------------------------------------------------------------------
HEADER = [
    "id",
    "name",
    "pattern",
    "pattern_type",
    "valid_from",
    "valid_until",
    "confidence",
    "labels",
    "revoked",
    "tlp",
]


def test_csv_round_trips_through_the_csv_module() -> None:
    awkward = ind(
        "[url:value = 'http://a.example/?a=1,b=\"2\"']",
        1,
        name='Comma, "quotes"\nand a new line — ünïcode',
        labels=["c2", "phishing, lure"],
        confidence=75,
        valid_until="2026-01-01T00:00:00Z",
    )
    plain = ind("[ipv4-addr:value = '198.51.100.1']", 2)
    text = render("csv", [awkward, plain, MIXED[-1]], tlp_of=lambda o: Tlp.AMBER).decode("utf-8")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == HEADER
    assert len(rows) == 3  # the malware is no indicator
    assert rows[1] == [
        awkward["id"],
        awkward["name"],
        awkward["pattern"],
        "stix",
        "2024-01-01T00:00:00Z",
        "2026-01-01T00:00:00Z",
        "75",
        "c2;phishing, lure",
        "false",
        "amber",
    ]
    assert rows[2][5:] == ["", "", "", "false", "amber"]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=x", "\r=x"])
def test_csv_cells_never_start_a_formula(text: str) -> None:
    rows = list(csv.reader(io.StringIO(render("csv", [ind("[x:y = 'z']", name=text)]).decode())))
    assert rows[1][1] == "'" + text


def test_csv_of_nothing_is_the_header() -> None:
    assert render("csv", []) == (",".join(HEADER) + "\r\n").encode()


def test_csv_has_no_tlp_without_one() -> None:
    rows = list(csv.reader(io.StringIO(render("csv", [MIXED[0]]).decode())))
    assert rows[1][-1] == ""


# Blocklists -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("ipv4", ["9.9.9.9", "198.51.100.3", "198.51.100.20"]),  # address order, not text
        ("ipv6", ["2001:db8::9", "2001:db8::10"]),
        ("domains", ["b.example"]),
        ("urls", ["http://a.example/x?y=1", "https://a.example/z"]),
        ("hashes", [MD5, SHA256]),
    ],
)
def test_blocklists_are_sorted_without_repeats(fmt: str, expected: list[str]) -> None:
    text = render(fmt, MIXED).decode()
    assert text.splitlines() == expected
    assert text.endswith("\n")


def test_a_blocklist_of_nothing_is_empty() -> None:
    assert b"".join(write(ExportFormat.IPV4, [], ExportContext("FR", NOW))) == b""


def test_blocklists_are_deterministic() -> None:
    assert render("ipv4", MIXED) == render("ipv4", list(reversed(MIXED)))


# Suricata -------------------------------------------------------------------------------------
# The rule grammar, as far as these rules use it (Suricata rules format: action, header,
# options; content strings with '"', ';', '\' and '|' as |XX| hex).
_CONTENT = r'"(?:[^";\\|]|\|[0-9A-F]{2}\|)*"'
_OPTION = rf"[a-z][a-z0-9_.]*(?::(?:{_CONTENT}|[^\";]+))?"
RULE = re.compile(
    r"alert (?P<proto>ip|dns|http) any any (?:<>|->) (?:\[[0-9a-f.:/]+\]|any) any "
    rf'\(msg:"(?P<msg>[A-Za-z0-9 ._:+-]*)"; (?:{_OPTION}; )*sid:(?P<sid>\d+); rev:1;\)'
)


def suricata(objects: list[dict[str, Any]]) -> list[re.Match[str]]:
    lines = render("suricata", objects).decode().splitlines()
    matches = [RULE.fullmatch(line) for line in lines]
    bad = [line for line, match in zip(lines, matches, strict=True) if match is None]
    assert not bad, bad
    return [match for match in matches if match is not None]


def test_suricata_rules_are_well_formed_with_unique_sids() -> None:
    rules = suricata(MIXED)
    # 3 IPv4 + 2 IPv6 + 1 domain + 1 http URL; no rule for hashes, https or the AND pattern.
    assert [rule["proto"] for rule in rules].count("ip") == 5
    assert [rule["proto"] for rule in rules].count("dns") == 1
    assert [rule["proto"] for rule in rules].count("http") == 1
    sids = [int(rule["sid"]) for rule in rules]
    assert len(set(sids)) == len(sids)
    assert all(SID_BASE <= sid < SID_BASE + SID_SPAN for sid in sids)


def test_suricata_rules_name_the_indicator_and_match_the_value() -> None:
    by_msg = {rule["msg"]: rule.group(0) for rule in suricata(MIXED)}
    first, fifth = MIXED[0]["id"], MIXED[4]["id"]
    assert "alert ip any any <> [198.51.100.20] any" in by_msg[f"exchange ipv4 {first}"]
    assert (
        'dns.query; dotprefix; content:".b.example"; nocase; endswith;'
        in (by_msg[f"exchange domain {first}"])
    )
    http = by_msg[f"exchange url {fifth}"]
    assert 'http.host; content:"a.example"; bsize:9; http.uri; content:"/x?y=1"; bsize:6;' in http


def test_suricata_escapes_what_would_end_a_content_string() -> None:
    [rule] = suricata([ind("[url:value = 'http://a.example/p;q|r\\\\s\"t%41']")])
    assert 'http.uri.raw; content:"/p|3B|q|7C|r|5C|s|22|t%41"; bsize:13;' in rule.group(0)


def test_suricata_host_only_urls_and_urls_without_a_scheme() -> None:
    rules = [r.group(0) for r in suricata([ind("[url:value = 'http://A.example:8080']")])]
    assert rules
    assert "http.uri" not in rules[0]
    assert 'content:"a.example"' in rules[0]
    [bare] = suricata([ind("[url:value = 'pastebin.com/raw/x']")])
    assert 'http.host; content:"pastebin.com"; bsize:12; http.uri; content:"/raw/x"' in bare.group(
        0
    )
    assert suricata([ind("[url:value = 'hxxp://evil[.]example/x']")]) == []
    assert suricata([ind("[url:value = 'ftp://a.example/x']")]) == []


def test_suricata_sids_are_stable_and_one_rule_per_value() -> None:
    one = {m["msg"].split()[1] + m.group(0).split("(")[0]: m["sid"] for m in suricata(MIXED)}
    two = {m["msg"].split()[1] + m.group(0).split("(")[0]: m["sid"] for m in suricata(MIXED[::-1])}
    assert one == two
    shared = [m for m in suricata(MIXED) if "[198.51.100.20]" in m.group(0)]
    assert len(shared) == 1
    assert shared[0]["msg"].endswith(MIXED[0]["id"])


# MISP -----------------------------------------------------------------------------------------
def test_the_misp_event_has_the_core_format_shape() -> None:
    tlps = {MIXED[0]["id"]: Tlp.GREEN, MIXED[2]["id"]: Tlp.AMBER}
    document = orjson.loads(render("misp", MIXED, tlp_of=lambda o: tlps.get(o["id"])))
    assert list(document) == ["Event"]
    event = document["Event"]
    assert event["info"] == "FR"
    assert event["date"] == "2025-06-01"
    assert event["published"] is False
    assert {event[key] for key in ("threat_level_id", "analysis", "distribution")} <= set("012345")
    assert uuid.UUID(event["uuid"]).version == 4
    assert event["Tag"] == [{"name": "tlp:amber"}]
    attributes = event["Attribute"]
    pairs = [(a["type"], a["value"]) for a in attributes]
    assert len(pairs) == len(set(pairs))  # MISP refuses the same value twice in one event
    assert set(pairs) == {
        ("ip-dst", "198.51.100.20"),
        ("ip-dst", "198.51.100.3"),
        ("ip-dst", "9.9.9.9"),
        ("ip-dst", "2001:db8::10"),
        ("ip-dst", "2001:db8::9"),
        ("domain", "b.example"),
        ("url", "http://a.example/x?y=1"),
        ("url", "https://a.example/z"),
        ("sha256", SHA256),
        ("md5", MD5),
    }
    for attribute in attributes:
        assert attribute["to_ids"] is True
        assert attribute["category"] in {"Network activity", "Payload delivery"}
        assert uuid.UUID(attribute["uuid"])
        assert all(part.startswith("indicator--") for part in attribute["comment"].split())
    assert len({a["uuid"] for a in attributes}) == len(attributes)
    shared = next(a for a in attributes if a["value"] == "198.51.100.20")
    assert shared["comment"] == f"{MIXED[0]['id']} {MIXED[2]['id']}"
    assert shared["Tag"] == [{"name": "tlp:amber"}]
    sha = next(a for a in attributes if a["type"] == "sha256")
    assert (sha["category"], sha["comment"], sha["Tag"]) == ("Payload delivery", MIXED[3]["id"], [])


def test_an_empty_misp_event_is_valid_json() -> None:
    event = orjson.loads(render("misp", []))["Event"]
    assert event["Attribute"] == []
    assert event["Tag"] == []


# What contributes -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("bundle", [True] * 9),
        ("csv", [True] * 8 + [False]),
        ("ipv4", [True, True, True, False, False, False, False, False, False]),
        ("hashes", [False, False, False, True, False, False, False, False, False]),
        ("suricata", [True, True, True, False, True, True, False, False, False]),
        ("misp", [True] * 6 + [False, False, False]),
    ],
)
def test_contributes(fmt: str, expected: list[bool]) -> None:
    assert [contributes(ExportFormat(fmt), obj) for obj in MIXED] == expected
