"""Two partners with different agreements push real files; each country gets what they allow.

The expectations are computed here from the agreements' terms and the files themselves, with
rules written out below, not by asking the hub's policy engine:

- partner N (named): threat, attack and victim data to France, Germany and Japan; victims
  redacted; unmarked objects marked TLP:AMBER; nothing above TLP:AMBER+STRICT accepted.
- partner A (anonymous): threat and attack data (victims refused) to the member countries of
  the Americas except the United States; TLP:RED accepted into its inbox but never
  redistributed; everything that could identify who sent it removed.

Files: Unit 42's Pikabot and HelloKitty playbooks, OASIS' TLP marking idioms (one indicator per
TLP level), the elevator's campaign-versus-actors idiom (a targeted victim and incidents) and
cti-documentation's marking example (a producer identity and a statement marking).
"""

from __future__ import annotations

import gzip
import json
import tomllib
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from taxii2client.v21 import Collection

from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import collection, inbox
from tests.support.onboarding import pass_through_terms
from tests.support.paths import CONFIG_DIR
from tests.support.server import Credential, HubProcess

PIKABOT = "indicators/unit42-playbooks/2024-02-08-Pikabot.json.gz"
HELLOKITTY = "indicators/unit42-playbooks/hellokitty-ransomware.json.gz"
TLP_IDIOMS = "examples/cti-stix-elevator-idioms-2.1/141-TLP-marking-structures.json"
CAMPAIGN = "examples/cti-stix-elevator-idioms-2.1/campaign-v-actors.json"
MARKINGS = "examples/cti-documentation/using-marking-definitions.json"

# TLP marking-definition ids by level (STIX 2.1 section 7.2.1.4, and FIRST TLP 2.0 as published
# by OASIS in cti-stix-common-objects).
TLP_LEVEL = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
    "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487": "clear",
    "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb": "green",
    "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421": "amber",
    "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003": "amber+strict",
    "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1": "red",
}
RED = {m for m, level in TLP_LEVEL.items() if level == "red"}
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"

NAMED_COUNTRIES = ("FR", "DE", "JP")
NAMED_TERMS = pass_through_terms(
    NAMED_COUNTRIES,
    attribution="named",
    victim_data="redact",
    tlp={"default": "amber", "highest_accepted": "amber+strict", "never_redistribute": ["red"]},
)
ANONYMOUS_TERMS = pass_through_terms(
    (),
    categories=["threat", "attack"],
    attribution="anonymous",
    victim_data="refuse",
    tlp={"default": "green", "highest_accepted": "red", "never_redistribute": ["red"]},
    recipients={"regions": ["americas"], "exclude": ["US"]},
)


def _objects(stix_data: Path, relative: str) -> list[dict[str, Any]]:
    path = stix_data / relative
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    document = json.loads(raw)
    objects: list[dict[str, Any]] = document["objects"]
    return objects


def _americas_but_us() -> set[str]:
    countries = tomllib.loads((CONFIG_DIR / "member-countries.toml").read_text())["country"]
    return {c["code"] for c in countries if c["region"] == "americas"} - {"US"}


def _tlp(obj: dict[str, Any]) -> str | None:
    levels = [TLP_LEVEL[m] for m in obj.get("object_marking_refs", []) if m in TLP_LEVEL]
    order = ["clear", "green", "amber", "amber+strict", "red"]
    return max(levels, key=order.index) if levels else None


def _victims(objects: list[dict[str, Any]]) -> set[str]:
    """Identities a ``targets`` relationship points at, and every relationship naming a victim
    or an incident (the files hold no other victim data)."""
    targeted = {
        o["target_ref"]
        for o in objects
        if o["type"] == "relationship"
        and o["relationship_type"] == "targets"
        and o["target_ref"].startswith("identity--")
    }
    linked = {
        o["id"]
        for o in objects
        if o["type"] == "relationship"
        and (
            {o["source_ref"], o["target_ref"]} & targeted
            or "incident--" in o["source_ref"] + o["target_ref"]
        )
    }
    return targeted | linked


