"""One table per clause: what it accepts, refuses (with which code) and makes of an object.

A row's expectation is a refusal code (str), or the object and audience the clause returns.
Every row also checks that the object handed in is left exactly as it was.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from exchange.agreements.clauses import (
    AcceptedCategories,
    AcceptedTypes,
    IepNotEnded,
    InForce,
    Named,
    Pseudonymous,
    Recipients,
    RedactVictimData,
    RefuseVictimData,
    TlpMarking,
    Unknown,
    VictimCountryOnly,
)
from exchange.agreements.policy import Clause, Item, Refuse
from exchange.agreements.terms import Category, Tlp
from tests.unit.agreements import support as s

SAME = object()  # the expected object is the one handed in


@dataclass
class Row:
    """One table row."""

    clause: Clause
    obj: dict[str, Any]
    expect: str | tuple[object, frozenset[str]]
    category: Category = Category.THREAT
    envelope: list[dict[str, Any]] = field(default_factory=list)
    audience: frozenset[str] = s.AUDIENCE
    ctx_audience: frozenset[str] = s.AUDIENCE
    now: datetime = s.NOW


def check(row: Row) -> Item | Refuse:
    """Run one row and check it."""
    before = copy.deepcopy(row.obj)
    ctx = s.context([*row.envelope, row.obj], audience=row.ctx_audience, now=row.now)
    result = row.clause.apply(s.item(row.obj, row.category, audience=row.audience), ctx)
    assert row.obj == before, "the clause changed the object it was given"
    if isinstance(row.expect, str):
        assert isinstance(result, Refuse), result
        assert result.code == row.expect
        assert s.AGREEMENT in result.message
        return result
    assert isinstance(result, Item), result
    expected_obj, expected_audience = row.expect
    if expected_obj is SAME:
        assert result.obj == row.obj
    else:
        assert result.obj == expected_obj
    assert result.audience == expected_audience
    assert result.category is row.category
    return result


def rows(*items: tuple[str, Row]) -> pytest.MarkDecorator:
    """Parametrise a table, one named row each."""
    return pytest.mark.parametrize("row", [pytest.param(r, id=name) for name, r in items])


def plus(obj: Mapping[str, Any], **props: Any) -> dict[str, Any]:
    """A copy of ``obj`` with ``props`` set."""
    return {**obj, **props}


NONE: frozenset[str] = frozenset()
IND = s.indicator()

# --- InForce ---------------------------------------------------------------------------------
FROM = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2026, 6, 1, tzinfo=UTC)


@rows(
    ("inside", Row(InForce(FROM, UNTIL), IND, (SAME, s.AUDIENCE))),
    ("at-start", Row(InForce(FROM, UNTIL), IND, (SAME, s.AUDIENCE), now=FROM)),
    ("open-ended", Row(InForce(FROM, None), IND, (SAME, s.AUDIENCE))),
    ("before", Row(InForce(FROM, UNTIL), IND, "agreement_not_in_force", now=FROM - timedelta(1))),
    ("at-end", Row(InForce(FROM, UNTIL), IND, "agreement_not_in_force", now=UNTIL)),
    ("after", Row(InForce(FROM, None), IND, "agreement_not_in_force", now=FROM.replace(2025))),
)
def test_in_force(row: Row) -> None:
    check(row)


# --- AcceptedTypes ------------------------------------------------------------------------------
TYPES = AcceptedTypes(["indicator", "malware"])
TOOL = {"type": "tool", "spec_version": "2.1", "id": "tool--1", "name": "nmap"}


@rows(
    ("listed", Row(TYPES, IND, (SAME, s.AUDIENCE))),
    ("not-listed", Row(TYPES, TOOL, "type_not_accepted")),
    ("none-listed", Row(AcceptedTypes([]), IND, "type_not_accepted")),
    ("no-type", Row(TYPES, {"id": "x"}, "type_not_accepted")),
)
def test_accepted_types(row: Row) -> None:
    check(row)


# --- AcceptedCategories -------------------------------------------------------------------------
THREAT_ATTACK = AcceptedCategories([Category.THREAT, Category.ATTACK])


@rows(
    ("threat", Row(THREAT_ATTACK, IND, (SAME, s.AUDIENCE))),
    ("attack", Row(THREAT_ATTACK, IND, (SAME, s.AUDIENCE), category=Category.ATTACK)),
    ("victim", Row(THREAT_ATTACK, IND, "category_not_accepted", category=Category.VICTIM)),
    (
        "victim-only",
        Row(AcceptedCategories([Category.VICTIM]), IND, "category_not_accepted"),
    ),
    ("none", Row(AcceptedCategories([]), IND, "category_not_accepted")),
)
def test_accepted_categories(row: Row) -> None:
    check(row)


# --- Recipients ---------------------------------------------------------------------------------
@rows(
    ("same", Row(Recipients(), IND, (SAME, s.AUDIENCE))),
    (
        "narrowed",
        Row(
            Recipients(),
            IND,
            (SAME, frozenset({"FR"})),
            audience=frozenset({"FR", "US"}),
        ),
    ),
    ("no-recipients", Row(Recipients(), IND, (SAME, NONE), ctx_audience=NONE)),
)
def test_recipients(row: Row) -> None:
    check(row)


# --- IepNotEnded --------------------------------------------------------------------------------
IEP_ENDED = s.iep_marking("marking-definition--e0000000-0000-4000-8000-000000000001", "amber")
IEP_ENDED["extensions"][s.IEP_EXT]["end_date"] = "2026-02-01T00:00:00Z"
IEP_OPEN = s.iep_marking("marking-definition--e0000000-0000-4000-8000-000000000002", "amber")
IEP_LATER = s.iep_marking(
    "marking-definition--e0000000-0000-4000-8000-000000000003",
    "amber",
    end_date="2026-12-31T00:00:00Z",
)
IEP_NOW = s.iep_marking(
    "marking-definition--e0000000-0000-4000-8000-000000000004",
    "amber",
    end_date="2026-03-01T12:00:00Z",  # == s.NOW
)


def _marked(*refs: str, granular: str | None = None) -> dict[str, Any]:
    obj = plus(IND, object_marking_refs=list(refs))
    if granular is not None:
        obj["granular_markings"] = [{"marking_ref": granular, "selectors": ["description"]}]
        obj["description"] = "details"
    return obj


@rows(
    ("ended", Row(IepNotEnded(), _marked(IEP_ENDED["id"]), "iep_expired", envelope=[IEP_ENDED])),
    (
        "ended-granular",
        Row(IepNotEnded(), _marked(granular=IEP_ENDED["id"]), "iep_expired", envelope=[IEP_ENDED]),
    ),
    ("ends-now", Row(IepNotEnded(), _marked(IEP_NOW["id"]), "iep_expired", envelope=[IEP_NOW])),
    (
        "ends-later",
        Row(IepNotEnded(), _marked(IEP_LATER["id"]), (SAME, s.AUDIENCE), envelope=[IEP_LATER]),
    ),
    (
        "no-end",
        Row(IepNotEnded(), _marked(IEP_OPEN["id"]), (SAME, s.AUDIENCE), envelope=[IEP_OPEN]),
    ),
    ("not-in-envelope", Row(IepNotEnded(), _marked(IEP_ENDED["id"]), (SAME, s.AUDIENCE))),
    ("unmarked", Row(IepNotEnded(), IND, (SAME, s.AUDIENCE), envelope=[IEP_ENDED])),
    ("malformed", Row(IepNotEnded(), plus(IND, object_marking_refs="x"), "markings_invalid")),
)
def test_iep_not_ended(row: Row) -> None:
    check(row)


# --- TlpMarking ---------------------------------------------------------------------------------
def tlp(
    default: Tlp | None = Tlp.AMBER,
    highest: Tlp = Tlp.AMBER_STRICT,
    never: tuple[Tlp, ...] = (Tlp.RED,),
    honour_iep: bool = True,
) -> TlpMarking:
    """A TLP clause with the terms' defaults unless told otherwise."""
    return TlpMarking(
        default=default,
        highest_accepted=highest,
        never_redistribute=frozenset(never),
        honour_iep=honour_iep,
    )


