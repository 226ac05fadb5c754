"""TAXII 2.1 filters and pagination, driven with taxii2-client against a real `exchange serve`.

``added_after``, ``match[id|type|version|spec_version]``, ``limit``/``next``/``more`` (and
taxii2-client's ``as_pages``) on get-objects, manifest and versions, and the
``X-TAXII-Date-Added-First``/``-Last`` headers.

The module's ``world`` is one fresh partner whose inbox holds APT1, Poison Ivy and one object
with three versions; tests only read it. Only ``test_pages_merge_objects_of_several_partners``
writes to France's collection in this module.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import Collection, as_pages

from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import (
    DATE_FIRST,
    DATE_LAST,
    assert_taxii_error,
    collection,
    envelope,
    full_manifest,
    inbox,
    indicator,
    load_bundle,
    new_partner,
    raw_get,
)
from tests.support.server import Credential, HubProcess

pytestmark = pytest.mark.e2e

STAMPS = ["2022-01-01T00:00:00.000Z", "2022-06-01T00:00:00.000Z", "2023-01-01T00:00:00.000Z"]


@dataclass(frozen=True)
class World:
    partner: Credential
    objects: list[dict[str, Any]]  # every object sent, all versions, in sending order
    versioned_id: str

    @property
    def latest(self) -> list[dict[str, Any]]:
        """One entry per id: its latest version."""
        latest: dict[str, dict[str, Any]] = {}
        for obj in self.objects:
            held = latest.get(obj["id"])
            if held is None or obj["modified"] > held["modified"]:
                latest[obj["id"]] = obj
        return list(latest.values())


@pytest.fixture(scope="module")
def world(hub: HubProcess, stix_data: Path) -> World:
    partner = new_partner(hub)
    own = inbox(hub, partner)
    sent: list[dict[str, Any]] = []
    for name in ("apt1", "poisonivy"):
        bundle = load_bundle(stix_data, f"examples/cti-documentation/{name}.json")
        status = own.add_objects(bundle)
        assert status.failure_count == 0
        sent.extend(bundle["objects"])
    versioned_id = f"indicator--{uuid.uuid4()}"
    for stamp in STAMPS:  # one envelope per version
        version = indicator(versioned_id, modified=stamp, created=STAMPS[0], name=stamp)
        assert own.add_objects(envelope([version])).success_count == 1
        sent.append(version)
    return World(partner=partner, objects=sent, versioned_id=versioned_id)


def _own(hub: HubProcess, world: World) -> Collection:
    return inbox(hub, world.partner)


def _ids(page: dict[str, Any]) -> list[str]:
    return [o["id"] for o in page.get("objects", [])]


def _raw_pages(
    hub: HubProcess, who: Credential, url: str, params: dict[str, Any]
) -> Iterator[requests.Response]:
    """Every page of a paginated endpoint, following ``next``, as raw responses."""
    params = dict(params)
    while True:
        response = raw_get(hub, who, url, params)
        assert response.status_code == 200, response.text
        yield response
        body = response.json()
        if not body.get("more"):
            assert "next" not in body
            return
        params["next"] = body["next"]


# added_after ----------------------------------------------------------------------------------
def test_added_after(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    records = full_manifest(own)
    assert len(records) == len(world.latest)
    cut = records[99]["date_added"]
    later = [r["id"] for r in records[100:]]

    assert [r["id"] for r in full_manifest(own, added_after=cut)] == later
    assert _ids(own.get_objects(added_after=cut, limit=1000)) == later
    assert full_manifest(own, added_after=records[-1]["date_added"]) == []
    assert full_manifest(own, added_after="2000-01-01T00:00:00.000Z") == records


def test_added_after_must_be_a_timestamp(hub: HubProcess, world: World) -> None:
    url = hub.collection_url(world.partner.inbox or "") + "objects/"
    assert_taxii_error(raw_get(hub, world.partner, url, {"added_after": "yesterday"}), 400)


# match[id] ------------------------------------------------------------------------------------
def test_match_one_id(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    target = world.objects[7]
    assert own.get_objects(id=target["id"])["objects"] == [target]
    assert [r["id"] for r in full_manifest(own, id=target["id"])] == [target["id"]]


def test_match_several_ids(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    wanted = [world.objects[i]["id"] for i in (3, 80, 150, 200)]
    missing = f"indicator--{uuid.uuid4()}"

    got = own.get_objects(id=[*wanted, missing])["objects"]

    assert sorted(o["id"] for o in got) == sorted(wanted)
    # The comma-separated form, sent by hand, is the same query.
    url = hub.collection_url(world.partner.inbox or "") + "objects/"
    raw = raw_get(hub, world.partner, url, {"match[id]": ",".join(wanted)})
    assert sorted(_ids(raw.json())) == sorted(wanted)


# match[type] ----------------------------------------------------------------------------------
def test_match_one_type(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    expected = {o["id"] for o in world.latest if o["type"] == "malware"}
    got = own.get_objects(type="malware", limit=1000)["objects"]
    assert {o["id"] for o in got} == expected
    assert len(got) == 31
    assert {o["type"] for o in got} == {"malware"}


def test_match_several_types(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    types = ["indicator", "campaign", "intrusion-set"]
    got = own.get_objects(type=types, limit=1000)["objects"]
    counts = Counter(o["type"] for o in got)
    # 37 indicators from the bundles plus the versioned one (its latest version only).
    assert counts == {"indicator": 38, "campaign": 3, "intrusion-set": 1}
    manifest_ids = {r["id"] for r in full_manifest(own, type=types)}
    assert manifest_ids == {o["id"] for o in got}


def test_match_type_that_is_absent(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    assert own.get_objects(type="grouping")["objects"] == []
    assert full_manifest(own, type="grouping") == []


# match[spec_version] --------------------------------------------------------------------------
def test_match_spec_version(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    everything = full_manifest(own)
    assert full_manifest(own, spec_version="2.1") == everything
    assert full_manifest(own, spec_version=["2.0", "2.1"]) == everything
    assert full_manifest(own, spec_version="2.0") == []
    assert own.get_objects(spec_version="2.0")["objects"] == []


# match[version] -------------------------------------------------------------------------------
def _modified(page: dict[str, Any]) -> list[str]:
    return [o["modified"] for o in page["objects"]]


def test_match_version_last_is_the_default(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    assert _modified(own.get_objects(id=vid)) == [STAMPS[-1]]
    assert _modified(own.get_objects(id=vid, version="last")) == [STAMPS[-1]]
    assert _modified(own.get_object(vid)) == [STAMPS[-1]]
    assert [r["version"] for r in full_manifest(own, id=vid)] == [STAMPS[-1]]
    # Without match[version] the collection lists each object once.
    assert len(full_manifest(own)) == len(world.latest)


def test_match_version_first_all_exact(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    assert _modified(own.get_objects(id=vid, version="first")) == [STAMPS[0]]
    assert _modified(own.get_objects(id=vid, version="all")) == STAMPS
    assert _modified(own.get_objects(id=vid, version=STAMPS[1])) == [STAMPS[1]]
    assert _modified(own.get_object(vid, version="first")) == [STAMPS[0]]
    assert _modified(own.get_object(vid, version="all")) == STAMPS
    assert _modified(own.get_object(vid, version=STAMPS[1])) == [STAMPS[1]]
    assert [r["version"] for r in full_manifest(own, id=vid, version="all")] == STAMPS
    # A timestamp no version has selects nothing.
    assert own.get_objects(id=vid, version="2022-03-01T00:00:00.000Z")["objects"] == []


def test_match_version_combinations(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    assert _modified(own.get_objects(id=vid, version=["first", "last"])) == [STAMPS[0], STAMPS[2]]
    assert _modified(own.get_objects(id=vid, version=["first", STAMPS[1]])) == STAMPS[:2]
    assert _modified(own.get_objects(id=vid, version=[STAMPS[1], STAMPS[2]])) == STAMPS[1:]
    # version=all over the collection: every version of every object.
    assert len(full_manifest(own, version="all")) == len(world.objects)
    # With type and id filters together.
    got = own.get_objects(type="indicator", id=vid, version=["first", "last"])
    assert _modified(got) == [STAMPS[0], STAMPS[2]]
    assert own.get_objects(type="malware", id=vid, version="all")["objects"] == []


def test_match_version_rejects_garbage(hub: HubProcess, world: World) -> None:
    url = hub.collection_url(world.partner.inbox or "") + "objects/"
    assert_taxii_error(raw_get(hub, world.partner, url, {"match[version]": "newest"}), 400)


# limit, next, more, as_pages ------------------------------------------------------------------
def test_limit_next_and_more(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    order = [r["id"] for r in full_manifest(own)]

    first = own.get_objects(limit=10)
    assert first["more"] is True
    assert isinstance(first["next"], str)
    assert _ids(first) == order[:10]

    second = own.get_objects(limit=10, next=first["next"])
    assert second["more"] is True
    assert _ids(second) == order[10:20]

    # The last page says there is no more and gives no next.
    tail = own.get_objects(limit=10, added_after=full_manifest(own)[-4]["date_added"])
    assert tail["more"] is False
    assert "next" not in tail
    assert _ids(tail) == order[-3:]


def test_as_pages_over_get_objects(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    order = [r["id"] for r in full_manifest(own)]

    pages = list(as_pages(own.get_objects, per_request=25))

    assert len(pages) == -(-len(order) // 25) > 1
    assert all(len(p["objects"]) == 25 for p in pages[:-1])
    assert [p["more"] for p in pages] == [True] * (len(pages) - 1) + [False]
    seen = [object_id for page in pages for object_id in _ids(page)]
    assert seen == order  # each object once, in date_added order


def test_as_pages_over_get_objects_with_filters(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    order = [r["id"] for r in full_manifest(own, type="relationship")]
    assert len(order) == 120

    pages = list(as_pages(own.get_objects, per_request=16, type="relationship"))

    assert len(pages) == 8
    seen = [object_id for page in pages for object_id in _ids(page)]
    assert seen == order


def test_last_full_page_says_no_more(hub: HubProcess, world: World) -> None:
    """When the objects fill the last page exactly, that page has more=false (no empty page)."""
    own = _own(hub, world)
    order = [r["id"] for r in full_manifest(own, type="relationship")]

    pages = list(as_pages(own.get_objects, per_request=20, type="relationship"))

    assert [len(p["objects"]) for p in pages] == [20] * 6
    assert [p["more"] for p in pages] == [True] * 5 + [False]
    assert "next" not in pages[-1]
    assert [object_id for page in pages for object_id in _ids(page)] == order


def test_as_pages_over_get_manifest(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    everything = full_manifest(own, version="all")

    pages = list(as_pages(own.get_manifest, per_request=40, version="all"))

    assert len(pages) == -(-len(everything) // 40) > 1
    seen = [record for page in pages for record in page["objects"]]
    assert seen == everything
    keys = [(r["id"], r["version"]) for r in seen]
    assert len(set(keys)) == len(keys) == len(world.objects)
    dates = [r["date_added"] for r in seen]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)


def test_versions_endpoint_pages(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    first = own.object_versions(vid, limit=2)
    assert first["versions"] == STAMPS[:2]
    assert first["more"] is True
    rest = own.object_versions(vid, limit=2, next=first["next"])
    assert rest["versions"] == STAMPS[2:]
    assert rest["more"] is False


def test_get_object_pages_its_versions(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    first = own.get_object(vid, version="all", limit=1)
    assert (_modified(first), first["more"]) == ([STAMPS[0]], True)
    second = own.get_object(vid, version="all", limit=1, next=first["next"])
    third = own.get_object(vid, version="all", limit=1, next=second["next"])
    assert _modified(second) + _modified(third) == STAMPS[1:]
    assert third["more"] is False


def test_next_is_bound_to_its_filters(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    url = hub.collection_url(world.partner.inbox or "") + "objects/"
    cursor = own.get_objects(type="relationship", limit=5)["next"]

    again = raw_get(hub, world.partner, url, {"match[type]": "relationship", "next": cursor})
    assert again.status_code == 200
    for params in (
        {"match[type]": "indicator", "next": cursor},
        {"next": cursor},
        {"match[type]": "relationship", "next": cursor[:-2] + "AA"},
        {"match[type]": "relationship", "next": "not-a-cursor"},
    ):
        assert_taxii_error(raw_get(hub, world.partner, url, params), 400)
    manifest = hub.collection_url(world.partner.inbox or "") + "manifest/"
    params = {"match[type]": "relationship", "next": cursor}
    assert_taxii_error(raw_get(hub, world.partner, manifest, params), 400)


# X-TAXII-Date-Added-First / -Last -------------------------------------------------------------
def test_date_added_headers_on_manifest_pages(hub: HubProcess, world: World) -> None:
    url = hub.collection_url(world.partner.inbox or "") + "manifest/"
    pages = list(_raw_pages(hub, world.partner, url, {"limit": 45, "match[version]": "all"}))
    assert len(pages) > 1
    for response in pages:
        records = response.json()["objects"]
        assert response.headers[DATE_FIRST] == records[0]["date_added"]
        assert response.headers[DATE_LAST] == records[-1]["date_added"]


def test_date_added_headers_on_object_pages(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    date_added = {r["id"]: r["date_added"] for r in full_manifest(own)}
    url = hub.collection_url(world.partner.inbox or "") + "objects/"
    pages = list(_raw_pages(hub, world.partner, url, {"limit": 60}))
    assert len(pages) > 1
    seen: list[str] = []
    for response in pages:
        ids = _ids(response.json())
        seen.extend(ids)
        assert response.headers[DATE_FIRST] == date_added[ids[0]]
        assert response.headers[DATE_LAST] == date_added[ids[-1]]
    assert seen == list(date_added)


def test_date_added_headers_on_versions_and_object(hub: HubProcess, world: World) -> None:
    own = _own(hub, world)
    vid = world.versioned_id
    records = full_manifest(own, id=vid, version="all")
    base = hub.collection_url(world.partner.inbox or "") + f"objects/{vid}/"
    for url, params in ((base + "versions/", {}), (base, {"match[version]": "all"})):
        response = raw_get(hub, world.partner, url, params)
        assert response.headers[DATE_FIRST] == records[0]["date_added"]
        assert response.headers[DATE_LAST] == records[-1]["date_added"]
    only_first = raw_get(hub, world.partner, base, {"match[version]": "first"})
    assert only_first.headers[DATE_FIRST] == only_first.headers[DATE_LAST]
    assert only_first.headers[DATE_FIRST] == records[0]["date_added"]


# Pages over a collection fed by several partners ----------------------------------------------
def test_pages_merge_objects_of_several_partners(hub: HubProcess) -> None:
    """France's collection, fed by two partners and a deletion, pages like any other."""
    partner_a = hub.accounts["demo-partner-a"]  # shares with FR, DE and BR
    partner_b = hub.accounts["demo-partner-b"]  # shares with FR
    analyst = hub.accounts["analyst-fr"]
    inbox_a, inbox_b = inbox(hub, partner_a), inbox(hub, partner_b)
    both = indicator(name="sent by both partners")
    batches: list[tuple[Collection, list[dict[str, Any]]]] = [
        (inbox_a, [indicator() for _ in range(4)] + [both]),
        (inbox_b, [indicator() for _ in range(3)] + [both]),
        (inbox_a, [indicator() for _ in range(4)]),
        (inbox_b, [indicator() for _ in range(5)]),
    ]
    for target, objects in batches:
        assert target.add_objects(envelope(objects)).failure_count == 0
    # Partner B withdraws one of its objects from its inbox: France gets it revoked, a newer
    # version that pages (latest versions, by date_added) show last.
    withdrawn = batches[1][1][0]
    inbox_b.delete_object(withdrawn["id"])

    france = collection(hub, analyst, country_collection_id("FR"))
    # demo-partner-a's agreement marks its objects TLP:AMBER and ships that definition first.
    tlp_amber = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
    sent = dict.fromkeys(o["id"] for _, objects in batches for o in objects)
    expected = [tlp_amber, *[i for i in sent if i != withdrawn["id"]], withdrawn["id"]]
    assert len(expected) == 18
    assert france.get_object(withdrawn["id"])["objects"][0]["revoked"] is True

    records = full_manifest(france)
    assert [r["id"] for r in records] == expected
    dates = [r["date_added"] for r in records]
    assert dates == sorted(dates)

    pages = list(as_pages(france.get_objects, per_request=3))
    assert len(pages) == 6
    assert [o for page in pages for o in _ids(page)] == expected

    manifest_pages = list(as_pages(france.get_manifest, per_request=5))
    assert [r for page in manifest_pages for r in page["objects"]] == records

    url = hub.collection_url(country_collection_id("FR")) + "objects/"
    date_added = {r["id"]: r["date_added"] for r in records}
    for response in _raw_pages(hub, analyst, url, {"limit": 4}):
        ids = _ids(response.json())
        assert response.headers[DATE_FIRST] == date_added[ids[0]]
        assert response.headers[DATE_LAST] == date_added[ids[-1]]
