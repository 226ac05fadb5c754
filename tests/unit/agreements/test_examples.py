"""Real OASIS example bundles through gather_facts + decide, under several agreements.

Expectations are worked out here from the files themselves (TLP ids written out again,
victims and countries listed by hand after reading the files), not by calling the clauses.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from exchange.agreements.facts import gather_facts
from exchange.agreements.policy import Decision, decide, hub_objects, policy_for
from exchange.agreements.terms import AgreementTerms
from tests.unit.agreements import support as s

# TLP rank by marking id (STIX 2.1 7.2.1.4, OASIS TLP 2.0), independent of the code under test.
RANK = {
    s.TLP1_WHITE: 0,
    s.TLP2_CLEAR: 0,
    s.TLP1_GREEN: 1,
    s.TLP2_GREEN: 1,
    s.TLP1_AMBER: 2,
    s.TLP2_AMBER: 2,
    s.TLP2_AMBER_STRICT: 3,
    s.TLP1_RED: 4,
    s.TLP2_RED: 4,
}
PUBLIC = {"cve", "capec", "cwe", "mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"}

# Victims in cti-documentation, read off the files: the party targeted in
# defining-campaigns-threat-actors-intrusion-sets.json, with every relationship naming it.
# apt1.json's four individuals are not victims: each is the target of a threat actor's
# attributed-to relationship, a persona of the attacker (threat data).
APT1_INDIVIDUALS = {
    "identity--a9119a87-6576-46af-bfd7-4fbe55926671",
    "identity--e88ab115-7768-4630-baa3-3d49a7d946ea",
    "identity--0e9d20d9-fb11-42e3-94bc-b89fb5b007ca",
    "identity--ecf1c7de-d96c-41c6-a510-b9c65cdc9e3b",
}
BRANISTAN_PARTY = "identity--ddfe7140-2ba4-48e4-b19a-df069432103b"


def _load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    objects: list[dict[str, Any]] = data["objects"] if data.get("type") == "bundle" else [data]
    return objects


def _documentation(stix_data: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for path in sorted((stix_data / "examples" / "cti-documentation").glob("*.json")):
        yield path.name, _load(path)


def _victims(objects: list[dict[str, Any]]) -> set[str]:
    core = {o["id"] for o in objects} & {BRANISTAN_PARTY}
    linked = {
        o["id"]
        for o in objects
        if o["type"] == "relationship" and {o["source_ref"], o["target_ref"]} & core
    }
    return core | linked


def _rank(obj: dict[str, Any]) -> int | None:
    refs = list(obj.get("object_marking_refs", []))
    refs += [g["marking_ref"] for g in obj.get("granular_markings", []) if "marking_ref" in g]
    ranks = [RANK[r] for r in refs if r in RANK]
    return max(ranks) if ranks else None


def _audience(decision: Decision) -> frozenset[str] | None:
    """Who receives the object: None when refused, empty when kept in the inbox."""
    if not decision.accepted:
        return None
    return decision.redistributed.audience if decision.redistributed else frozenset()


def _run(
    objects: list[dict[str, Any]], agreement: AgreementTerms, audience: frozenset[str] = s.AUDIENCE
) -> tuple[dict[str, Decision], list[dict[str, Any]]]:
    ctx = s.context(objects, agreement_terms=agreement, audience=audience)
    policy = policy_for(agreement)
    return {o["id"]: decide(o, ctx, policy) for o in objects}, hub_objects(ctx)


def test_documentation_named_redacted(stix_data: Path) -> None:
    agreement = s.terms(victim_data="redact", tlp={"highest_accepted": "red"})
    seen_victims = 0
    for name, objects in _documentation(stix_data):
        victims = _victims(objects)
        decisions, _ = _run(objects, agreement)
        for obj in objects:
            decision = decisions[obj["id"]]
            rank = _rank(obj)
            where = f"{name}: {obj['id']}"
            if rank == 4:
                assert decision.code == "accepted_not_redistributed", where
                continue
            assert decision.code == "accepted", where
            assert decision.redistributed is not None
            assert decision.redistributed.audience == s.AUDIENCE
            out = dict(decision.redistributed.obj)
            if obj["type"] != "marking-definition" and rank is None:
                assert out["object_marking_refs"][-1] == s.TLP2_AMBER, where
            if obj["id"] in victims:
                seen_victims += 1
                if obj["type"] == "identity":
                    assert out["name"] == "Redacted victim"
                    assert "contact_information" not in out
                    assert out.get("sectors") == obj.get("sectors")
                if obj["type"] == "relationship":
                    assert "description" not in out
            else:
                # Nothing else is changed beyond the default marking.
                out.pop("object_marking_refs", None)
                original = {k: v for k, v in obj.items() if k != "object_marking_refs"}
                assert out == original, where
    # The party, 5 targets and 1 impersonates (apt1's personas are threat data).
    assert seen_victims == 1 + 6


def test_documentation_anonymous_refusing_victims(stix_data: Path) -> None:
    agreement = s.terms(victim_data="refuse", attribution="anonymous")
    for name, objects in _documentation(stix_data):
        victims = _victims(objects)
        producers = {o["created_by_ref"] for o in objects if "created_by_ref" in o}
        decisions, extra = _run(objects, agreement)
        shipped = []
        for obj in objects:
            decision = decisions[obj["id"]]
            where = f"{name}: {obj['id']}"
            if obj["id"] in victims:
                assert decision.code == "victim_data_refused", where
            elif (_rank(obj) or 0) == 4:
                assert decision.code == "tlp_too_high", where
            elif obj["id"] in producers or (
                obj["type"] == "marking-definition" and obj["id"] not in RANK
            ):
                assert decision.code == "accepted_not_redistributed", where
            else:
                assert decision.code == "accepted", where
                assert decision.redistributed is not None
                out = dict(decision.redistributed.obj)
                shipped.append(out)
                if "created_by_ref" in obj:
                    assert out["created_by_ref"] == s.HUB
                assert not [k for k in out if k.startswith("x_")]
                for ref in out.get("external_references", []):
                    assert ref["source_name"] in PUBLIC
        text = orjson.dumps(shipped + extra).decode()
        for producer in producers:
            assert producer not in text, name
        for obj in objects:
            if obj["id"] in producers and "name" in obj:
                assert obj["name"] not in text, name


def test_documentation_victim_country_without_countries(stix_data: Path) -> None:
    agreement = s.terms(victim_data="victim-country", attribution="pseudonymous")
    for name, objects in _documentation(stix_data):
        victims = _victims(objects)
        decisions, _ = _run(objects, agreement)
        for obj in objects:
            if obj["id"] in victims:  # no victim in these files says where it is
                assert decisions[obj["id"]].code == "victim_country_unknown", name


# The Mandiant APT1 report (elevator idioms): "APT1 Tactics, Techniques and Procedures" is
# targeted by a threat actor and located-at 15 locations, 13 with an alpha-2 country.
APT1_VICTIM = "identity--c63f31ac-871b-4846-aa25-de1926f4f3c8"
APT1_COUNTRIES = {"US", "CA", "GB", "NO", "FR", "BE", "LU", "CH", "IL", "ZA", "IN", "JP", "SG"}


@pytest.fixture
def mandiant(stix_data: Path) -> list[dict[str, Any]]:
    """The elevator's Mandiant APT1 bundle."""
    path = stix_data / "examples" / "cti-stix-elevator-idioms-2.1" / "Mandiant_APT1_Report.json"
    return _load(path)