IEP_RED = s.iep_marking("marking-definition--e0000000-0000-4000-8000-0000000000a1", "red")
IEP_AMBER = s.iep_marking("marking-definition--e0000000-0000-4000-8000-0000000000a2", "amber")
STATEMENT: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f",
    "created": "2017-04-14T13:07:49.812Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright (c) Stark Industries 2017."},
}
LOOKALIKE_RED: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--e0000000-0000-4000-8000-0000000000a3",
    "created": "2020-01-01T00:00:00.000Z",
    "definition_type": "tlp",
    "name": "TLP:RED",
    "definition": {"tlp": "red"},
}
TLP1_AMBER_DEF: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": s.TLP1_AMBER,
    "created": "2017-01-20T00:00:00.000Z",
    "definition_type": "tlp",
    "name": "TLP:AMBER",
    "definition": {"tlp": "amber"},
}


@rows(
    ("unmarked-gets-default", Row(tlp(), IND, (_marked(s.TLP2_AMBER), s.AUDIENCE))),
    (
        "unmarked-gets-default-green",
        Row(tlp(default=Tlp.GREEN), IND, (_marked(s.TLP2_GREEN), s.AUDIENCE)),
    ),
    ("unmarked-default-none", Row(tlp(default=None), IND, (SAME, s.AUDIENCE))),
    ("tlp1-white-is-clear", Row(tlp(), _marked(s.TLP1_WHITE), (SAME, s.AUDIENCE))),
    ("tlp2-green", Row(tlp(), _marked(s.TLP2_GREEN), (SAME, s.AUDIENCE))),
    ("tlp1-amber", Row(tlp(), _marked(s.TLP1_AMBER), (SAME, s.AUDIENCE))),
    ("amber-strict", Row(tlp(), _marked(s.TLP2_AMBER_STRICT), (SAME, s.AUDIENCE))),
    ("red-too-high", Row(tlp(), _marked(s.TLP2_RED), "tlp_too_high")),
    ("tlp1-red-too-high", Row(tlp(), _marked(s.TLP1_RED), "tlp_too_high")),
    ("amber-above-green", Row(tlp(Tlp.CLEAR, Tlp.GREEN), _marked(s.TLP1_AMBER), "tlp_too_high")),
    ("red-inbox-only", Row(tlp(highest=Tlp.RED), _marked(s.TLP2_RED), (SAME, NONE))),
    (
        "red-inbox-only-whatever-the-terms",
        Row(tlp(highest=Tlp.RED, never=()), _marked(s.TLP1_RED), (SAME, NONE)),
    ),
    (
        "never-redistribute-amber-strict",
        Row(
            tlp(never=(Tlp.AMBER_STRICT,)),
            _marked(s.TLP2_AMBER_STRICT),
            (SAME, NONE),
        ),
    ),
    (
        "highest-of-several",
        Row(tlp(highest=Tlp.RED), _marked(s.TLP2_GREEN, s.TLP1_RED), (SAME, NONE)),
    ),
    (
        "granular-amber-raises-green",
        Row(
            tlp(),
            _marked(s.TLP2_GREEN, granular=s.TLP1_AMBER),
            (
                plus(
                    _marked(s.TLP2_GREEN, granular=s.TLP1_AMBER),
                    object_marking_refs=[s.TLP2_GREEN, s.TLP2_AMBER],
                ),
                s.AUDIENCE,
            ),
        ),
    ),
    (
        "granular-red-refused",
        Row(tlp(), _marked(s.TLP2_GREEN, granular=s.TLP1_RED), "tlp_too_high"),
    ),
    (
        "iep-red-honoured",
        Row(
            tlp(highest=Tlp.RED),
            _marked(IEP_RED["id"]),
            (_marked(IEP_RED["id"], s.TLP2_RED), NONE),
            envelope=[IEP_RED],
        ),
    ),
    (
        "iep-red-above-highest",
        Row(tlp(), _marked(IEP_RED["id"]), "tlp_too_high", envelope=[IEP_RED]),
    ),
    (
        "iep-not-honoured",
        Row(
            tlp(honour_iep=False),
            _marked(IEP_RED["id"]),
            (_marked(IEP_RED["id"], s.TLP2_AMBER), s.AUDIENCE),
            envelope=[IEP_RED],
        ),
    ),
    (
        "iep-amber-marks-amber",
        Row(
            tlp(),
            _marked(IEP_AMBER["id"]),
            (_marked(IEP_AMBER["id"], s.TLP2_AMBER), s.AUDIENCE),
            envelope=[IEP_AMBER],
        ),
    ),
    (
        "iep-not-in-envelope",
        Row(tlp(), _marked(IEP_RED["id"]), (_marked(IEP_RED["id"], s.TLP2_AMBER), s.AUDIENCE)),
    ),
    (
        "statement-is-no-tlp",
        Row(
            tlp(),
            _marked(STATEMENT["id"]),
            (_marked(STATEMENT["id"], s.TLP2_AMBER), s.AUDIENCE),
            envelope=[STATEMENT],
        ),
    ),
    (
        "home-made-tlp-red-counts",
        Row(tlp(), _marked(LOOKALIKE_RED["id"]), "tlp_too_high", envelope=[LOOKALIKE_RED]),
    ),
    ("statement-definition-not-marked", Row(tlp(), STATEMENT, (SAME, s.AUDIENCE))),
    (
        "tlp-definition-made-canonical",
        Row(tlp(), plus(TLP1_AMBER_DEF, name="Acme amber", x_acme=1), (TLP1_AMBER_DEF, s.AUDIENCE)),
    ),
    ("malformed-refs", Row(tlp(), plus(IND, object_marking_refs=[1]), "markings_invalid")),
    (
        "malformed-granular",
        Row(tlp(), plus(IND, granular_markings=[{"selectors": ["name"]}]), "markings_invalid"),
    ),
    (
        "language-granular-is-fine",
        Row(
            tlp(),
            plus(IND, granular_markings=[{"lang": "fr", "selectors": ["name"]}]),
            (
                plus(
                    IND,
                    granular_markings=[{"lang": "fr", "selectors": ["name"]}],
                    object_marking_refs=[s.TLP2_AMBER],
                ),
                s.AUDIENCE,
            ),
        ),
    ),
)
def test_tlp(row: Row) -> None:
    check(row)


