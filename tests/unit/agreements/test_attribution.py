"""Anonymous and pseudonymous attribution: what recipients see, and that nothing leaks.

The leak tests plant partner markers everywhere a partner could put them, run a whole envelope
through the engine, and search the JSON of everything the countries would receive (the
redistributed objects and the hub's own objects) for any of them.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from exchange.agreements.clauses import Anonymous
from exchange.agreements.facts import gather_facts
from exchange.agreements.policy import Decision, Item, Refuse, decide, hub_objects, policy_for
from exchange.agreements.terms import Category
from tests.unit.agreements import support as s

PARTNER_NAME = "Acme Threat Labs"
LEGAL = "identity--acacacac-2222-4222-8333-444455556666"  # creator of a partner marking
STATEMENT_ID = "marking-definition--acacacac-3333-4222-8333-444455556666"
HOMEMADE_ID = "marking-definition--acacacac-4444-4222-8333-444455556666"
EXTDEF_ID = "extension-definition--acacacac-5555-4222-8333-444455556666"
IEP_ID = "marking-definition--e0000000-0000-4000-8000-0000000000b1"
PARTNER_IEP_UUID = "acacacac-6666-4222-8333-444455556666"
MITRE = {"source_name": "mitre-attack", "external_id": "T1566.001"}


def partner_envelope() -> list[dict[str, Any]]:
    """Everything a partner might send, with markers planted in every hiding place."""
    partner = s.identity(
        s.PARTNER,
        PARTNER_NAME,
        created_by_ref=s.PARTNER,
        contact_information="soc@acme.example",
        x_acme_tier="PLANTED-IDENTITY",
    )
    statement: dict[str, Any] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": STATEMENT_ID,
        "created": "2026-01-01T00:00:00.000Z",
        "created_by_ref": LEGAL,
        "definition_type": "statement",
        "definition": {"statement": "Copyright Acme Threat Labs PLANTED-STATEMENT"},
    }
    homemade: dict[str, Any] = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": HOMEMADE_ID,
        "created": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "name": "ACME-INTERNAL PLANTED-HOMEMADE",
        "extensions": {EXTDEF_ID: {"extension_type": "property-extension", "level": "internal"}},
    }
    iep = s.iep_marking(
        IEP_ID,
        "amber",
        iep_id=PARTNER_IEP_UUID,
        description="Acme Threat Labs sharing policy PLANTED-IEP",
        x_acme="PLANTED-IEP-X",
    )
    iep["created_by_ref"] = s.PARTNER
    iep["name"] = "Acme IEP PLANTED-IEP-NAME"
    iep["external_references"] = [
        {"source_name": "acme-iep", "url": "https://acme.example/iep/PLANTED-IEP-URL"}
    ]
    extdef: dict[str, Any] = {
        "type": "extension-definition",
        "spec_version": "2.1",
        "id": EXTDEF_ID,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "name": "Acme scoring PLANTED-EXTDEF",
        "schema": "https://acme.example/schema/PLANTED-EXTDEF",
        "version": "1.0.0",
        "extension_types": ["property-extension"],
    }
    indicator = s.indicator(
        1,
        created_by_ref=s.PARTNER,
        description="Phishing kit URL",
        x_acme_score="PLANTED-X-PROP",
        acme_internal_ref="PLANTED-CUSTOM",
        labels=["phishing"],
        external_references=[
            {
                "source_name": "acme-portal",
                "url": "https://portal.acme.example/PLANTED-EXTREF-URL",
                "description": "PLANTED-EXTREF-DESC",
                "external_id": "ACME-1",
            },
            {
                **MITRE,
                "url": "https://attack.mitre.org/techniques/T1566/001?via=PLANTED-MITRE-URL",
                "description": "PLANTED-MITRE-DESC",
            },
            {"source_name": "cve", "external_id": "CVE-2024-3094"},
            {"source_name": "cve", "external_id": "PLANTED-NOT-A-CVE"},
        ],
        object_marking_refs=[s.TLP2_GREEN, STATEMENT_ID, IEP_ID, HOMEMADE_ID],
        granular_markings=[
            {"marking_ref": STATEMENT_ID, "selectors": ["description"]},
            {"marking_ref": HOMEMADE_ID, "selectors": ["name"]},
            {"marking_ref": s.TLP2_GREEN, "selectors": ["pattern"], "x_acme": "PLANTED-GRANULAR"},
            {"marking_ref": s.TLP2_GREEN, "selectors": ["x_acme_score"]},
        ],
        extensions={EXTDEF_ID: {"extension_type": "property-extension", "s": "PLANTED-EXTENSION"}},
        kill_chain_phases=[
            {
                "kill_chain_name": "lockheed-martin-cyber-kill-chain",
                "phase_name": "delivery",
                "x_acme": "PLANTED-KCP",
                "acme_note": "PLANTED-KCP2",
            }
        ],
    )
    malware: dict[str, Any] = {
        "type": "malware",
        "spec_version": "2.1",
        "id": "malware--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "name": "Kit",
        "is_family": True,
        "object_marking_refs": [s.TLP2_GREEN],
    }
    indicates = s.relationship(
        1, "indicates", indicator["id"], malware["id"], created_by_ref=s.PARTNER
    )
    office = s.location("location--00000000-0000-4000-8000-000000000001", country="FR")
    located = s.relationship(2, "located-at", s.PARTNER, office["id"], created_by_ref=s.PARTNER)
    sighting: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": "sighting--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "sighting_of_ref": indicator["id"],
        "where_sighted_refs": [s.PARTNER],
        "count": 2,
    }
    archive: dict[str, Any] = {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--00000000-0000-5000-8000-000000000001",
        "name": "invoice.zip",
        "hashes": {"SHA-256": "a" * 64, "x_acme_hash": "PLANTED-HASH"},
        "x_acme_sandbox": "PLANTED-SCO-X",
        "extensions": {
            "archive-ext": {"contains_refs": [], "x_acme": "PLANTED-ARCHIVE"},
            "x-acme-ext": {"k": "PLANTED-OLD-EXT"},
            EXTDEF_ID: {"extension_type": "property-extension", "s": "PLANTED-SCO-EXT"},
        },
    }
    observed: dict[str, Any] = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "first_observed": "2026-01-01T00:00:00Z",
        "last_observed": "2026-01-01T00:00:00Z",
        "number_observed": 1,
        "objects": {"0": {"type": "url", "value": "http://bad.example/", "x_acme": "PLANTED-OD"}},
    }
    custom: dict[str, Any] = {
        "type": "x-acme-case",
        "spec_version": "2.1",
        "id": "x-acme-case--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "case": "PLANTED-CUSTOM-TYPE",
    }
    report: dict[str, Any] = {
        "type": "report",
        "spec_version": "2.1",
        "id": "report--00000000-0000-4000-8000-000000000001",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "created_by_ref": s.PARTNER,
        "name": "Weekly phishing",
        "published": "2026-01-01T00:00:00Z",
        "object_refs": [indicator["id"], s.PARTNER, STATEMENT_ID],
    }
    return [
        partner,
        statement,
        homemade,
        iep,
        extdef,
        indicator,
        malware,
        indicates,
        office,
        located,
        sighting,
        archive,
        observed,
        custom,
        report,
    ]


PLANTED = [
    s.PARTNER,
    LEGAL,
    STATEMENT_ID,
    HOMEMADE_ID,
    EXTDEF_ID,
    PARTNER_IEP_UUID,
    "acme",  # the partner's name and domain, in any case
    "planted",
]


def _run(attribution: str, **terms: Any) -> tuple[list[Decision], list[dict[str, Any]]]:
    envelope = partner_envelope()
    pristine = copy.deepcopy(envelope)
    agreement = s.terms(attribution=attribution, **terms)
    ctx = s.context(envelope, agreement_terms=agreement)
    policy = policy_for(agreement)
    decisions = [decide(obj, ctx, policy) for obj in envelope]
    assert envelope == pristine, "the engine changed what the partner sent"
    return decisions, hub_objects(ctx)


def _shipped(decisions: list[Decision], extra: list[dict[str, Any]]) -> str:
    objs = [dict(d.redistributed.obj) for d in decisions if d.redistributed is not None]
    return orjson.dumps(objs + extra).decode()


@pytest.mark.parametrize("victim_data", ["refuse", "redact", "victim-country"])
@pytest.mark.parametrize("highest", ["amber+strict", "red"])
def test_anonymous_leaks_nothing(victim_data: str, highest: str) -> None:
    decisions, extra = _run("anonymous", victim_data=victim_data, tlp={"highest_accepted": highest})
    shipped = _shipped(decisions, extra).casefold()
    for planted in PLANTED:
        assert planted.casefold() not in shipped, planted
    # And still useful: the indicator, malware, links, sighting and observables go out.
    out = {d.stix_id for d in decisions if d.redistributed is not None}
    assert {
        "indicator--00000000-0000-4000-8000-000000000001",
        "malware--00000000-0000-4000-8000-000000000001",
        "relationship--00000000-0000-4000-9000-000000000001",
        "sighting--00000000-0000-4000-8000-000000000001",
        "file--00000000-0000-5000-8000-000000000001",
        "observed-data--00000000-0000-4000-8000-000000000001",
        "report--00000000-0000-4000-8000-000000000001",
        IEP_ID,
    } <= out


def test_anonymous_decisions_per_object() -> None:
    decisions, extra = _run("anonymous")
    codes = {d.stix_id: d.code for d in decisions}
    kept_home = {
        s.PARTNER,  # the partner's identity
        STATEMENT_ID,  # a statement marking
        HOMEMADE_ID,  # a partner-made marking
        EXTDEF_ID,  # an extension definition
        "x-acme-case--00000000-0000-4000-8000-000000000001",  # a custom object type
    }
    for stix_id, code in codes.items():
        expected = "accepted_not_redistributed" if stix_id in kept_home else "accepted"
        assert code == expected, stix_id
    assert extra[0]["id"] == s.HUB


def _out(decisions: list[Decision], stix_id: str) -> dict[str, Any]:
    found = next(d for d in decisions if d.stix_id == stix_id)
    assert found.redistributed is not None
    return dict(found.redistributed.obj)


def test_anonymous_indicator_exactly() -> None:
    decisions, _ = _run("anonymous")
    assert _out(decisions, "indicator--00000000-0000-4000-8000-000000000001") == {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--00000000-0000-4000-8000-000000000001",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "name": "Bad URL",
        "pattern": "[url:value = 'http://bad.example/']",
        "pattern_type": "stix",
        "valid_from": "2026-02-01T00:00:00Z",
        "created_by_ref": s.HUB,
        "description": "Phishing kit URL",
        "labels": ["phishing"],
        "external_references": [MITRE, {"source_name": "cve", "external_id": "CVE-2024-3094"}],
        # TLP 2.0 GREEN and IEP stay; the IEP says AMBER, so the hub adds TLP:AMBER.
        "object_marking_refs": [s.TLP2_GREEN, IEP_ID, s.TLP2_AMBER],
        "granular_markings": [{"marking_ref": s.TLP2_GREEN, "selectors": ["pattern"]}],
        "kill_chain_phases": [
            {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}
        ],
    }


def test_anonymous_links_and_markings() -> None:
    decisions, _ = _run("anonymous")
    assert _out(decisions, "sighting--00000000-0000-4000-8000-000000000001")[
        "where_sighted_refs"
    ] == [s.HUB]
    assert _out(decisions, "relationship--00000000-0000-4000-9000-000000000002")["source_ref"] == (
        s.HUB
    )
    report = _out(decisions, "report--00000000-0000-4000-8000-000000000001")
    # The statement marking is not redistributed, so the report no longer points at it.
    assert report["object_refs"] == ["indicator--00000000-0000-4000-8000-000000000001", s.HUB]
    archive = _out(decisions, "file--00000000-0000-5000-8000-000000000001")
    assert archive["extensions"] == {"archive-ext": {"contains_refs": []}}
    assert archive["hashes"] == {"SHA-256": "a" * 64}
    observed = _out(decisions, "observed-data--00000000-0000-4000-8000-000000000001")
    assert observed["objects"] == {"0": {"type": "url", "value": "http://bad.example/"}}
    iep = _out(decisions, IEP_ID)
    body = iep["extensions"][s.IEP_EXT]
    assert body["tlp"] == "amber"
    assert body["iep_id"] != PARTNER_IEP_UUID
    assert "created_by_ref" not in iep
    assert {ref["source_name"] for ref in iep["external_references"]} == {"iep", "tlp"}


def test_anonymous_iep_id_depends_only_on_the_policy() -> None:
    first, _ = _run("anonymous")
    envelope = partner_envelope()
    iep = next(o for o in envelope if o["id"] == IEP_ID)
    other = copy.deepcopy(iep)
    other["extensions"][s.IEP_EXT]["iep_id"] = "bbbbbbbb-6666-4222-8333-444455556666"
    other["extensions"][s.IEP_EXT]["description"] = "someone else's words"
    ctx = s.context([other], agreement_terms=s.terms(attribution="anonymous"))
    second = decide(other, ctx, policy_for(ctx.terms))
    assert second.redistributed is not None
    assert (
        second.redistributed.obj["extensions"][s.IEP_EXT]["iep_id"]
        == _out(first, IEP_ID)["extensions"][s.IEP_EXT]["iep_id"]
    )


# Anonymous on single objects: a table like the other clauses'.
BY_PARTNER = s.indicator(
    9, created_by_ref=s.PARTNER, object_marking_refs=[s.TLP2_AMBER], x_acme="PLANTED"
)


@pytest.mark.parametrize(
    ("obj", "expect"),
    [
        pytest.param(
            BY_PARTNER,
            (
                {k: v for k, v in {**BY_PARTNER, "created_by_ref": s.HUB}.items() if k != "x_acme"},
                s.AUDIENCE,
            ),
            id="created-by-replaced",
        ),
        pytest.param(
            s.identity(s.PARTNER, PARTNER_NAME), ("same", frozenset()), id="partner-identity"
        ),
        pytest.param(
            {**BY_PARTNER, "description": f"ask {s.PARTNER} for more"},
            "attribution_leak",
            id="id-in-free-text",
        ),
        pytest.param(
            {**BY_PARTNER, "type": "x-acme-thing", "id": "x-acme-thing--1"},
            ("same", frozenset()),
            id="custom-type",
        ),
        pytest.param(
            {
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": s.TLP1_RED,
                "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp",
                "name": "TLP:RED",
                "definition": {"tlp": "red"},
                "created_by_ref": s.PARTNER,
            },
            (
                {
                    "type": "marking-definition",
                    "spec_version": "2.1",
                    "id": s.TLP1_RED,
                    "created": "2017-01-20T00:00:00.000Z",
                    "definition_type": "tlp",
                    "name": "TLP:RED",
                    "definition": {"tlp": "red"},
                },
                s.AUDIENCE,
            ),
            id="tlp-definition-canonical",
        ),
    ],
)
def test_anonymous_clause(obj: dict[str, Any], expect: object) -> None:
    ctx = s.context([s.identity(s.PARTNER, PARTNER_NAME), obj, BY_PARTNER])
    before = copy.deepcopy(obj)
    result = Anonymous().apply(s.item(obj, Category.THREAT), ctx)
    assert obj == before
    if isinstance(expect, str):
        assert isinstance(result, Refuse)
        assert result.code == expect
        assert s.AGREEMENT in result.message
        return
    assert isinstance(result, Item)
    assert isinstance(expect, tuple)
    expected_obj, audience = expect
    assert result.obj == (obj if expected_obj == "same" else expected_obj)
    assert result.audience == audience


def test_leak_in_an_object_kept_home_is_not_refused() -> None:
    # A TLP:RED object stays in the inbox, so its free text cannot leak to anyone.
    obj = {**BY_PARTNER, "description": f"ask {s.PARTNER}"}
    ctx = s.context([obj])
    result = Anonymous().apply(s.item(obj, audience=frozenset()), ctx)
    assert isinstance(result, Item)
    assert not result.audience


# Pseudonymous ------------------------------------------------------------------------------
def test_pseudonymous_is_stable_and_hides_the_partner() -> None:
    first, extra_first = _run("pseudonymous")
    second, extra_second = _run("pseudonymous")
    assert extra_first == extra_second
    assert extra_first[0]["id"] == s.PSEUDONYM
    assert [d.redistributed for d in first] == [d.redistributed for d in second]
    indicator = _out(first, "indicator--00000000-0000-4000-8000-000000000001")
    assert indicator["created_by_ref"] == s.PSEUDONYM
    assert _out(first, "sighting--00000000-0000-4000-8000-000000000001")["where_sighted_refs"] == [
        s.PSEUDONYM
    ]
    shipped = _shipped(first, extra_first)
    assert s.PARTNER not in shipped
    assert LEGAL not in shipped
    # Pseudonymous only hides who the partner is as a STIX identity: unlike anonymous, it
    # keeps what the partner wrote, including its statement markings (terms.Attribution).
    assert "Copyright Acme Threat Labs PLANTED-STATEMENT" in shipped
    assert "PLANTED-X-PROP" in shipped
    assert next(d for d in first if d.stix_id == s.PARTNER).code == "accepted_not_redistributed"


def test_pseudonym_is_the_same_in_another_envelope() -> None:
    agreement = s.terms(attribution="pseudonymous")
    later = s.indicator(5, created_by_ref=s.PARTNER)
    ctx = s.context([s.identity(s.PARTNER, PARTNER_NAME), later], agreement_terms=agreement)
    decision = decide(later, ctx, policy_for(agreement))
    assert decision.redistributed is not None
    assert decision.redistributed.obj["created_by_ref"] == s.PSEUDONYM
    _, extra = _run("pseudonymous")
    assert hub_objects(ctx) == extra


def test_named_keeps_the_partner() -> None:
    decisions, extra = _run("named")
    indicator = _out(decisions, "indicator--00000000-0000-4000-8000-000000000001")
    assert indicator["created_by_ref"] == s.PARTNER
    assert indicator["x_acme_score"] == "PLANTED-X-PROP"
    assert all(o["type"] == "marking-definition" for o in extra)
    assert gather_facts(partner_envelope()).producer_ids == {s.PARTNER, LEGAL}
