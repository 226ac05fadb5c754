"""Analysts' exports in-process: the access rules of a TAXII read, the errors, the media types,
the audit of every export, and what goes into each format.

Access is a table (actor, collection: status) over the conftest ``world``; an account that may
not see a collection gets the very body a missing collection gets. Contents use an
``AgreementWorld`` (a movable clock) where a partner sharing with France pushes indicators that
each exercise one rule (revoked, expired, IEP, TLP, confidence, a pattern that is not simple).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from exchange.agreements.markings import IEP_EXTENSION_ID, TLP2_MARKING
from exchange.agreements.terms import Tlp
from exchange.countries import country_collection_id
from tests.functional.agreement_world import AgreementWorld, Partner, open_world
from tests.functional.conftest import World, assert_taxii_error, indicator

FORMATS = ("bundle", "csv", "ipv4", "ipv6", "domains", "urls", "hashes", "suricata", "misp")
BLOCKLISTS = ("ipv4", "ipv6", "domains", "urls", "hashes")
MEDIA = {
    "bundle": "application/stix+json;version=2.1",
    "csv": "text/csv; charset=utf-8",
    "misp": "application/json",
    **{name: "text/plain; charset=utf-8" for name in (*BLOCKLISTS, "suricata")},
}


def export_url(collection_id: str, fmt: str) -> str:
    return f"/analyst/exports/{collection_id}/{fmt}"


# Access: the same rules as a TAXII read ----------------------------------------------------------
ACCESS = [
    ("analyst_fr", "country_fr", 200),
    ("analyst_fr", "country_de", 404),
    ("analyst_de", "country_fr", 404),
    ("analyst_fr", "shared_r", 200),
    ("analyst_fr", "shared_rw", 200),
    ("analyst_fr", "shared_w", 403),  # visible, not readable
    ("analyst_fr", "shared_none", 404),
    ("analyst_fr", "own_inbox", 404),
    ("analyst_fr", "missing", 404),
    ("partner_owner", "own_inbox", 200),
    ("partner_owner", "other_inbox", 404),
    ("partner_owner", "country_fr", 404),
    ("partner_owner", "shared_r", 200),
    ("other_partner", "country_de", 404),
    ("admin", "shared_r", 200),
    ("admin", "shared_none", 200),
    ("admin", "country_fr", 404),
    ("admin", "own_inbox", 404),
    ("anonymous", "country_fr", 401),
    ("wrong_token", "own_inbox", 401),
    ("disabled", "shared_r", 401),
]


@pytest.mark.parametrize(("actor", "kind", "status"), ACCESS)
@pytest.mark.parametrize("fmt", ["bundle", "ipv4"])
def test_exports_follow_the_taxii_access_rules(
    world: World, actor: str, kind: str, status: int, fmt: str
) -> None:
    response = world.client.get(
        export_url(world.collections[kind], fmt), headers=world.actors[actor].auth
    )
    if status == 200:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == MEDIA[fmt]
    else:
        assert_taxii_error(response, status)


@pytest.mark.parametrize("fmt", ["bundle", "ipv4", "no-such-format"])
def test_another_countrys_collection_is_answered_like_a_missing_one(world: World, fmt: str) -> None:
    """The access check comes first: even an unknown format gets the collection's 404."""
    auth = world.actors["analyst_de"].auth
    hidden = world.client.get(export_url(world.collections["country_fr"], fmt), headers=auth)
    missing = world.client.get(export_url(world.collections["missing"], fmt), headers=auth)
    assert_taxii_error(hidden, 404)
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())
    assert hidden.json()["description"] == "no such collection"


def test_a_partner_cannot_export_a_country_collection_it_feeds(world: World) -> None:
    """p-owner's seed reached France, yet France's collection is not p-owner's to export."""
    auth = world.actors["partner_owner"].auth
    response = world.client.get(export_url(world.collections["country_fr"], "bundle"), headers=auth)
    assert_taxii_error(response, 404)
    own = world.client.get(export_url(world.collections["own_inbox"], "bundle"), headers=auth)
    assert own.status_code == 200
    assert world.seed_id("own_inbox") in {o["id"] for o in own.json()["objects"]}


