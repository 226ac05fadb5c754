"""Sightings back against a real server, with real clients.

Two partners onboarded through the admin API push indicators with taxii2-client: partner N,
whose agreement says ``feedback_attribution = "named"``, and partner W, whose agreement leaves
the clause out (so ``withheld``, the default) and shares anonymously. Both push one indicator
in common. A French analyst reports with the short form, a German one with STIX 2.1 sightings,
over plain HTTP. Each partner then finds its feedback collection in the TAXII collections list
and pulls it with taxii2-client.

Expectations are written out here from what was reported, not asked of the hub: each partner's
feedback holds exactly the sightings of the objects it delivered (the common one in both), N's
name the analyst's country (its identity shipped along), W's name the hub and nothing in W's
collection mentions a country; ``GET /partner/feedback`` counts match; a partner that delivered
none of the sighted objects receives nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import orjson
import pytest
import requests
import stix2
from taxii2client.v21 import Collection, Server, as_pages

from tests.e2e.taxii21_support import inbox, indicator, new_analyst, unique_name
from tests.support.onboarding import pass_through_terms
from tests.support.server import Credential, HubProcess

COUNTRIES = ("FR", "DE")
NAMES = {"FR": "France", "DE": "Germany"}


def _feedback_collection(hub: HubProcess, partner: Credential) -> Collection:
    """The partner's feedback collection, found as a TAXII client finds any: in the list."""
    counts = requests.get(f"{hub.base}/partner/feedback", auth=partner.auth, timeout=30).json()
    server = Server(hub.discovery, user=partner.username, password=partner.token)
    [root] = server.api_roots
    [found] = [c for c in root.collections if c.id == counts["collection"]]
    assert (found.can_read, found.can_write) == (True, False)
    return found


def _pull(collection: Collection) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for page in as_pages(collection.get_objects, per_request=2):
        objects.extend(page.get("objects", []))
    return objects


def _counts(hub: HubProcess, partner: Credential) -> dict[str, dict[str, Any]]:
    response = requests.get(f"{hub.base}/partner/feedback", auth=partner.auth, timeout=30)
    assert response.status_code == 200, response.text
    return {row["object_id"]: row for row in response.json()["objects"]}


def _report(hub: HubProcess, analyst: Credential, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{hub.base}/analyst/sightings", json=body, auth=analyst.auth, timeout=30
    )
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    return receipt


def _stix_sighting(object_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T10:00:00.000Z",
        "modified": "2026-02-01T10:00:00.000Z",
        "sighting_of_ref": object_id,
        **extra,
    }


@pytest.fixture(scope="module")
def world(hub: HubProcess) -> dict[str, Any]:
    named = hub.onboard_partner(
        unique_name("fb-named"),
        COUNTRIES,
        pass_through_terms(COUNTRIES, feedback_attribution="named"),
    )
    withheld = hub.onboard_partner(
        unique_name("fb-withheld"),
        COUNTRIES,
        pass_through_terms(COUNTRIES, attribution="anonymous"),
    )
    analysts = {code: new_analyst(hub, code) for code in COUNTRIES}
    objects = {
        name: indicator(name=f"sightings e2e: {name}", value=f"198.51.100.{i}")
        for i, name in enumerate(("n1", "n2", "w1", "common"), start=10)
    }
    for partner, names in ((named, ("n1", "n2", "common")), (withheld, ("w1", "common"))):
        status = inbox(hub, partner).add_objects({"objects": [objects[n] for n in names]})
        assert status.success_count == len(names), status._raw

    # (who reports, what, expected: object, verdict, count, partners reached)
    receipts = [
        (
            "FR",
            _report(
                hub,
                analysts["FR"],
                {"object_id": objects["n1"]["id"], "verdict": "seen", "count": 3},
            ),
            ("n1", "seen", 3, 1),
        ),
        (
            "FR",
            _report(
                hub,
                analysts["FR"],
                {"object_id": objects["w1"]["id"], "verdict": "false_positive"},
            ),
            ("w1", "false_positive", 1, 1),
        ),
        (
            "DE",
            _report(
                hub,
                analysts["DE"],
                {"sighting": _stix_sighting(objects["common"]["id"], count=2)},
            ),
            ("common", "seen", 2, 2),
        ),
        (
            "DE",
            _report(
                hub,
                analysts["DE"],
                {"sighting": _stix_sighting(objects["n2"]["id"], labels=["false-positive"])},
            ),
            ("n2", "false_positive", 1, 1),
        ),
    ]
    for _, receipt, (name, verdict, _count, partners) in receipts:
        assert receipt["sighting_of_ref"] == objects[name]["id"]
        assert (receipt["verdict"], receipt["partners"], receipt["new"]) == (
            verdict,
            partners,
            True,
        )
    return {
        "named": named,
        "withheld": withheld,
        "objects": objects,
        "reports": [(code, expected) for code, _, expected in receipts],
        "pulled": {
            "named": _pull(_feedback_collection(hub, named)),
            "withheld": _pull(_feedback_collection(hub, withheld)),
        },
    }


