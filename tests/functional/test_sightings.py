"""Sightings back, in process: analysts report sightings, partners receive them as feedback.

The cast (one hub for the module, each test with objects of its own):

==============  ===========================================================================
who             what
==============  ===========================================================================
``named``       partner sharing with FR and DE, ``feedback_attribution = "named"``
``withheld``    partner sharing with FR and DE, no clause (the default: ``withheld``)
``bystander``   partner sharing with DE, named; sends nothing the tests sight
analysts        of FR, DE and JP (JP receives nothing from anyone)
==============  ===========================================================================

What is shown: a sighting reaches the partners that delivered the object to the analyst's
country and no other, each under its own (current) agreement; named feedback names the country,
withheld feedback has no trace of it anywhere (objects, counts, the partner's audit events); an
object the analyst's collection does not show is the same 404 as one that does not exist;
counts per object; repeats and new versions; nobody but the hub writes a feedback collection;
hostile requests get a 4xx TAXII error and change nothing; every report is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from exchange.accounts.tokens import issue_token
from exchange.countries import country_collection_id
from exchange.sharing.feedback_collections import feedback_collection_id
from exchange.sharing.sightings import country_identity_id, feedback_sighting_id
from exchange.stix.timestamps import format_date_added, parse_timestamp
from exchange.store.models import Account, CollectionKind, Role
from tests.functional.agreement_world import AgreementWorld, Partner, new_indicator, open_world
from tests.functional.conftest import (
    API,
    assert_taxii_error,
    bearer,
    envelope,
    indicator,
    object_url,
    objects_url,
    taxii_headers,
)
from tests.support.onboarding import FIRST_ADMIN, pass_through_terms

SIGHTINGS = "/analyst/sightings"
FEEDBACK = "/partner/feedback"
COUNTRY_TRACES = ("FR", "France", "analyst-fr", country_identity_id("FR"))


@dataclass
class Cast:
    world: AgreementWorld
    named: Partner
    withheld: Partner
    bystander: Partner

    def partners(self) -> list[Partner]:
        return [self.named, self.withheld, self.bystander]


@pytest.fixture(scope="module")
def cast(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cast]:
    for world in open_world(tmp_path_factory.mktemp("sightings")):
        named = world.partner("fb-named", ("FR", "DE"), feedback_attribution="named")
        withheld = world.partner("fb-withheld", ("FR", "DE"))
        bystander = world.partner("fb-bystander", ("DE",), feedback_attribution="named")
        for code in ("FR", "DE", "JP"):
            world.analyst(code)
        yield Cast(world, named, withheld, bystander)


def _report(world: AgreementWorld, code: str, body: Any) -> Any:
    return world.client.post(SIGHTINGS, json=body, headers=world.analyst(code))


def _reported(world: AgreementWorld, code: str, body: Any, partners: int) -> dict[str, Any]:
    response = _report(world, code, body)
    assert response.status_code == 201, response.text
    receipt: dict[str, Any] = response.json()
    assert receipt["partners"] == partners, receipt
    return receipt


def _stix_sighting(object_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-01T00:00:00.000Z",
        "sighting_of_ref": object_id,
        **extra,
    }


def _feedback(world: AgreementWorld, partner: Partner) -> list[dict[str, Any]]:
    """Everything in the partner's feedback collection, as the partner pulls it over TAXII."""
    return world.read(partner.auth, feedback_collection_id(partner.account.id))[0]


def _sightings_of(world: AgreementWorld, partner: Partner, object_id: str) -> list[dict[str, Any]]:
    return [
        obj
        for obj in _feedback(world, partner)
        if obj["type"] == "sighting" and obj["sighting_of_ref"] == object_id
    ]