def _pages(coll: Collection) -> list[dict[str, Any]]:
    got = coll.get_objects(limit=1000)
    assert got.get("more") is False
    objects: list[dict[str, Any]] = got.get("objects", [])
    return objects


@pytest.fixture(scope="module")
def world(hub: HubProcess, stix_data: Path) -> dict[str, Any]:
    named = hub.onboard_partner("partner-named", NAMED_COUNTRIES, NAMED_TERMS)
    anonymous = hub.onboard_partner("partner-anon", (), ANONYMOUS_TERMS)
    analysts = {
        code: hub.create_account("analyst", f"analyst-{code.lower()}-e2e", "--country", code)
        for code in ("FR", "DE", "JP", "BR", "CA", "MX", "US", "KE")
    }
    pushed: dict[str, dict[str, list[dict[str, Any]]]] = {"named": {}, "anon": {}}
    statuses: dict[str, dict[str, Any]] = {}
    for who, partner, files in (
        ("named", named, (PIKABOT, TLP_IDIOMS, CAMPAIGN)),
        ("anon", anonymous, (HELLOKITTY, MARKINGS, TLP_IDIOMS)),
    ):
        for relative in files:
            objects = _objects(stix_data, relative)
            pushed[who][relative] = objects
            status = inbox(hub, partner).add_objects({"objects": objects})
            statuses[f"{who}:{relative}"] = status._raw
    seen = {
        code: _pages(collection(hub, analyst, country_collection_id(code)))
        for code, analyst in analysts.items()
    }
    return {
        "named": named,
        "anon": anonymous,
        "pushed": pushed,
        "statuses": statuses,
        "seen": seen,
    }


def _expected_named(pushed: dict[str, list[dict[str, Any]]]) -> set[str]:
    """Everything N sent that is valid and at most TLP:AMBER+STRICT (all of it but the red)."""
    return {o["id"] for objects in pushed.values() for o in objects if _tlp(o) != "red"}


def _expected_anonymous(pushed: dict[str, list[dict[str, Any]]]) -> set[str]:
    """What A's countries get: no victims, nothing red, and nothing that names the sender
    (producer identities, its statement markings)."""
    expected: set[str] = set()
    for objects in pushed.values():
        victims = _victims(objects)
        producers = {o["created_by_ref"] for o in objects if "created_by_ref" in o}
        for obj in objects:
            if obj["id"] in victims or obj["id"] in producers or _tlp(obj) == "red":
                continue
            if obj["type"] == "marking-definition" and obj["id"] not in TLP_LEVEL:
                continue  # a statement marking written by the partner
            expected.add(obj["id"])
    return expected


def _compared(ids: set[str], pushed: set[str]) -> set[str]:
    """Ids to compare: without TLP definitions (the hub ships those it marks with) and without
    identities nobody pushed (the hub's own, named as creator of anonymised objects)."""
    return {i for i in ids - set(TLP_LEVEL) if not (i.startswith("identity--") and i not in pushed)}


def test_each_country_gets_exactly_what_the_agreements_allow(world: dict[str, Any]) -> None:
    named = _expected_named(world["pushed"]["named"])
    anonymous = _expected_anonymous(world["pushed"]["anon"])
    americas = _americas_but_us()
    assert {"BR", "CA", "MX"} <= americas
    pushed = {
        o["id"] for who in ("named", "anon") for v in world["pushed"][who].values() for o in v
    }
    for code, objects in world["seen"].items():
        expected: set[str] = set()
        if code in NAMED_COUNTRIES:
            expected |= named
        if code in americas:
            expected |= anonymous
        seen = _compared({o["id"] for o in objects}, pushed)
        assert seen == _compared(expected, pushed), code
    assert world["seen"]["US"] == []
    assert world["seen"]["KE"] == []