def test_mandiant_victim_country(mandiant: list[dict[str, Any]]) -> None:
    by_id = {o["id"]: o for o in mandiant}
    victim = APT1_VICTIM
    audience = frozenset({"FR", "DE", "JP", "US", "BR"})
    decisions, _ = _run(mandiant, s.terms(victim_data="victim-country"), audience)
    expected_audience = frozenset({"FR", "JP", "US"})
    assert _audience(decisions[victim]) == expected_audience
    located = [
        o
        for o in mandiant
        if o["type"] == "relationship"
        and o["relationship_type"] == "located-at"
        and o["source_ref"] == victim
    ]
    assert len(located) == 15
    for rel in located:
        place = by_id[rel["target_ref"]]
        country = place.get("country", "")
        location_decision = decisions[place["id"]]
        if len(country) == 2:
            assert country in APT1_COUNTRIES
            expected = audience & {country}
            assert _audience(location_decision) == expected, country
        else:  # "UAE", "Taiwan": not alpha-2, so unknown
            assert location_decision.code == "victim_country_unknown", country
        assert _audience(decisions[rel["id"]]) == expected_audience
    targets = next(
        o for o in mandiant if o["type"] == "relationship" and o["relationship_type"] == "targets"
    )
    assert _audience(decisions[targets["id"]]) == expected_audience
    # The three individuals are the actor's personas (attributed-to): threat data for everyone.
    people = [o["id"] for o in mandiant if o.get("identity_class") == "individual"]
    assert len(people) == 3
    personas = {
        o["target_ref"]
        for o in mandiant
        if o["type"] == "relationship" and o["relationship_type"] == "attributed-to"
    }
    assert set(people) <= personas
    assert {decisions[p].code for p in people} == {"accepted"}
    assert all(_audience(decisions[p]) == audience for p in people)
    # The threat actor itself is threat data and goes to every recipient.
    actor = targets["source_ref"]
    assert _audience(decisions[actor]) == audience


