"""Envelope facts: producers, victims, victim countries, marking definitions, categories."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.agreements.facts import category_of, gather_facts
from exchange.agreements.terms import Category
from tests.unit.agreements import support as s

ACTOR = "threat-actor--11111111-1111-4111-8111-111111111111"
CAMPAIGN = "campaign--22222222-2222-4222-8222-222222222222"
BANK = "identity--33333333-3333-4333-8333-333333333333"
PERSON = "identity--44444444-4444-4444-8444-444444444444"
SECTOR = "identity--55555555-5555-4555-8555-555555555555"
ANALYST = "identity--66666666-6666-4666-8666-666666666666"
ELSEWHERE = "identity--77777777-7777-4777-8777-777777777777"  # not in the envelope
INCIDENT = "incident--88888888-8888-4888-8888-888888888888"
PARIS = "location--99999999-9999-4999-8999-999999999999"
NOWHERE = "location--aaaaaaaa-9999-4999-8999-999999999999"
LISBON = "location--bbbbbbbb-9999-4999-8999-999999999999"
STATEMENT = "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"


def _envelope() -> list[Any]:
    return [
        s.identity(s.PARTNER, "Acme Threat Labs"),
        {
            "type": "threat-actor",
            "spec_version": "2.1",
            "id": ACTOR,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": "Bad actor",
            "created_by_ref": s.PARTNER,
        },
        s.identity(BANK, "Gotham National Bank", created_by_ref=s.PARTNER),
        s.identity(PERSON, "Jane Doe", identity_class="individual"),
        s.identity(SECTOR, "Banks", identity_class="class"),
        s.identity(ANALYST, "An analyst", identity_class="individual", created_by_ref=ANALYST),
        {
            "type": "incident",
            "spec_version": "2.1",
            "id": INCIDENT,
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "name": "Bank breach",
        },
        s.location(PARIS, country="fr", city="Paris"),
        s.location(NOWHERE, region="europe"),
        s.location(LISBON, country="Portugal"),  # not an alpha-2 code: ignored
        s.relationship(1, "targets", ACTOR, BANK),
        s.relationship(2, "targets", ACTOR, SECTOR),
        s.relationship(3, "targets", CAMPAIGN, ELSEWHERE),
        s.relationship(4, "targets", ACTOR, s.PARTNER),
        s.relationship(5, "located-at", BANK, PARIS),
        s.relationship(6, "located-at", PERSON, NOWHERE),
        s.relationship(7, "related-to", INCIDENT, BANK),
        s.relationship(8, "located-at", ACTOR, LISBON),
        s.relationship(9, "uses", ACTOR, CAMPAIGN),
        s.relationship(
            10, "attributed-to", "incident--cccccccc-8888-4888-8888-888888888888", ACTOR
        ),
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": "sighting--dddddddd-0000-4000-8000-000000000001",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "sighting_of_ref": "indicator--00000000-0000-4000-8000-000000000001",
            "where_sighted_refs": [BANK],
        },
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": "sighting--dddddddd-0000-4000-8000-000000000002",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "sighting_of_ref": "indicator--00000000-0000-4000-8000-000000000001",
            "where_sighted_refs": [s.PARTNER],
        },
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": STATEMENT,
            "created": "2026-01-01T00:00:00.000Z",
            "definition_type": "statement",
            "definition": {"statement": "Copyright Acme"},
            "created_by_ref": s.PARTNER,
        },
        "not an object",  # ignored
    ]


FACTS = gather_facts(_envelope())


def test_producers_are_every_created_by_ref_target() -> None:
    assert FACTS.producer_ids == {s.PARTNER, ANALYST}


def test_marking_definitions_by_id() -> None:
    assert set(FACTS.marking_definitions) == {STATEMENT}


@pytest.mark.parametrize(
    ("stix_id", "victim", "why"),
    [
        (BANK, True, "target of targets"),
        (PERSON, True, "individual"),
        (ELSEWHERE, True, "targeted, not in the envelope: nothing says it is not a victim"),
        (INCIDENT, True, "incident"),
        (SECTOR, False, "identity_class class"),
        (s.PARTNER, False, "targeted, but a producer"),
        (ANALYST, False, "individual, but a producer"),
        (ACTOR, False, "threat"),
        (PARIS, True, "where a victim is located"),
        (NOWHERE, True, "where a victim is located"),
        (LISBON, False, "where the actor is"),
        ("relationship--00000000-0000-4000-9000-000000000001", True, "targets a victim"),
        ("relationship--00000000-0000-4000-9000-000000000002", False, "targets a class"),
        ("relationship--00000000-0000-4000-9000-000000000003", True, "targets a victim"),
        ("relationship--00000000-0000-4000-9000-000000000004", False, "targets the producer"),
        ("relationship--00000000-0000-4000-9000-000000000005", True, "victim located-at"),
        ("relationship--00000000-0000-4000-9000-000000000006", True, "victim located-at"),
        ("relationship--00000000-0000-4000-9000-000000000007", True, "incident to victim"),
        ("relationship--00000000-0000-4000-9000-000000000008", False, "actor located-at"),
        ("relationship--00000000-0000-4000-9000-000000000009", False, "threat only"),
        ("relationship--00000000-0000-4000-9000-000000000010", True, "an incident elsewhere"),
        ("sighting--dddddddd-0000-4000-8000-000000000001", True, "sighted at a victim"),
        ("sighting--dddddddd-0000-4000-8000-000000000002", False, "sighted at the producer"),
    ],
)
def test_victims(stix_id: str, victim: bool, why: str) -> None:
    assert (stix_id in FACTS.victim_ids) is victim, why


@pytest.mark.parametrize(
    ("stix_id", "countries"),
    [
        (BANK, {"FR"}),  # upper-cased
        (PARIS, {"FR"}),
        (INCIDENT, {"FR"}),  # through the victim it is related to
        ("relationship--00000000-0000-4000-9000-000000000001", {"FR"}),
        ("relationship--00000000-0000-4000-9000-000000000007", {"FR"}),
        ("sighting--dddddddd-0000-4000-8000-000000000001", {"FR"}),
        (PERSON, set()),  # located at a region only
        (ELSEWHERE, set()),
        (LISBON, set()),
        (ACTOR, set()),
    ],
)
def test_victim_countries(stix_id: str, countries: set[str]) -> None:
    assert FACTS.countries_of(stix_id) == countries


@pytest.mark.parametrize(
    ("obj", "category"),
    [
        ({"type": "incident", "id": INCIDENT}, Category.VICTIM),
        ({"type": "identity", "id": BANK}, Category.VICTIM),
        ({"type": "identity", "id": SECTOR}, Category.THREAT),
        ({"type": "threat-actor", "id": ACTOR}, Category.THREAT),
        ({"type": "indicator", "id": "indicator--1"}, Category.THREAT),
        ({"type": "marking-definition", "id": STATEMENT}, Category.THREAT),
        ({"type": "sighting", "id": "sighting--x"}, Category.ATTACK),
        ({"type": "observed-data", "id": "observed-data--x"}, Category.ATTACK),
        ({"type": "ipv4-addr", "id": "ipv4-addr--x", "value": "198.51.100.1"}, Category.ATTACK),
        ({"type": "x509-certificate", "id": "x509-certificate--x"}, Category.ATTACK),
        ({"type": "x-acme-beacon", "id": "x-acme-beacon--x"}, Category.ATTACK),  # custom SCO
        (
            {"type": "x-acme-report", "id": "x-acme-report--x", "created": "2026-01-01T00:00:00Z"},
            Category.THREAT,  # custom SDO
        ),
        (
            {"type": "sighting", "id": "sighting--dddddddd-0000-4000-8000-000000000001"},
            Category.VICTIM,
        ),
    ],
)
def test_category_of(obj: dict[str, Any], category: Category) -> None:
    assert category_of(obj, FACTS) is category


def test_empty_envelope() -> None:
    facts = gather_facts([])
    assert not facts.producer_ids
    assert not facts.victim_ids
    assert not facts.marking_definitions
    assert facts.countries_of(BANK) == frozenset()