@pytest.mark.parametrize("highest", [Tlp.RED])
@pytest.mark.parametrize("never", [(), (Tlp.RED,), (Tlp.AMBER, Tlp.AMBER_STRICT)])
@pytest.mark.parametrize("default", [None, Tlp.CLEAR, Tlp.AMBER])
@pytest.mark.parametrize("ref", [s.TLP1_RED, s.TLP2_RED])
def test_red_is_never_redistributed(
    highest: Tlp, never: tuple[Tlp, ...], default: Tlp | None, ref: str
) -> None:
    result = check(Row(tlp(default, highest, never), _marked(ref), (SAME, NONE)))
    assert isinstance(result, Item)
    assert any("TLP:RED" in note for note in result.notes)


# --- Victim data --------------------------------------------------------------------------------
VICTIM = s.identity(
    "identity--33333333-3333-4333-8333-333333333333",
    "Gotham National Bank",
    description="Our customer since 2019",
    sectors=["financial-services"],
    roles=["bank"],
    contact_information="soc@gotham.example",
    external_references=[{"source_name": "crm", "external_id": "C-77"}],
    labels=["customer"],
    x_acme_account="A-1",
    extensions={"extension-definition--11111111-2222-4333-8444-555555555555": {"k": "v"}},
    object_marking_refs=[s.TLP2_AMBER],
    granular_markings=[
        {"marking_ref": s.TLP2_RED, "selectors": ["contact_information"]},
        {"marking_ref": s.TLP2_GREEN, "selectors": ["sectors", "name"]},
    ],
    created_by_ref=s.PARTNER,
)
REDACTED_VICTIM: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": VICTIM["id"],
    "created": VICTIM["created"],
    "modified": VICTIM["modified"],
    "created_by_ref": s.PARTNER,
    "identity_class": "organization",
    "sectors": ["financial-services"],
    "name": "Redacted victim",
    "object_marking_refs": [s.TLP2_AMBER],
    "granular_markings": [{"marking_ref": s.TLP2_GREEN, "selectors": ["sectors", "name"]}],
}
INCIDENT: dict[str, Any] = {
    "type": "incident",
    "spec_version": "2.1",
    "id": "incident--1b75ee8f-44d6-419a-9729-09ab52c91fdb",
    "created": "2014-05-08T09:00:00.000Z",
    "modified": "2014-05-08T09:00:00.000Z",
    "name": "Breach at Gotham National Bank",
    "description": "CONTACTS: Fred, Barney",
    "labels": ["denial-of-service"],
    "external_references": [{"external_id": "81645723", "source_name": "JIRA"}],
    "kill_chain_phases": [
        {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "c2"}
    ],
    "confidence": 80,
}
REDACTED_INCIDENT: dict[str, Any] = {
    "type": "incident",
    "spec_version": "2.1",
    "id": INCIDENT["id"],
    "created": INCIDENT["created"],
    "modified": INCIDENT["modified"],
    "name": "Redacted incident",
    "kill_chain_phases": INCIDENT["kill_chain_phases"],
    "confidence": 80,
}
ADDRESS = s.location(
    "location--99999999-9999-4999-8999-999999999999",
    name="Head office",
    description="Gotham HQ",
    country="US",
    region="northern-america",
    administrative_area="US-NJ",
    city="Gotham",
    street_address="1 Bank Street",
    postal_code="07001",
    latitude=40.7,
    longitude=-74.0,
    precision=10.0,
)
REDACTED_ADDRESS = s.location(ADDRESS["id"], country="US", region="northern-america")
CITY_ONLY = s.location(
    "location--aaaaaaaa-9999-4999-8999-999999999999", city="Gotham", latitude=40.7, longitude=-74.0
)
TARGETS = s.relationship(
    1,
    "targets",
    "campaign--22222222-2222-4222-8222-222222222222",
    VICTIM["id"],
    description="Campaign against Gotham National Bank",
    start_time="2026-01-01T00:00:00Z",
)
SIGHTING: dict[str, Any] = {
    "type": "sighting",
    "spec_version": "2.1",
    "id": "sighting--dddddddd-0000-4000-8000-000000000001",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "sighting_of_ref": "indicator--00000000-0000-4000-8000-000000000001",
    "where_sighted_refs": [VICTIM["id"]],
    "description": "seen at the Gotham branch",
    "count": 3,
    "x_acme_ticket": "T-9",
}
V = Category.VICTIM