def test_mandiant_anonymous_drops_mitre(mandiant: list[dict[str, Any]]) -> None:
    mitre = "identity--a957579f-7388-4553-af4e-3aa044c52444"  # every object's created_by_ref
    decisions, extra = _run(mandiant, s.terms(victim_data="redact", attribution="anonymous"))
    assert decisions[mitre].code == "accepted_not_redistributed"
    shipped = [dict(d.redistributed.obj) for d in decisions.values() if d.redistributed]
    assert mitre not in orjson.dumps(shipped + extra).decode()
    assert all(o.get("created_by_ref", s.HUB) == s.HUB for o in shipped)


# Elevator idioms with victims: campaign-v-actors.json and incident-malware.json.
def test_campaign_v_actors_anonymous_refusing_victims(stix_data: Path) -> None:
    objects = _load(
        stix_data / "examples" / "cti-stix-elevator-idioms-2.1" / "campaign-v-actors.json"
    )
    decisions, _ = _run(objects, s.terms(attribution="anonymous"))
    refused = {
        "identity--2d1c6ab3-5e4e-48ac-a32b-f0c01c2836a8",  # targeted
        "relationship--e41cbdc2-0e04-4e15-adfb-f49586195fe0",  # targets it
        "relationship--4bf6433b-fb11-4a54-a9fb-24dc8910d94a",  # incident attributed-to
        "relationship--729cae34-5226-4a4a-aaee-826f5c22834c",
        "relationship--4f575cd0-cf7b-4d19-958a-6ad865d7fa4c",
    }
    producers_here = {
        "identity--78cef5d1-b4d4-49ee-b173-211d7b7763e1",  # ACME CORP, created by itself
        "identity--598daac6-3957-44da-8d9c-76315ae068c7",
    }
    for stix_id, decision in decisions.items():
        if stix_id in refused:
            assert decision.code == "victim_data_refused", stix_id
        elif stix_id in producers_here:
            assert decision.code == "accepted_not_redistributed", stix_id
        else:
            assert decision.code == "accepted", stix_id
    located = decisions["relationship--06cba803-b56e-40ee-a7db-d0a16ebc240a"].redistributed
    assert located is not None
    assert located.obj["source_ref"] == s.HUB
    report = decisions["report--fd8c6760-88ef-4537-9e37-68ef5afe3afd"].redistributed
    assert report is not None
    assert report.obj["object_refs"].count(s.HUB) == 1
    text = orjson.dumps([dict(d.redistributed.obj) for d in decisions.values() if d.redistributed])
    assert b"ACME CORP" not in text
    assert b"78cef5d1" not in text
    assert b"ais-consent" not in text  # the producer's labels went with its identity


