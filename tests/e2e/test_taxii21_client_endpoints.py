"""Every TAXII 2.1 endpoint, driven with the real taxii2-client against a real `exchange serve`.

Discovery, API root, collections, objects (get, add, one, delete), versions, manifest, status,
and content negotiation (media types). Each test writes only to a fresh partner's inbox or
uses objects no other test has.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import ApiRoot, Server, Status

from exchange.countries import country_collection_id
from exchange.sharing.feedback_collections import feedback_collection_id
from tests.e2e.taxii21_support import (
    STIX_21,
    TAXII_21,
    assert_taxii_error,
    brief,
    collection,
    envelope,
    full_manifest,
    inbox,
    indicator,
    load_bundle,
    new_partner,
    raw_get,
    version_of,
)
from tests.support.server import Credential, HubProcess

pytestmark = pytest.mark.e2e

APT1 = "examples/cti-documentation/apt1.json"
POISON_IVY = "examples/cti-documentation/poisonivy.json"
DEFAULT_MAX_BODY = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def scratch(hub: HubProcess) -> Credential:
    """A partner whose inbox tests fill with objects no other test has (ids are fresh UUIDs)."""
    return new_partner(hub)


@pytest.fixture(scope="module")
def apt1_inbox(hub: HubProcess, stix_data: Path) -> tuple[Credential, Status, dict[str, Any]]:
    """A partner whose inbox holds the APT1 bundle, and the status of that one push."""
    partner = new_partner(hub)
    bundle = load_bundle(stix_data, APT1)
    return partner, inbox(hub, partner).add_objects(bundle), bundle


@pytest.fixture(scope="module")
def poison_ivy_inbox(hub: HubProcess, stix_data: Path) -> tuple[Credential, dict[str, Any]]:
    """A partner whose inbox holds the Poison Ivy bundle (read-only for the tests)."""
    partner = new_partner(hub)
    bundle = load_bundle(stix_data, POISON_IVY)
    status = inbox(hub, partner).add_objects(bundle)
    assert status.success_count == 155
    return partner, bundle


# Discovery and API root ---------------------------------------------------------------------
@pytest.mark.parametrize("username", ["admin", "analyst-fr", "demo-partner-a"])
def test_discovery_names_the_one_api_root(hub: HubProcess, username: str) -> None:
    who = hub.accounts[username]
    server = Server(hub.discovery, user=who.username, password=who.token)

    assert server.title == "exchange"
    assert server.description
    assert server.default is not None
    assert server.default.url == hub.api_root
    assert [root.url for root in server.api_roots] == [hub.api_root]


def test_api_root_information(hub: HubProcess) -> None:
    who = hub.accounts["analyst-de"]
    root = ApiRoot(hub.api_root, user=who.username, password=who.token)

    assert root.title == "exchange"
    assert root.versions == [TAXII_21]
    assert root.max_content_length == DEFAULT_MAX_BODY
    # The same resource, seen by another role, is identical.
    admin = hub.accounts["admin"]
    raw = raw_get(hub, admin, hub.api_root)
    assert raw.status_code == 200
    assert raw.json() == {
        "title": root.title,
        "description": root.description,
        "versions": [TAXII_21],
        "max_content_length": DEFAULT_MAX_BODY,
    }


def test_discovery_without_credentials_is_401(hub: HubProcess) -> None:
    response = requests.get(hub.discovery, headers={"Accept": TAXII_21}, timeout=30)
    assert_taxii_error(response, 401)
    assert "WWW-Authenticate" in response.headers


# Collections --------------------------------------------------------------------------------
def _collections_seen_by(hub: HubProcess, who: Credential) -> dict[str, tuple[bool, bool]]:
    root = ApiRoot(hub.api_root, user=who.username, password=who.token)
    return {c.id: (c.can_read, c.can_write) for c in root.collections}


def test_collections_as_each_role_sees_them(hub: HubProcess) -> None:
    partner_a = hub.accounts["demo-partner-a"]
    partner_b = hub.accounts["demo-partner-b"]
    assert partner_a.inbox is not None
    assert partner_b.inbox is not None
    france = country_collection_id("FR")

    # A partner sees only its own inbox, which it reads and writes, and its own feedback
    # collection, which it reads.
    for partner in (partner_a, partner_b):
        assert _collections_seen_by(hub, partner) == {
            partner.inbox: (True, True),
            feedback_collection_id(partner.id): (True, False),
        }
    # An analyst sees only the collection of their own country, read-only.
    assert _collections_seen_by(hub, hub.accounts["analyst-fr"]) == {france: (True, False)}
    assert _collections_seen_by(hub, hub.accounts["analyst-de"]) == {
        country_collection_id("DE"): (True, False)
    }
    # An admin sees neither partners' inboxes nor country collections.
    admin_view = _collections_seen_by(hub, hub.accounts["admin"])
    assert not {partner_a.inbox, partner_b.inbox, france} & set(admin_view)
    assert all(access == (True, True) for access in admin_view.values())


def test_one_collection_as_its_reader_and_writer(hub: HubProcess) -> None:
    analyst = hub.accounts["analyst-br"]
    brazil = collection(hub, analyst, country_collection_id("BR"))
    brazil.refresh()
    assert brazil.id == country_collection_id("BR")
    assert brazil.title == "Brazil (BR)"
    assert (brazil.can_read, brazil.can_write) == (True, False)
    assert brazil.media_types == [STIX_21]

    partner = hub.accounts["demo-partner-b"]
    own = inbox(hub, partner)
    own.refresh()
    assert own.id == partner.inbox
    assert (own.can_read, own.can_write) == (True, True)
    assert own.media_types == [STIX_21]


@pytest.mark.parametrize(
    ("username", "target"),
    [
        ("analyst-de", "country:FR"),
        ("admin", "country:FR"),
        ("demo-partner-b", "inbox:demo-partner-a"),
        ("analyst-fr", "inbox:demo-partner-a"),
    ],
)
def test_collections_one_may_not_see_are_404(hub: HubProcess, username: str, target: str) -> None:
    kind, _, name = target.partition(":")
    collection_id = country_collection_id(name) if kind == "country" else hub.accounts[name].inbox
    assert collection_id is not None
    who = hub.accounts[username]
    for url in (
        hub.collection_url(collection_id),
        hub.collection_url(collection_id) + "objects/",
        hub.collection_url(collection_id) + "manifest/",
    ):
        assert_taxii_error(raw_get(hub, who, url), 404)


def test_analyst_may_not_write_to_country_collection(hub: HubProcess) -> None:
    analyst = hub.accounts["analyst-fr"]
    url = hub.collection_url(country_collection_id("FR")) + "objects/"
    response = requests.post(
        url,
        data=b'{"objects": []}',
        auth=analyst.auth,
        headers={"Accept": TAXII_21, "Content-Type": TAXII_21},
        timeout=30,
    )
    assert_taxii_error(response, 403)


# Add objects and status ---------------------------------------------------------------------
def test_add_objects_reports_every_object_in_the_status(
    hub: HubProcess, apt1_inbox: tuple[Credential, Status, dict[str, Any]]
) -> None:
    partner, status, bundle = apt1_inbox
    expected = {(o["id"], version_of(o)) for o in bundle["objects"]}

    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (76, 76, 0)
    assert (status.pending_count, status.pendings, status.failures) == (0, [], [])
    assert status.request_timestamp
    assert {(s["id"], s["version"]) for s in brief(status.successes)} == expected
    assert {s["message"] for s in brief(status.successes)} == {"added"}
    assert status.url == f"{hub.api_root}status/{status.id}/"

    # The same status resource, fetched three ways.
    fetched = Status(status.url, user=partner.username, password=partner.token)
    fetched.refresh()
    assert fetched.id == status.id
    assert fetched.status == "complete"
    assert (fetched.total_count, fetched.success_count, fetched.failure_count) == (76, 76, 0)
    assert brief(fetched.successes) == brief(status.successes)

    by_root = ApiRoot(hub.api_root, user=partner.username, password=partner.token)
    assert by_root.get_status(status.id)._raw == status._raw

    raw = raw_get(hub, partner, status.url)
    assert raw.status_code == 200
    assert raw.headers["Content-Type"] == TAXII_21
    assert raw.json() == status._raw


def test_status_reports_refused_objects_as_failures(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    good = indicator()
    bad_id = indicator()
    bad_id["id"] = "indicator--not-a-uuid"
    early = indicator(modified="2020-01-01T00:00:00.000Z", created="2021-01-01T00:00:00.000Z")

    status = own.add_objects(envelope([good, bad_id, early]))

    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (3, 1, 2)
    assert brief(status.successes) == [
        {"id": good["id"], "version": good["modified"], "message": "added"}
    ]
    failures = {f["id"]: f for f in status.failures}
    assert set(failures) == {bad_id["id"], early["id"]}
    assert failures[early["id"]]["version"] == early["modified"]
    assert all(f["message"] for f in status.failures)
    # Only the good object was stored.
    sent = [good["id"], bad_id["id"], early["id"]]
    assert [o["id"] for o in own.get_objects(id=sent)["objects"]] == [good["id"]]


def test_status_of_another_account_is_404(hub: HubProcess, scratch: Credential) -> None:
    status = inbox(hub, scratch).add_objects(envelope([indicator()]))
    assert raw_get(hub, scratch, status.url).status_code == 200
    for other in ("demo-partner-a", "analyst-fr", "admin"):
        assert_taxii_error(raw_get(hub, hub.accounts[other], status.url), 404)
    assert_taxii_error(raw_get(hub, scratch, f"{hub.api_root}status/{uuid.uuid4()}/"), 404)


# Get objects, get an object, manifest, versions -------------------------------------------
def test_get_objects_returns_what_was_added(
    hub: HubProcess, poison_ivy_inbox: tuple[Credential, dict[str, Any]]
) -> None:
    partner, bundle = poison_ivy_inbox
    own = inbox(hub, partner)

    page = own.get_objects(limit=1000)

    assert page["more"] is False
    assert "next" not in page
    by_id = {o["id"]: o for o in page["objects"]}
    assert len(page["objects"]) == len(by_id) == 155
    assert by_id == {o["id"]: o for o in bundle["objects"]}


def test_get_one_object_and_its_versions(
    hub: HubProcess, poison_ivy_inbox: tuple[Credential, dict[str, Any]]
) -> None:
    partner, bundle = poison_ivy_inbox
    own = inbox(hub, partner)
    campaign = next(o for o in bundle["objects"] if o["type"] == "campaign")

    got = own.get_object(campaign["id"])
    assert got["more"] is False
    assert got["objects"] == [campaign]

    versions = own.object_versions(campaign["id"])
    assert versions["more"] is False
    assert versions["versions"] == [campaign["modified"]]


def test_manifest_describes_every_object(
    hub: HubProcess, apt1_inbox: tuple[Credential, Status, dict[str, Any]]
) -> None:
    partner, _, bundle = apt1_inbox
    page = inbox(hub, partner).get_manifest()

    assert page["more"] is False
    records = page["objects"]
    # One envelope: date_added follows the order the objects were sent in.
    assert [r["id"] for r in records] == [o["id"] for o in bundle["objects"]]
    by_id = {o["id"]: o for o in bundle["objects"]}
    for record in records:
        assert set(record) == {"id", "date_added", "version", "media_type"}
        assert record["version"] == by_id[record["id"]]["modified"]
        assert record["media_type"] == STIX_21
    dates = [r["date_added"] for r in records]
    assert dates == sorted(dates)
    assert len(set(dates)) == len(dates)


def test_non_ascii_text_round_trips(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    obj = indicator(name="Société Générale \u2013 東京 \u2013 Ελλάδα \u2013 \U0001f6f0")
    obj["description"] = 'quotes " and \\ backslashes, newline\nand tab\t'

    status = own.add_objects(envelope([obj]))

    assert status.success_count == 1
    assert own.get_object(obj["id"])["objects"] == [obj]
    raw = raw_get(hub, scratch, hub.collection_url(scratch.inbox or "") + f"objects/{obj['id']}/")
    assert raw.json()["objects"] == [obj]


@pytest.mark.parametrize("endpoint", ["object", "versions", "delete"])
def test_unknown_object_is_404(hub: HubProcess, endpoint: str) -> None:
    partner = hub.accounts["demo-partner-b"]
    own = inbox(hub, partner)
    missing = f"indicator--{uuid.uuid4()}"
    call: dict[str, Any] = {
        "object": lambda: own.get_object(missing),
        "versions": lambda: own.object_versions(missing),
        "delete": lambda: own.delete_object(missing),
    }
    with pytest.raises(requests.HTTPError) as raised:
        call[endpoint]()
    assert raised.value.response is not None
    assert_taxii_error(raised.value.response, 404)


# Delete ---------------------------------------------------------------------------------------
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def amber(sent: dict[str, Any]) -> dict[str, Any]:
    """What countries get of an unmarked object from demo-partner-a: marked TLP:AMBER."""
    return {**sent, "object_marking_refs": [TLP2_AMBER]}


def test_delete_removes_object_from_inbox_and_revokes_it_where_it_was_shared(
    hub: HubProcess,
) -> None:
    partner = hub.accounts["demo-partner-a"]  # shares with FR, DE and BR
    analyst = hub.accounts["analyst-br"]
    own = inbox(hub, partner)
    doomed, kept = indicator(), indicator()
    own.add_objects(envelope([doomed, kept]))

    own.delete_object(doomed["id"])

    remaining = full_manifest(own, id=[doomed["id"], kept["id"]])
    assert [r["id"] for r in remaining] == [kept["id"]]
    with pytest.raises(requests.HTTPError) as raised:
        own.get_object(doomed["id"])
    assert raised.value.response is not None
    assert raised.value.response.status_code == 404
    assert own.get_objects(id=doomed["id"])["objects"] == []
    # Brazil, which received it, now gets it revoked (a newer version), and still has the
    # version it received before.
    brazil = collection(hub, analyst, country_collection_id("BR"))
    (latest,) = brazil.get_object(doomed["id"])["objects"]
    assert latest["revoked"] is True
    assert latest["modified"] > doomed["modified"]
    assert {k: v for k, v in latest.items() if k not in {"revoked", "modified"}} == {
        k: v for k, v in amber(doomed).items() if k != "modified"
    }
    versions = brazil.get_object(doomed["id"], version="all")["objects"]
    assert amber(doomed) in versions
    # Deleting again: it is no longer in the inbox.
    with pytest.raises(requests.HTTPError) as again:
        own.delete_object(doomed["id"])
    assert again.value.response is not None
    assert again.value.response.status_code == 404


def test_delete_with_version_filter_removes_only_those_versions(
    hub: HubProcess, scratch: Credential
) -> None:
    own = inbox(hub, scratch)
    stix_id = f"indicator--{uuid.uuid4()}"
    stamps = [f"2021-0{m}-01T00:00:00.000Z" for m in (1, 2, 3, 4)]
    own.add_objects(envelope(indicator(stix_id, modified=s, name=s) for s in stamps))

    own.delete_object(stix_id, version=stamps[1])
    assert own.object_versions(stix_id)["versions"] == [stamps[0], stamps[2], stamps[3]]

    own.delete_object(stix_id, version="first")
    assert own.object_versions(stix_id)["versions"] == [stamps[2], stamps[3]]

    own.delete_object(stix_id, version="last")
    assert own.object_versions(stix_id)["versions"] == [stamps[2]]

    # A spec_version that matches nothing deletes nothing.
    own.delete_object(stix_id, spec_version="2.0")
    assert [o["modified"] for o in own.get_object(stix_id)["objects"]] == [stamps[2]]

    own.delete_object(stix_id)  # all remaining versions
    with pytest.raises(requests.HTTPError) as raised:
        own.object_versions(stix_id)
    assert raised.value.response is not None
    assert raised.value.response.status_code == 404


def test_analyst_may_not_delete_from_country_collection(hub: HubProcess) -> None:
    partner = hub.accounts["demo-partner-a"]  # shares with FR, DE and BR
    shared = indicator()
    inbox(hub, partner).add_objects(envelope([shared]))
    analyst = hub.accounts["analyst-de"]
    url = hub.collection_url(country_collection_id("DE")) + f"objects/{shared['id']}/"

    response = requests.delete(url, auth=analyst.auth, headers={"Accept": TAXII_21}, timeout=30)

    assert_taxii_error(response, 403)
    assert raw_get(hub, analyst, url).json()["objects"] == [amber(shared)]


# Media types ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def media_world(hub: HubProcess, scratch: Credential) -> dict[str, Any]:
    """A partner with one object and one status, for the content-negotiation tests."""
    partner = scratch
    obj = indicator()
    status = inbox(hub, partner).add_objects(envelope([obj]))
    assert partner.inbox is not None
    base = hub.collection_url(partner.inbox)
    urls = [
        hub.discovery,
        hub.api_root,
        hub.api_root + "collections/",
        base,
        base + "objects/",
        base + "manifest/",
        base + f"objects/{obj['id']}/",
        base + f"objects/{obj['id']}/versions/",
        status.url,
    ]
    return {"partner": partner, "object": obj, "urls": urls}


@pytest.mark.parametrize(
    "accept",
    ["application/taxii+json", "application/taxii+json;version=2.1", "*/*"],
)
def test_acceptable_media_types_get_taxii_21(
    hub: HubProcess, media_world: dict[str, Any], accept: str
) -> None:
    partner = media_world["partner"]
    for url in media_world["urls"]:
        response = raw_get(hub, partner, url, accept=accept)
        assert response.status_code == 200, (url, response.text)
        assert response.headers["Content-Type"] == TAXII_21, url
        assert isinstance(response.json(), dict)


@pytest.mark.parametrize(
    "accept", ["application/xml", "application/taxii+json;version=2.0", "text/html"]
)
def test_unacceptable_media_type_is_406(
    hub: HubProcess, media_world: dict[str, Any], accept: str
) -> None:
    partner = media_world["partner"]
    for url in media_world["urls"]:
        body = assert_taxii_error(raw_get(hub, partner, url, accept=accept), 406)
        assert body["title"] == "Not acceptable"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/xml"])
def test_post_in_other_media_type_is_415(
    hub: HubProcess, media_world: dict[str, Any], content_type: str
) -> None:
    partner = media_world["partner"]
    url = hub.collection_url(partner.inbox) + "objects/"
    before = full_manifest(inbox(hub, partner))
    response = requests.post(
        url,
        data=json.dumps(envelope([indicator()])).encode(),
        auth=partner.auth,
        headers={"Accept": TAXII_21, "Content-Type": content_type},
        timeout=30,
    )
    assert_taxii_error(response, 415)
    # Nothing was stored.
    assert full_manifest(inbox(hub, partner)) == before


def test_post_of_stix_bundle_media_type_is_accepted(hub: HubProcess, scratch: Credential) -> None:
    # A STIX bundle posted as application/stix+json;version=2.1 (taxii2-client sends the body).
    sent = [indicator(), indicator()]
    bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": sent}
    own = inbox(hub, scratch)
    status = own.add_objects(bundle, content_type=STIX_21)
    assert (status.total_count, status.success_count, status.failure_count) == (2, 2, 0)
    assert own.get_objects(id=[o["id"] for o in sent])["objects"] == sent