@rows(
    ("victim", Row(RefuseVictimData(), VICTIM, "victim_data_refused", category=V)),
    ("incident", Row(RefuseVictimData(), INCIDENT, "victim_data_refused", category=V)),
    ("threat", Row(RefuseVictimData(), IND, (SAME, s.AUDIENCE))),
    ("attack", Row(RefuseVictimData(), IND, (SAME, s.AUDIENCE), category=Category.ATTACK)),
)
def test_refuse_victim_data(row: Row) -> None:
    check(row)


@rows(
    ("identity", Row(RedactVictimData(), VICTIM, (REDACTED_VICTIM, s.AUDIENCE), category=V)),
    ("incident", Row(RedactVictimData(), INCIDENT, (REDACTED_INCIDENT, s.AUDIENCE), category=V)),
    ("location", Row(RedactVictimData(), ADDRESS, (REDACTED_ADDRESS, s.AUDIENCE), category=V)),
    ("location-nothing-left", Row(RedactVictimData(), CITY_ONLY, (SAME, NONE), category=V)),
    (
        "relationship",
        Row(
            RedactVictimData(),
            TARGETS,
            ({k: v for k, v in TARGETS.items() if k != "description"}, s.AUDIENCE),
            category=V,
        ),
    ),
    (
        "sighting",
        Row(
            RedactVictimData(),
            SIGHTING,
            (
                {k: v for k, v in SIGHTING.items() if k not in {"description", "x_acme_ticket"}},
                s.AUDIENCE,
            ),
            category=V,
        ),
    ),
    ("no-rule-for-type", Row(RedactVictimData(), IND, (SAME, NONE), category=V)),
    ("threat-untouched", Row(RedactVictimData(), VICTIM, (SAME, s.AUDIENCE))),
)
def test_redact_victim_data(row: Row) -> None:
    check(row)