def test_incident_malware(stix_data: Path) -> None:
    objects = _load(
        stix_data / "examples" / "cti-stix-elevator-idioms-2.1" / "incident-malware.json"
    )
    decisions, _ = _run(objects, s.terms())
    assert decisions["incident--1b75ee8f-44d6-419a-9729-09ab52c91fdb"].code == "victim_data_refused"
    # Its relationship names an incident id that is not in the bundle (a typo in the idiom):
    # a reference to an incident is victim data all the same.
    assert decisions["relationship--5a04c7d2-9dcc-44f1-a5b4-45904364e877"].code == (
        "victim_data_refused"
    )
    assert decisions["malware--6516102d-b693-41e3-bfd7-0800271e87d2"].code == "accepted"
    redacted, _ = _run(objects, s.terms(victim_data="redact"))
    incident = redacted["incident--1b75ee8f-44d6-419a-9729-09ab52c91fdb"].redistributed
    assert incident is not None
    assert incident.obj["name"] == "Redacted incident"
    assert "Fred" not in orjson.dumps(incident.obj).decode()
    assert "external_references" not in incident.obj


# Whatever the agreement, what is redistributed is still valid STIX 2.1.
@pytest.fixture(scope="module")
def valid_inputs(stix_data: Path) -> list[tuple[str, list[dict[str, Any]], set[str]]]:
    """Example bundles, each with the ids of its objects the STIX 2.1 validator accepts."""
    validator = pytest.importorskip("stix2validator")
    options = validator.ValidationOptions(version="2.1")
    files = [
        *sorted((stix_data / "examples" / "cti-documentation").glob("*.json")),
        stix_data / "examples" / "cti-stix-elevator-idioms-2.1" / "Mandiant_APT1_Report.json",
        stix_data / "examples" / "cti-stix-elevator-idioms-2.1" / "campaign-v-actors.json",
    ]
    found = []
    for path in files:
        objects = _load(path)
        valid = {o["id"] for o in objects if validator.validate_instance(o, options).is_valid}
        found.append((path.name, objects, valid))
    return found


@pytest.mark.parametrize("attribution", ["named", "pseudonymous", "anonymous"])
@pytest.mark.parametrize("victim_data", ["redact", "victim-country"])
def test_redistributed_objects_stay_valid(
    valid_inputs: list[tuple[str, list[dict[str, Any]], set[str]]],
    attribution: str,
    victim_data: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    validator = pytest.importorskip("stix2validator")
    options = validator.ValidationOptions(version="2.1")
    caplog.set_level(logging.CRITICAL)
    agreement = s.terms(attribution=attribution, victim_data=victim_data)
    checked = 0
    for name, objects, valid in valid_inputs:
        decisions, extra = _run(objects, agreement, frozenset(APT1_COUNTRIES))
        for obj in objects:
            out = decisions[obj["id"]].redistributed
            if obj["id"] in valid and out is not None:  # an invalid input is not the engine's
                result = validator.validate_instance(dict(out.obj), options)
                assert result.is_valid, (name, obj["id"], [str(e) for e in result.errors])
                checked += 1
        for obj in extra:
            assert validator.validate_instance(obj, options).is_valid
    assert checked > 300


def test_gather_facts_on_mandiant(mandiant: list[dict[str, Any]]) -> None:
    facts = gather_facts(mandiant)
    assert facts.producer_ids == {"identity--a957579f-7388-4553-af4e-3aa044c52444"}
    assert facts.countries_of(APT1_VICTIM) == APT1_COUNTRIES