def test_an_unknown_format_is_404_with_a_taxii_error(world: World) -> None:
    response = world.client.get(
        export_url(world.collections["country_fr"], "pdf"), headers=world.actors["analyst_fr"].auth
    )
    body = assert_taxii_error(response, 404)
    assert "pdf" in body["description"]
    assert "suricata" in body["description"]


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"min_confidence": "high"}, "min_confidence"),
        ({"min_confidence": "101"}, "min_confidence"),
        ({"min_confidence": "-1"}, "min_confidence"),
        ({"max_tlp": "purple"}, "max_tlp"),
        ({"max_tlp": "red"}, "max_tlp"),
        ({"added_after": "yesterday"}, "added_after"),
        ({"limit": "5"}, "limit"),
        ({"next": "abc"}, "next"),
        ({"match[version]": "all"}, "match[version]"),
        ({"match[spec_version]": "2.1"}, "match[spec_version]"),
        ({"format": "csv"}, "format"),
    ],
)
def test_malformed_or_unknown_parameters_are_400(
    world: World, params: dict[str, str], words: str
) -> None:
    response = world.client.get(
        export_url(world.collections["country_fr"], "csv"),
        params=params,
        headers=world.actors["analyst_fr"].auth,
    )
    body = assert_taxii_error(response, 400)
    assert words in body["description"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_answers_in_its_media_type_and_is_not_cached(world: World, fmt: str) -> None:
    collection_id = world.collections["country_fr"]
    response = world.client.get(
        export_url(collection_id, fmt), headers=world.actors["analyst_fr"].auth
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA[fmt]
    assert response.headers["cache-control"] == "no-store"
    assert f"exchange-{collection_id}-{fmt}." in response.headers["content-disposition"]


def test_an_export_is_recorded_in_the_audit_log(world: World) -> None:
    start = world.hub.audit_size()
    response = world.client.get(
        export_url(world.collections["country_fr"], "ipv4"),
        headers=world.actors["analyst_fr"].auth,
    )
    assert response.status_code == 200
    assert response.text == "198.51.100.1\n"
    [event] = [e for e in world.hub.audit_events(start) if e.kind == "read"]
    assert event.actor == "analyst-fr"
    assert event.subject == f"collection:{world.collections['country_fr']}"
    assert event.data["scope"] == "export:ipv4"
    assert event.data["count"] == 1


def test_a_refused_export_is_not_recorded(world: World) -> None:
    start = world.hub.audit_size()
    response = world.client.get(
        export_url(world.collections["country_fr"], "ipv4"),
        headers=world.actors["analyst_de"].auth,
    )
    assert response.status_code == 404
    assert [e for e in world.hub.audit_events(start) if e.kind == "read"] == []


# Contents ----------------------------------------------------------------------------------------
def iep_marking(permitted_actions: str, **extra: Any) -> dict[str, Any]:
    """An IEP 2.0 marking definition (cti-stix-common-objects, iep-marking-definition-762)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid4()}",
        "created": "2024-01-01T00:00:00.000Z",
        "name": f"IEP {permitted_actions}",
        "extensions": {
            IEP_EXTENSION_ID: {
                "extension_type": "property-extension",
                "encrypt_in_transit": "may",
                "permitted_actions": permitted_actions,
                "affected_party_notifications": "may",
                "tlp": "green",
                "provider_attribution": "may",
                "unmodified_resale": "must-not",
                "iep_id": str(uuid.uuid4()),
                "iep_version": 2.0,
                "description": "test policy",
                "start_date": "2022-10-01T00:00:00Z",
                **extra,
            }
        },
    }


def marked(pattern: str, *, tlp: Tlp = Tlp.GREEN, **extra: Any) -> dict[str, Any]:
    refs = [TLP2_MARKING[tlp], *extra.pop("object_marking_refs", [])]
    return indicator(pattern=pattern, object_marking_refs=refs, **extra)


@pytest.fixture
def aw(tmp_path: Path) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path)


@pytest.fixture
def france(aw: AgreementWorld) -> dict[str, Any]:
    """A partner sharing with France pushes one indicator per rule; the cast, by role."""
    partner: Partner = aw.partner("exporter", ["FR"])
    internal = iep_marking("internally-visible-actions")
    pending = iep_marking("externally-visible-direct-actions", start_date="2999-01-01T00:00:00Z")
    cast = {
        "plain": marked(
            "[ipv4-addr:value = '203.0.113.10'] OR [domain-name:value = 'Bad.Example.COM']",
            confidence=80,
            labels=["c2", "=formula"],
            name='=HYPERLINK("http://evil")',
        ),
        "hashes": marked(
            "[file:hashes.'SHA-256' = "
            "'AEBE3B8E4E5C1D7E0F8A1B2C3D4E5F60718293A4B5C6D7E8F9012345678ABCDE' "
            "OR file:hashes.MD5 = '0123456789abcdef0123456789abcdef']",
            confidence=60,
        ),
        "url": marked(
            "[url:value = 'http://malware.example.net/drop/a.exe?id=\"1;2\"']", confidence=90
        ),
        "v6": marked("[ipv6-addr:value = '2001:DB8:0:0::7']", confidence=90),
        "amber": marked("[ipv4-addr:value = '203.0.113.20']", tlp=Tlp.AMBER, confidence=90),
        "low": marked("[ipv4-addr:value = '203.0.113.30']", confidence=10),
        "expired": marked(
            "[ipv4-addr:value = '203.0.113.40']",
            confidence=90,
            valid_until="2024-06-01T00:00:00Z",
        ),
        "future": marked(
            "[ipv4-addr:value = '203.0.113.45']", confidence=90, valid_from="2999-01-01T00:00:00Z"
        ),
        "revoked": marked("[ipv4-addr:value = '203.0.113.50']", confidence=90),
        "internal": marked(
            "[ipv4-addr:value = '203.0.113.60']",
            confidence=90,
            object_marking_refs=[internal["id"]],
        ),
        "pending": marked(
            "[domain-name:value = 'pending.example.org']",
            confidence=90,
            object_marking_refs=[pending["id"]],
        ),
        "and": marked(
            "[ipv4-addr:value = '203.0.113.70' AND domain-name:value = 'and.example.org']",
            confidence=90,
        ),
        "qualified": marked(
            "[ipv4-addr:value = '203.0.113.80'] REPEATS 5 TIMES WITHIN 60 SECONDS", confidence=90
        ),
    }
    aw.submit(partner, internal, pending, *cast.values())
    revoked = {
        **cast["revoked"],
        "modified": "2024-02-01T00:00:00.000Z",
        "revoked": True,
    }
    aw.submit(partner, revoked)
    return {"partner": partner, "cast": cast, "internal": internal, "pending": pending}


def get(aw: AgreementWorld, fmt: str, **params: str) -> Any:
    response = aw.client.get(
        export_url(country_collection_id("FR"), fmt), params=params, headers=aw.analyst("FR")
    )
    assert response.status_code == 200, response.text
    return response


def lines(aw: AgreementWorld, fmt: str, **params: str) -> list[str]:
    return list(get(aw, fmt, **params).text.splitlines())


def test_blocklists_hold_what_may_be_blocked_sorted_and_canonical(
    aw: AgreementWorld, france: dict[str, Any]
) -> None:
    assert lines(aw, "ipv4") == ["203.0.113.10", "203.0.113.20", "203.0.113.30"]
    assert lines(aw, "ipv6") == ["2001:db8::7"]
    assert lines(aw, "domains") == ["bad.example.com"]
    assert lines(aw, "urls") == ['http://malware.example.net/drop/a.exe?id="1;2"']
    assert lines(aw, "hashes") == [
        "0123456789abcdef0123456789abcdef",
        "aebe3b8e4e5c1d7e0f8a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcde",
    ]


def test_filters_apply_to_blocklists(aw: AgreementWorld, france: dict[str, Any]) -> None:
    assert lines(aw, "ipv4", min_confidence="50") == ["203.0.113.10", "203.0.113.20"]
    assert lines(aw, "ipv4", max_tlp="green") == ["203.0.113.10", "203.0.113.30"]
    assert lines(aw, "ipv4", max_tlp="clear") == []
    assert lines(aw, "ipv4", **{"match[id]": france["cast"]["amber"]["id"]}) == ["203.0.113.20"]
    assert lines(aw, "ipv4", **{"match[type]": "malware"}) == []
    later = aw.client.get(
        f"/hub/collections/{country_collection_id('FR')}/objects/",
        headers={**aw.analyst("FR"), "Accept": "application/taxii+json;version=2.1"},
    ).headers["X-TAXII-Date-Added-Last"]
    assert lines(aw, "ipv4", added_after=later) == []


def test_internal_actions_are_enough_for_detection_but_not_for_blocking(
    aw: AgreementWorld, france: dict[str, Any]
) -> None:
    rules = get(aw, "suricata").text
    assert "[203.0.113.60]" in rules  # IEP internally-visible-actions: an IDS may alert
    assert "203.0.113.60" not in lines(aw, "ipv4")  # ... but no one may block it
    misp = get(aw, "misp").json()
    values = {a["value"] for a in misp["Event"]["Attribute"]}
    assert "203.0.113.60" in values


def test_what_no_automated_tool_may_use_is_in_no_tool_format(
    aw: AgreementWorld, france: dict[str, Any]
) -> None:
    gone = ("203.0.113.40", "203.0.113.45", "203.0.113.50", "pending.example.org")
    gone += ("203.0.113.70", "and.example.org", "203.0.113.80")
    for fmt in (*BLOCKLISTS, "suricata", "misp"):
        text = get(aw, fmt).text
        for value in gone:
            assert value not in text, (fmt, value)


def test_a_revoked_indicator_is_in_no_export_at_all(
    aw: AgreementWorld, france: dict[str, Any]
) -> None:
    revoked = france["cast"]["revoked"]["id"]
    for fmt in FORMATS:
        assert revoked not in get(aw, fmt).text, fmt
        assert "203.0.113.50" not in get(aw, fmt).text, fmt


def test_the_bundle_carries_every_latest_version_but_the_revoked(
    aw: AgreementWorld, france: dict[str, Any]
) -> None:
    bundle = get(aw, "bundle").json()
    assert set(bundle) == {"type", "id", "objects"}
    assert bundle["type"] == "bundle"
    assert re.fullmatch(r"bundle--[0-9a-f-]{36}", bundle["id"])
    assert uuid.UUID(bundle["id"][8:]).version == 4
    ids = [o["id"] for o in bundle["objects"]]
    assert len(ids) == len(set(ids))  # one (the latest) version of each object
    cast = france["cast"]
    expected = {o["id"] for name, o in cast.items() if name != "revoked"}
    expected |= {france["internal"]["id"], france["pending"]["id"]}
    assert expected <= set(ids)
    assert cast["revoked"]["id"] not in ids
    # Expired and not-simple indicators are intelligence still: only tools do not get them.
    assert {cast["expired"]["id"], cast["and"]["id"]} <= set(ids)
    only_indicators = get(aw, "bundle", **{"match[type]": "indicator"}).json()["objects"]
    assert {o["type"] for o in only_indicators} == {"indicator"}


def test_the_csv_reads_back_with_the_csv_module(aw: AgreementWorld, france: dict[str, Any]) -> None:
    text = get(aw, "csv").text
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert header == [
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
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    cast = france["cast"]
    assert set(by_id) == {o["id"] for name, o in cast.items() if name != "revoked"}
    plain = by_id[cast["plain"]["id"]]
    assert plain["pattern"] == cast["plain"]["pattern"]
    assert plain["confidence"] == "80"
    assert plain["labels"] == "c2;'=formula"
    assert plain["name"] == '\'=HYPERLINK("http://evil")'  # never run as a formula
    assert plain["tlp"] == "green"
    assert plain["revoked"] == "false"
    assert by_id[cast["amber"]["id"]]["tlp"] == "amber"
    assert by_id[cast["expired"]["id"]]["valid_until"] == "2024-06-01T00:00:00Z"
    assert by_id[cast["url"]["id"]]["pattern"] == cast["url"]["pattern"]


def test_suricata_and_misp_name_the_indicators(aw: AgreementWorld, france: dict[str, Any]) -> None:
    cast = france["cast"]
    rules = get(aw, "suricata").text.splitlines()
    by_msg = {re.search(r'msg:"([^"]*)"', rule).group(1): rule for rule in rules}  # type: ignore[union-attr]
    assert f"exchange ipv4 {cast['plain']['id']}" in by_msg
    assert f"exchange domain {cast['plain']['id']}" in by_msg
    url_rule = by_msg[f"exchange url {cast['url']['id']}"]
    assert 'http.host; content:"malware.example.net"; bsize:19;' in url_rule
    assert 'http.uri; content:"/drop/a.exe?id=|22|1|3B|2|22|"; bsize:20;' in url_rule
    assert not any("sha256" in rule or "md5" in rule for rule in rules)
    sids = [int(re.search(r"sid:(\d+);", rule).group(1)) for rule in rules]  # type: ignore[union-attr]
    assert len(sids) == len(set(sids))
    event = orjson.loads(get(aw, "misp").content)["Event"]
    attributes = {(a["type"], a["value"]): a for a in event["Attribute"]}
    assert attributes[("ip-dst", "203.0.113.10")]["comment"] == cast["plain"]["id"]
    assert attributes[("domain", "bad.example.com")]["to_ids"] is True
    assert attributes[("md5", "0123456789abcdef0123456789abcdef")]["category"] == "Payload delivery"
    assert attributes[("ip-dst", "203.0.113.20")]["Tag"] == [{"name": "tlp:amber"}]
    assert event["Tag"] == [{"name": "tlp:amber"}]


def test_expiry_and_ended_policies_are_judged_at_the_hubs_now(aw: AgreementWorld) -> None:
    """An indicator valid for another hour, and an IEP policy that ends tomorrow: both feed
    blocklists until the hub's clock passes them."""
    partner = aw.partner("timely", ["FR"])
    hour = (aw.clock.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    tomorrow = (aw.clock.now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = iep_marking("externally-visible-indirect-actions", end_date=tomorrow)
    brief = marked("[ipv4-addr:value = '198.51.100.90']", valid_until=hour)
    governed = marked(
        "[domain-name:value = 'governed.example.org']", object_marking_refs=[policy["id"]]
    )
    aw.submit(partner, policy, brief, governed)
    assert lines(aw, "ipv4") == ["198.51.100.90"]
    assert lines(aw, "domains") == ["governed.example.org"]
    aw.clock.advance(hours=2)
    assert lines(aw, "ipv4") == []
    assert lines(aw, "domains") == ["governed.example.org"]
    aw.clock.advance(days=1)
    assert lines(aw, "domains") == []
    assert {o["id"] for o in get(aw, "bundle").json()["objects"]} >= {brief["id"], governed["id"]}