BANK_IN_FR = [
    s.location("location--cccccccc-9999-4999-8999-999999999999", country="fr"),
    s.relationship(2, "located-at", VICTIM["id"], "location--cccccccc-9999-4999-8999-999999999999"),
    s.relationship(3, "targets", "campaign--22222222-2222-4222-8222-222222222222", VICTIM["id"]),
]
BANK_IN_US = [
    s.location("location--cccccccc-9999-4999-8999-999999999999", country="US"),
    s.relationship(2, "located-at", VICTIM["id"], "location--cccccccc-9999-4999-8999-999999999999"),
    s.relationship(3, "targets", "campaign--22222222-2222-4222-8222-222222222222", VICTIM["id"]),
]


@rows(
    (
        "to-victim-country",
        Row(
            VictimCountryOnly(), VICTIM, (SAME, frozenset({"FR"})), category=V, envelope=BANK_IN_FR
        ),
    ),
    (
        "relationship-follows-victim",
        Row(
            VictimCountryOnly(),
            TARGETS,
            (SAME, frozenset({"FR"})),
            category=V,
            envelope=[*BANK_IN_FR, VICTIM],
        ),
    ),
    (
        "victim-country-not-a-recipient",
        Row(VictimCountryOnly(), VICTIM, (SAME, NONE), category=V, envelope=BANK_IN_US),
    ),
    (
        "already-inbox-only",
        Row(
            VictimCountryOnly(),
            VICTIM,
            (SAME, NONE),
            category=V,
            envelope=BANK_IN_FR,
            audience=NONE,
        ),
    ),
    ("unknown-country", Row(VictimCountryOnly(), VICTIM, "victim_country_unknown", category=V)),
    ("threat-untouched", Row(VictimCountryOnly(), IND, (SAME, s.AUDIENCE), envelope=BANK_IN_US)),
)
def test_victim_country_only(row: Row) -> None:
    check(row)