def test_tlp_red_reaches_no_country(world: dict[str, Any]) -> None:
    for code, objects in world["seen"].items():
        for obj in objects:
            assert not set(obj.get("object_marking_refs", [])) & RED, (code, obj["id"])
            assert obj["id"] not in RED, code
    red = next(o for o in world["pushed"]["anon"][TLP_IDIOMS] if _tlp(o) == "red")
    status = world["statuses"][f"anon:{TLP_IDIOMS}"]
    line = next(s for s in status["successes"] if s["id"] == red["id"])
    assert "kept in the partner's inbox" in line["message"]
    refused = world["statuses"][f"named:{TLP_IDIOMS}"]["failures"]
    assert [f["id"] for f in refused] == [red["id"]]
    assert "tlp_too_high" in refused[0]["message"]
    assert "@v1" in refused[0]["message"]


def test_unmarked_objects_carry_the_agreements_default_marking(world: dict[str, Any]) -> None:
    pikabot = {o["id"] for o in world["pushed"]["named"][PIKABOT]}
    france = {o["id"]: o for o in world["seen"]["FR"]}
    assert all(france[i]["object_marking_refs"] == [TLP2_AMBER] for i in pikabot)
    assert TLP2_AMBER in france
    brazil = {o["id"]: o for o in world["seen"]["BR"]}
    hellokitty = [o for o in world["pushed"]["anon"][HELLOKITTY] if o["id"] in brazil]
    # HelloKitty's objects carry only MITRE's statement marking: anonymised, they are GREEN.
    assert all(brazil[o["id"]]["object_marking_refs"] == [TLP2_GREEN] for o in hellokitty)


def test_victims_are_redacted_for_the_named_partner(world: dict[str, Any]) -> None:
    campaign = world["pushed"]["named"][CAMPAIGN]
    victim = next(iter(_victims(campaign) & {o["id"] for o in campaign if o["type"] == "identity"}))
    for code in NAMED_COUNTRIES:
        seen = {o["id"]: o for o in world["seen"][code]}[victim]
        assert seen["name"] == "Redacted victim"
        assert "description" not in seen
        assert "contact_information" not in seen
    sent = next(o for o in campaign if o["id"] == victim)
    assert sent["name"] not in orjson.dumps(world["seen"]["FR"]).decode()


def test_the_anonymous_partner_cannot_be_traced(world: dict[str, Any]) -> None:
    pushed = world["pushed"]["anon"]
    traces = {"x_mitre", "Stark Industries", "marking-definition--d81f86b9"}
    for objects in pushed.values():
        traces |= {o["created_by_ref"] for o in objects if "created_by_ref" in o}
        traces |= {m for o in objects for m in o.get("object_marking_refs", [])} - set(TLP_LEVEL)
    traces.add(world["anon"].id)
    for code in ("BR", "CA", "MX"):
        text = orjson.dumps(world["seen"][code]).decode()
        for trace in traces:
            assert trace not in text, (code, trace)
        creators = {o["created_by_ref"] for o in world["seen"][code] if "created_by_ref" in o}
        assert len(creators) == 1, creators
        assert creators <= {o["id"] for o in world["seen"][code] if o["type"] == "identity"}


def test_victim_data_is_refused_for_the_anonymous_partner(world: dict[str, Any]) -> None:
    hellokitty = world["pushed"]["anon"][HELLOKITTY]
    status = world["statuses"][f"anon:{HELLOKITTY}"]
    assert {f["id"] for f in status["failures"]} == _victims(hellokitty)
    assert all("refused (" in f["message"] for f in status["failures"])
    assert status["success_count"] == len(hellokitty) - len(_victims(hellokitty))


def test_the_partners_inboxes_keep_what_they_sent(hub: HubProcess, world: dict[str, Any]) -> None:
    partner: Credential = world["anon"]
    own = {o["id"]: o for o in _pages(inbox(hub, partner))}
    for relative, objects in world["pushed"]["anon"].items():
        victims = _victims(objects)
        for obj in objects:
            if obj["id"] in victims:
                assert obj["id"] not in own, relative
            else:
                assert own[obj["id"]] == obj, relative
    assert str(uuid.UUID(partner.inbox or "")) == partner.inbox