def _summary(world: AgreementWorld, partner: Partner) -> dict[str, dict[str, Any]]:
    response = world.client.get(FEEDBACK, headers=partner.auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["collection"] == feedback_collection_id(partner.account.id)
    return {row["object_id"]: row for row in body["objects"]}


def _events(world: AgreementWorld, kind: str) -> list[Any]:
    return [event for event in world.hub.iter_audit_events() if event.kind == kind]


# Routing ------------------------------------------------------------------------------------
def test_a_sighting_reaches_the_partner_that_delivered_the_object_and_no_other(cast: Cast) -> None:
    world = cast.world
    mine = new_indicator("named partner's")
    world.submit(cast.named, mine)
    receipt = _reported(world, "FR", {"object_id": mine["id"], "verdict": "seen", "count": 2}, 1)
    assert set(receipt) == {"id", "sighting_of_ref", "verdict", "partners", "new"}
    assert (receipt["sighting_of_ref"], receipt["verdict"], receipt["new"]) == (
        mine["id"],
        "seen",
        True,
    )
    [sighting] = _sightings_of(world, cast.named, mine["id"])
    assert sighting["count"] == 2
    assert sighting["id"] == feedback_sighting_id(
        receipt["id"], world.hub.account_named("analyst-fr").id, cast.named.account.id
    )
    for other in (cast.withheld, cast.bystander):
        assert _sightings_of(world, other, mine["id"]) == []
        assert mine["id"] not in _summary(world, other)
    # The receipt says how many partners, never which.
    text = orjson.dumps(receipt).decode()
    assert all(p.username not in text and p.account.id not in text for p in cast.partners())


def test_an_object_two_partners_delivered_goes_to_both_each_under_its_agreement(
    cast: Cast,
) -> None:
    world = cast.world
    shared = new_indicator("sent by both")
    world.submit(cast.named, shared)
    world.submit(cast.withheld, shared)  # already in FR and DE: a co-delivery
    sent = _stix_sighting(shared["id"], count=4, description="seen on a mail gateway")
    receipt = _reported(world, "FR", {"sighting": sent}, 2)
    assert receipt["id"] == sent["id"]

    [named] = _sightings_of(world, cast.named, shared["id"])
    france = country_identity_id("FR")
    assert named["created_by_ref"] == france
    assert named["where_sighted_refs"] == [france]
    identities = [o for o in _feedback(world, cast.named) if o["id"] == france]
    assert [(i["type"], i["name"], i["identity_class"]) for i in identities] == [
        ("identity", "France", "organization")
    ]

    [withheld] = _sightings_of(world, cast.withheld, shared["id"])
    assert withheld["created_by_ref"] == world.hub.hub_identity_id()
    assert "where_sighted_refs" not in withheld
    # Each partner gets its own copy: nothing links the two, nor to the analyst's id.
    assert len({named["id"], withheld["id"], sent["id"]}) == 3
    for copy in (named, withheld):
        assert copy["count"] == 4
        assert copy["description"] == "seen on a mail gateway"
        assert (copy["created"], copy["modified"]) == (sent["created"], sent["modified"])
    assert _sightings_of(world, cast.bystander, shared["id"]) == []


def test_feedback_follows_the_partners_current_agreement(cast: Cast) -> None:
    world = cast.world
    obj = new_indicator("agreement changes")
    world.submit(cast.bystander, obj)
    _reported(world, "DE", {"object_id": obj["id"], "verdict": "seen"}, 1)
    world.hub.set_agreement(
        cast.bystander.username,
        pass_through_terms(("DE",), feedback_attribution="withheld"),
        admin=FIRST_ADMIN,
    )
    try:
        _reported(world, "DE", {"object_id": obj["id"], "verdict": "seen"}, 1)
        first, second = _sightings_of(world, cast.bystander, obj["id"])
        assert first["where_sighted_refs"] == [country_identity_id("DE")]
        assert "where_sighted_refs" not in second
        assert second["created_by_ref"] == world.hub.hub_identity_id()
        routed = [e for e in _events(world, "feedback") if e.data["object"] == obj["id"]]
        assert [e.data["agreement"].rsplit("@", 1)[1] for e in routed] == ["v1", "v2"]
        assert [e.data["attribution"] for e in routed] == ["named", "withheld"]
    finally:
        world.hub.set_agreement(
            cast.bystander.username,
            pass_through_terms(("DE",), feedback_attribution="named"),
            admin=FIRST_ADMIN,
        )


def test_withheld_feedback_has_no_trace_of_the_country_anywhere(cast: Cast) -> None:
    world = cast.world
    obj = new_indicator("withheld")
    world.submit(cast.withheld, obj)
    _reported(world, "FR", {"object_id": obj["id"], "verdict": "seen", "note": "hit"}, 1)
    _reported(world, "FR", {"sighting": _stix_sighting(obj["id"], labels=["false-positive"])}, 1)
    fid = feedback_collection_id(cast.withheld.account.id)
    pulled = world.client.get(objects_url(fid), headers=taxii_headers(cast.withheld.auth))
    assert pulled.status_code == 200
    summary = world.client.get(FEEDBACK, headers=cast.withheld.auth)
    world.hub.publish_tree_head()
    events = world.client.get("/partner/audit/events?limit=200", headers=cast.withheld.auth)
    assert events.status_code == 200
    feedback_events = [e for e in events.json()["events"] if e["event"]["kind"] == "feedback"]
    assert any(e["event"]["data"]["object"] == obj["id"] for e in feedback_events)
    for text in (pulled.text, summary.text, orjson.dumps(feedback_events).decode()):
        for trace in (*COUNTRY_TRACES, country_collection_id("FR")):
            assert trace not in text, trace
    assert obj["id"] in pulled.text


# What the analyst may sight -------------------------------------------------------------------
def test_an_object_the_analysts_collection_does_not_show_is_like_a_missing_one(
    cast: Cast,
) -> None:
    world = cast.world
    only_de = new_indicator("DE only")
    world.submit(cast.bystander, only_de)
    missing = _report(world, "FR", {"object_id": f"indicator--{uuid.uuid4()}", "verdict": "seen"})
    assert_taxii_error(missing, 404)
    for code, object_id in (("FR", only_de["id"]), ("JP", only_de["id"])):
        hidden = _report(world, code, {"object_id": object_id, "verdict": "seen"})
        assert (hidden.status_code, hidden.content) == (missing.status_code, missing.content)
        stix = _report(world, code, {"sighting": _stix_sighting(object_id)})
        assert (stix.status_code, stix.content) == (missing.status_code, missing.content)
    assert only_de["id"] not in _summary(world, cast.bystander)


def test_an_object_in_a_partners_inbox_only_cannot_be_sighted(cast: Cast) -> None:
    world = cast.world
    red = new_indicator("TLP:RED")
    red["object_marking_refs"] = ["marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]
    world.submit(cast.named, red)  # accepted, never redistributed
    assert_taxii_error(_report(world, "FR", {"object_id": red["id"], "verdict": "seen"}), 404)


# Counts ---------------------------------------------------------------------------------------
def test_partners_see_per_object_counts(cast: Cast) -> None:
    world = cast.world
    counted, other = new_indicator("counted"), new_indicator("other")
    world.submit(cast.bystander, counted, other)
    _reported(world, "DE", {"object_id": counted["id"], "verdict": "seen", "count": 2}, 1)
    last_seen = "2026-01-05T06:07:08.000Z"
    sighting = _stix_sighting(
        counted["id"], count=5, first_seen="2026-01-01T00:00:00Z", last_seen=last_seen
    )
    _reported(world, "DE", {"sighting": sighting}, 1)
    _reported(world, "DE", {"object_id": counted["id"], "verdict": "false_positive"}, 1)
    _reported(world, "DE", {"object_id": other["id"], "verdict": "false_positive"}, 1)
    summary = _summary(world, cast.bystander)
    row = summary[counted["id"]]
    assert (row["sightings"], row["times_seen"], row["false_positives"]) == (2, 7, 1)
    # The short form was sighted when reported (the hub's clock, in milliseconds); the STIX
    # sighting at its last_seen: the later of the two.
    reported = world.clock.micros - world.clock.micros % 1000
    assert row["last_sighted"] == format_date_added(max(reported, parse_timestamp(last_seen) or 0))
    assert row["last_reported"] > format_date_added(reported)
    other_row = summary[other["id"]]
    assert (other_row["sightings"], other_row["false_positives"]) == (0, 1)
    assert other_row["last_sighted"] is None
    # The counts match the feedback collection itself.
    sightings = _sightings_of(world, cast.bystander, counted["id"])
    assert len(sightings) == 3
    assert sum("false-positive" in s.get("labels", ()) for s in sightings) == 1


def test_the_counts_page_by_object_id(cast: Cast) -> None:
    world = cast.world
    everything = _summary(world, cast.bystander)
    assert len(everything) >= 2
    first = world.client.get(FEEDBACK, params={"limit": "1"}, headers=cast.bystander.auth).json()
    assert first["more"] is True
    assert [row["object_id"] for row in first["objects"]] == [min(everything)]
    rest = world.client.get(
        FEEDBACK, params={"after": first["next_after"]}, headers=cast.bystander.auth
    ).json()
    assert [row["object_id"] for row in rest["objects"]] == sorted(everything)[1:]
    assert rest["more"] is False
    assert rest["next_after"] is None


def test_the_same_stix_sighting_again_adds_nothing_and_a_new_version_replaces_it(
    cast: Cast,
) -> None:
    world = cast.world
    obj = new_indicator("versions")
    world.submit(cast.withheld, obj)
    sent = _stix_sighting(obj["id"], count=1)
    _reported(world, "FR", {"sighting": sent}, 1)
    again = _report(world, "FR", {"sighting": sent})
    assert again.status_code == 200, again.text
    assert (again.json()["new"], again.json()["partners"]) == (False, 1)
    assert _summary(world, cast.withheld)[obj["id"]]["times_seen"] == 1

    newer = {**sent, "modified": "2026-03-01T00:00:00.000Z", "count": 9}
    _reported(world, "FR", {"sighting": newer}, 1)
    row = _summary(world, cast.withheld)[obj["id"]]
    assert (row["sightings"], row["times_seen"]) == (1, 9)
    assert len(_sightings_of(world, cast.withheld, obj["id"])) == 1  # the latest version

    changed = {**newer, "count": 10}  # same id and version, other content
    before = world.hub.audit_size()
    assert_taxii_error(_report(world, "FR", {"sighting": changed}), 409)
    assert world.hub.audit_size() == before
    assert _summary(world, cast.withheld)[obj["id"]]["times_seen"] == 9


# Audit ----------------------------------------------------------------------------------------
def test_every_report_is_audited_for_admins_and_for_each_partner(cast: Cast) -> None:
    world = cast.world
    obj = new_indicator("audited")
    world.submit(cast.named, obj)
    world.submit(cast.withheld, obj)
    receipt = _reported(world, "DE", {"object_id": obj["id"], "verdict": "false_positive"}, 2)
    [event] = [e for e in _events(world, "sighting") if e.subject == f"sighting:{receipt['id']}"]
    assert event.actor == "analyst-de"
    assert event.data["country"] == "DE"
    assert event.data["verdict"] == "false_positive"
    routes = {route["partner"]: route for route in event.data["routes"]}
    assert set(routes) == {cast.named.account.id, cast.withheld.account.id}
    assert routes[cast.named.account.id]["attribution"] == "named"
    assert routes[cast.withheld.account.id]["attribution"] == "withheld"
    assert {route["outcome"] for route in routes.values()} == {"added"}
    for partner, named in ((cast.named, True), (cast.withheld, False)):
        [mine] = [
            e
            for e in world.hub.iter_audit_events(partner=partner.account.id)
            if e.kind == "feedback" and e.data["object"] == obj["id"]
        ]
        assert mine.actor == "hub"
        assert mine.data["sighting"] == routes[partner.account.id]["sighting"]
        assert ("country" in mine.data) is named
        if named:
            assert mine.data["country"] == "DE"


# Feedback collections -------------------------------------------------------------------------
def test_the_feedback_collection_is_listed_for_its_partner_only(cast: Cast) -> None:
    world = cast.world

    def listed(auth: dict[str, str]) -> dict[str, tuple[bool, bool]]:
        response = world.client.get(f"{API}collections/", headers=taxii_headers(auth))
        assert response.status_code == 200
        return {c["id"]: (c["can_read"], c["can_write"]) for c in response.json()["collections"]}

    feedback = {p.username: feedback_collection_id(p.account.id) for p in cast.partners()}
    for partner in cast.partners():
        mine = listed(partner.auth)
        assert mine[feedback[partner.username]] == (True, False)
        assert mine[partner.inbox] == (True, True)
        assert set(mine) & set(feedback.values()) == {feedback[partner.username]}
    for auth in (world.analyst("FR"), world.admin()):
        assert not set(listed(auth)) & set(feedback.values())
    collection = world.hub.collection_for(cast.named.account, feedback["fb-named"]).collection
    assert collection.kind is CollectionKind.FEEDBACK
    assert collection.owner_account == cast.named.account.id


def test_nobody_writes_a_feedback_collection(cast: Cast) -> None:
    world = cast.world
    fid = feedback_collection_id(cast.named.account.id)
    some = _feedback(world, cast.named)[0]["id"]
    posted = world.client.post(
        objects_url(fid), content=envelope(indicator()), headers=taxii_headers(cast.named.auth)
    )
    assert_taxii_error(posted, 403)
    deleted = world.client.delete(object_url(fid, some), headers=taxii_headers(cast.named.auth))
    assert_taxii_error(deleted, 403)
    for auth in (cast.withheld.auth, world.analyst("FR"), world.admin()):
        hidden = world.client.post(
            objects_url(fid), content=envelope(indicator()), headers=taxii_headers(auth)
        )
        assert_taxii_error(hidden, 404)
    assert some in {obj["id"] for obj in _feedback(world, cast.named)}


def _old_partner(world: AgreementWorld, username: str) -> tuple[Account, str]:
    """A partner account as it was stored before feedback existed: no feedback collection."""
    issued = issue_token()
    account = Account(
        id=str(uuid.uuid4()),
        username=username,
        role=Role.PARTNER,
        display_name=username,
        country=None,
        credential_id=issued.credential_id,
        token_hash=issued.token_hash,
        active=True,
        created="2025-01-01T00:00:00.000000Z",
    )
    world.hub._store.add_account(account)
    return account, issued.token


def test_partners_made_before_feedback_get_their_collection(cast: Cast) -> None:
    world = cast.world
    first, token = _old_partner(world, "fb-old-1")
    second, _ = _old_partner(world, "fb-old-2")
    assert world.hub._store.collection(feedback_collection_id(first.id)) is None
    # On first use: the counts endpoint makes it.
    response = world.client.get(FEEDBACK, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "collection": feedback_collection_id(first.id),
        "objects": [],
        "more": False,
        "next_after": None,
    }
    # At start-up (create_app): every partner still without one; running it again makes none.
    assert world.hub.ensure_feedback_collections() == 1
    assert world.hub.ensure_feedback_collections() == 0
    made = world.hub._store.collection(feedback_collection_id(second.id))
    assert made is not None
    assert (made.kind, made.owner_account) == (CollectionKind.FEEDBACK, second.id)
    assert world.hub.ensure_feedback_collection(second) == made


# Hostile requests -----------------------------------------------------------------------------
def _hostile(world: AgreementWorld, object_id: str) -> dict[str, tuple[dict[str, Any], int]]:
    fr = world.analyst("FR")
    json_headers = {**fr, "Content-Type": "application/json"}
    good = orjson.dumps({"object_id": object_id, "verdict": "seen"})
    return {
        "not json": ({"content": b"{not json", "headers": json_headers}, 400),
        "not utf-8": ({"content": b'{"object_id": "\xff"}', "headers": json_headers}, 400),
        "empty": ({"content": b"", "headers": json_headers}, 400),
        "a list": ({"content": b"[1, 2]", "headers": json_headers}, 400),
        "a string": ({"content": b'"seen"', "headers": json_headers}, 400),
        "null": ({"content": b"null", "headers": json_headers}, 400),
        "deep nesting": (
            {"content": b"[" * 100_000 + b"]" * 100_000, "headers": json_headers},
            413,
        ),
        "nested within limit": (
            {
                "content": b'{"sighting": ' + b"[" * 5000 + b"]" * 5000 + b"}",
                "headers": json_headers,
            },
            400,
        ),
        "huge integer": (
            {
                "content": b'{"object_id": "x", "verdict": "seen", "count": 1' + b"0" * 40 + b"}",
                "headers": json_headers,
            },
            400,
        ),
        "deep stix": (
            {
                "content": orjson.dumps({"sighting": _stix_sighting(object_id)})[:-2]
                + b',"x_deep":'
                + b"[" * 600
                + b"]" * 600
                + b"}}",
                "headers": json_headers,
            },
            400,
        ),
        "too large": ({"content": b" " * 70_000 + good, "headers": json_headers}, 413),
        "wrong media type": (
            {"content": good, "headers": {**fr, "Content-Type": "text/plain"}},
            415,
        ),
        "no media type": ({"content": good, "headers": dict(fr)}, 415),
        "form encoded": (
            {
                "content": b"object_id=x&verdict=seen",
                "headers": {**fr, "Content-Type": "application/x-www-form-urlencoded"},
            },
            415,
        ),
        "unknown field": (
            {
                "json": {"object_id": object_id, "verdict": "seen", "partner": "fb-named"},
                "headers": fr,
            },
            400,
        ),
        "both forms": (
            {"json": {"object_id": object_id, "verdict": "seen", "sighting": {}}, "headers": fr},
            400,
        ),
        "bad verdict": ({"json": {"object_id": object_id, "verdict": "SEEN"}, "headers": fr}, 400),
        "count as text": (
            {"json": {"object_id": object_id, "verdict": "seen", "count": "1"}, "headers": fr},
            400,
        ),
        "object id too long": (
            {"json": {"object_id": "indicator--" + "a" * 5000, "verdict": "seen"}, "headers": fr},
            400,
        ),
        "not a sighting": ({"json": {"sighting": indicator()}, "headers": fr}, 400),
        "invalid stix": (
            {"json": {"sighting": _stix_sighting(object_id, count=-1)}, "headers": fr},
            400,
        ),
        "sighting of a marking": (
            {
                "json": {
                    "sighting": _stix_sighting(
                        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
                    )
                },
                "headers": fr,
            },
            400,
        ),
        "first after last": (
            {
                "json": {
                    "object_id": object_id,
                    "verdict": "seen",
                    "first_seen": "2026-02-01T00:00:00Z",
                    "last_seen": "2026-01-01T00:00:00Z",
                },
                "headers": fr,
            },
            400,
        ),
        "anonymous": ({"json": {"object_id": object_id, "verdict": "seen"}, "headers": {}}, 401),
        "as a partner": (
            {"json": {"object_id": object_id, "verdict": "seen"}, "headers": {}},
            403,
        ),
        "as an admin": ({"json": {"object_id": object_id, "verdict": "seen"}, "headers": {}}, 403),
    }


HOSTILE = [
    "not json", "not utf-8", "empty", "a list", "a string", "null", "deep nesting",
    "nested within limit", "huge integer", "deep stix", "too large", "wrong media type",
    "no media type", "form encoded", "unknown field", "both forms", "bad verdict", "count as text",
    "object id too long", "not a sighting", "invalid stix", "sighting of a marking",
    "first after last", "anonymous", "as a partner", "as an admin",
]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_reports_get_a_clear_4xx_and_change_nothing(cast: Cast, name: str) -> None:
    world = cast.world
    obj = new_indicator("hostile")
    world.submit(cast.named, obj)
    request, status = _hostile(world, obj["id"])[name]
    if name == "as a partner":
        request["headers"] = cast.named.auth
    elif name == "as an admin":
        request["headers"] = world.admin()
    before = (
        world.hub.audit_size(),
        len(world.hub._store.feedback_sightings(cast.named.account.id)),
    )
    response = world.client.post(SIGHTINGS, **request)
    body = assert_taxii_error(response, status)
    assert body["description"].strip()
    after = (
        world.hub.audit_size(),
        len(world.hub._store.feedback_sightings(cast.named.account.id)),
    )
    assert after == before
    assert _sightings_of(world, cast.named, obj["id"]) == []


def test_the_report_body_is_not_read_before_the_caller_is_known_to_be_an_analyst(
    cast: Cast,
) -> None:
    # A partner sending garbage learns only that the endpoint is not for it.
    response = cast.world.client.post(
        SIGHTINGS, content=b"{not json", headers={**cast.named.auth, "Content-Type": "text/plain"}
    )
    assert_taxii_error(response, 403)


@pytest.mark.parametrize(
    ("who", "params", "status"),
    [
        ("analyst", {}, 403),
        ("admin", {}, 403),
        ("anonymous", {}, 401),
        ("partner", {"limit": "0"}, 422),
        ("partner", {"limit": "1001"}, 422),
        ("partner", {"limit": "ten"}, 422),
        ("partner", {"after": ""}, 422),
        ("partner", {"after": "x" * 301}, 422),
    ],
)
def test_the_counts_endpoint_refuses_what_it_cannot_serve(
    cast: Cast, who: str, params: dict[str, str], status: int
) -> None:
    world = cast.world
    headers = {
        "analyst": world.analyst("FR"),
        "admin": world.admin(),
        "anonymous": {},
        "partner": cast.named.auth,
    }[who]
    assert_taxii_error(world.client.get(FEEDBACK, params=params, headers=headers), status)


def test_the_hostile_table_is_complete(cast: Cast) -> None:
    assert sorted(HOSTILE) == sorted(_hostile(cast.world, f"indicator--{uuid.uuid4()}"))