# --- Named / Pseudonymous (Anonymous: test_attribution.py) ------------------------------------
PARTNER_ID = s.identity(s.PARTNER, "Acme Threat Labs", created_by_ref=s.PARTNER)
BY_PARTNER = plus(IND, created_by_ref=s.PARTNER, x_acme_score=7)
SEEN_BY_PARTNER = plus(
    SIGHTING, where_sighted_refs=[s.PARTNER, "identity--x"], created_by_ref=s.PARTNER
)
REPORT: dict[str, Any] = {
    "type": "report",
    "spec_version": "2.1",
    "id": "report--f1bcf49d-d4fc-4689-b716-d8cb447ac991",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-01T00:00:00.000Z",
    "name": "Weekly",
    "published": "2026-01-01T00:00:00Z",
    "object_refs": [IND["id"], s.PARTNER, s.PSEUDONYM],
    "created_by_ref": s.PARTNER,
}


@rows(
    ("named-unchanged", Row(Named(), BY_PARTNER, (SAME, s.AUDIENCE), envelope=[PARTNER_ID])),
    (
        "pseudonym-created-by",
        Row(
            Pseudonymous(),
            BY_PARTNER,
            (plus(BY_PARTNER, created_by_ref=s.PSEUDONYM), s.AUDIENCE),
            envelope=[PARTNER_ID],
        ),
    ),
    (
        "pseudonym-partner-identity-kept-home",
        Row(Pseudonymous(), PARTNER_ID, (SAME, NONE), envelope=[BY_PARTNER]),
    ),
    (
        "pseudonym-where-sighted",
        Row(
            Pseudonymous(),
            SEEN_BY_PARTNER,
            (
                plus(
                    SEEN_BY_PARTNER,
                    created_by_ref=s.PSEUDONYM,
                    where_sighted_refs=[s.PSEUDONYM, "identity--x"],
                ),
                s.AUDIENCE,
            ),
        ),
    ),
    (
        "pseudonym-refs-deduped",
        Row(
            Pseudonymous(),
            REPORT,
            (
                plus(REPORT, created_by_ref=s.PSEUDONYM, object_refs=[IND["id"], s.PSEUDONYM]),
                s.AUDIENCE,
            ),
        ),
    ),
    ("pseudonym-nothing-to-do", Row(Pseudonymous(), IND, (SAME, s.AUDIENCE))),
)
def test_named_and_pseudonymous(row: Row) -> None:
    check(row)


def test_pseudonymous_leaves_untouched_objects_as_they_are() -> None:
    ctx = s.context([IND])
    start = s.item(IND)
    assert Pseudonymous().apply(start, ctx) is start


def test_unknown_clause_refuses() -> None:
    check(Row(Unknown("attribution=telepathic"), IND, "unknown_clause"))


def test_clauses_keep_notes_and_category() -> None:
    ctx = s.context([IND])
    start = Item(
        obj=_marked(s.TLP2_RED), audience=s.AUDIENCE, category=Category.ATTACK, notes=("earlier",)
    )
    result = tlp(highest=Tlp.RED).apply(start, ctx)
    assert isinstance(result, Item)
    assert result.category is Category.ATTACK
    assert result.notes == ("earlier", "TLP:RED is never redistributed")