def _expected(world: dict[str, Any], delivered: set[str]) -> Counter[tuple[str, str, str, int]]:
    """(object id, verdict, reporting country, count) of every report about ``delivered``."""
    return Counter(
        (world["objects"][name]["id"], verdict, code, count)
        for code, (name, verdict, count, _) in world["reports"]
        if name in delivered
    )


def _got(objects: list[dict[str, Any]], by_creator: dict[str, str]) -> Counter[Any]:
    return Counter(
        (
            s["sighting_of_ref"],
            "false_positive" if "false-positive" in s.get("labels", ()) else "seen",
            by_creator.get(s["created_by_ref"], s["created_by_ref"]),
            s.get("count", 1),  # none given: at least once, as the hub counts it
        )
        for s in objects
        if s["type"] == "sighting"
    )


def test_named_partner_gets_exactly_its_sightings_with_the_country_named(
    world: dict[str, Any],
) -> None:
    pulled = world["pulled"]["named"]
    identities = {o["id"]: o for o in pulled if o["type"] == "identity"}
    by_name = {identity["name"]: i for i, identity in identities.items()}
    assert set(by_name) == {"France", "Germany"}
    countries = {by_name[NAMES[code]]: code for code in COUNTRIES}
    assert _got(pulled, countries) == _expected(world, {"n1", "n2", "common"})
    for sighting in (o for o in pulled if o["type"] == "sighting"):
        assert sighting["where_sighted_refs"] == [sighting["created_by_ref"]]
    assert {o["type"] for o in pulled} == {"identity", "sighting"}


def test_withheld_partner_gets_exactly_its_sightings_with_no_country(
    world: dict[str, Any],
) -> None:
    pulled = world["pulled"]["withheld"]
    assert {o["type"] for o in pulled} == {"sighting"}
    creators = {o["created_by_ref"] for o in pulled}
    assert len(creators) == 1  # the hub
    hub_identity = next(iter(creators))
    reported_by_hub = {
        (oid, verdict, hub_identity, count)
        for (oid, verdict, _, count) in _expected(world, {"w1", "common"})
    }
    assert set(_got(pulled, {})) == reported_by_hub
    assert sum(_got(pulled, {}).values()) == sum(_expected(world, {"w1", "common"}).values())
    named_identities = {o["id"] for o in world["pulled"]["named"] if o["type"] == "identity"}
    text = orjson.dumps(pulled).decode()
    for trace in (*COUNTRIES, *NAMES.values(), *named_identities, "where_sighted_refs"):
        assert trace not in text, trace


def test_the_common_object_gave_feedback_to_both_each_its_own_copy(world: dict[str, Any]) -> None:
    common = world["objects"]["common"]["id"]
    copies = [
        [o for o in world["pulled"][who] if o.get("sighting_of_ref") == common]
        for who in ("named", "withheld")
    ]
    assert [len(c) for c in copies] == [1, 1]
    assert copies[0][0]["id"] != copies[1][0]["id"]


def test_the_counts_match_what_was_reported(hub: HubProcess, world: dict[str, Any]) -> None:
    for who, delivered in (("named", {"n1", "n2", "common"}), ("withheld", {"w1", "common"})):
        counts = _counts(hub, world[who])
        expected: dict[str, tuple[int, int, int]] = {}
        for _, (name, verdict, count, _) in world["reports"]:
            if name not in delivered:
                continue
            seen, times, false = expected.get(world["objects"][name]["id"], (0, 0, 0))
            if verdict == "seen":
                seen, times = seen + 1, times + count
            else:
                false += 1
            expected[world["objects"][name]["id"]] = (seen, times, false)
        got = {
            oid: (row["sightings"], row["times_seen"], row["false_positives"])
            for oid, row in counts.items()
        }
        assert got == expected, who


def test_the_feedback_is_valid_stix_for_the_stix2_library(world: dict[str, Any]) -> None:
    for who in ("named", "withheld"):
        for obj in world["pulled"][who]:
            parsed = stix2.parse(obj, allow_custom=False)
            assert parsed.id == obj["id"]


def test_a_partner_that_delivered_nothing_sighted_gets_nothing(hub: HubProcess) -> None:
    bystander = hub.onboard_partner(unique_name("fb-bystander"), COUNTRIES)
    assert _pull(_feedback_collection(hub, bystander)) == []
    assert _counts(hub, bystander) == {}


def test_nobody_else_can_see_a_feedback_collection(hub: HubProcess, world: dict[str, Any]) -> None:
    collection_id = _feedback_collection(hub, world["named"]).id
    url = hub.collection_url(collection_id) + "objects/"
    headers = {"Accept": "application/taxii+json;version=2.1"}
    for who in (world["withheld"], hub.accounts["analyst-fr"], hub.accounts["admin"]):
        response = requests.get(url, auth=who.auth, headers=headers, timeout=30)
        assert response.status_code == 404, (who.username, response.text)
