"""Object versions, re-sending and conflicting submissions, over taxii2-client against a real hub.

Every test uses objects with fresh ids (or a bundle of the shared data no other test here sends),
so the module's one scratch partner can serve them all.
"""

from __future__ import annotations

import copy
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.taxii21_support import (
    brief,
    envelope,
    full_manifest,
    inbox,
    indicator,
    load_bundle,
    new_partner,
    version_of,
)
from tests.support.server import Credential, HubProcess

pytestmark = pytest.mark.e2e

V1, V2, V3, V4 = (
    "2020-05-01T10:00:00.000Z",
    "2020-06-01T10:00:00.000Z",
    "2020-06-01T10:00:00.001Z",
    "2021-02-03T04:05:06.789Z",
)


@pytest.fixture(scope="module")
def scratch(hub: HubProcess) -> Credential:
    return new_partner(hub)


def _versions(stix_id: str, *stamps: str) -> list[dict[str, Any]]:
    return [indicator(stix_id, created=V1, modified=s, name=f"as of {s}") for s in stamps]


def _modified(page: dict[str, Any]) -> list[str]:
    return [o["modified"] for o in page["objects"]]


def _check_selection(own: Any, stix_id: str, in_date_added_order: list[str]) -> None:
    """last, first, all, exact and combined selections of one object's versions."""
    newest, oldest = max(in_date_added_order), min(in_date_added_order)
    assert _modified(own.get_object(stix_id)) == [newest]
    assert _modified(own.get_object(stix_id, version="last")) == [newest]
    assert _modified(own.get_object(stix_id, version="first")) == [oldest]
    assert _modified(own.get_object(stix_id, version="all")) == in_date_added_order
    for stamp in in_date_added_order:
        assert _modified(own.get_object(stix_id, version=stamp)) == [stamp]
        assert _modified(own.get_objects(id=stix_id, version=stamp)) == [stamp]
    both = [s for s in in_date_added_order if s in {oldest, newest}]
    assert _modified(own.get_object(stix_id, version=["first", "last"])) == both
    assert _modified(own.get_objects(id=stix_id, version="first,last")) == both
    assert _modified(own.get_objects(id=stix_id)) == [newest]
    assert _modified(own.get_objects(id=stix_id, version="all")) == in_date_added_order

    versions = own.object_versions(stix_id)
    assert versions["more"] is False
    assert versions["versions"] == in_date_added_order
    manifest = full_manifest(own, id=stix_id, version="all")
    assert [r["version"] for r in manifest] == in_date_added_order


def test_versions_sent_in_separate_envelopes(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    stix_id = f"indicator--{uuid.uuid4()}"
    # Sent out of order: the newest first, the oldest second.
    order = [V3, V1, V4, V2]
    for version in _versions(stix_id, *order):
        status = own.add_objects(envelope([version]))
        assert brief(status.successes) == [
            {"id": stix_id, "version": version["modified"], "message": "added"}
        ]

    _check_selection(own, stix_id, order)
    got = {o["modified"]: o for o in own.get_object(stix_id, version="all")["objects"]}
    assert got == {v["modified"]: v for v in _versions(stix_id, *order)}


def test_versions_sent_in_one_envelope(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    stix_id = f"indicator--{uuid.uuid4()}"
    order = [V2, V4, V1]

    status = own.add_objects(envelope(_versions(stix_id, *order)))

    assert (status.total_count, status.success_count, status.failure_count) == (3, 3, 0)
    assert [s["version"] for s in brief(status.successes)] == order
    _check_selection(own, stix_id, order)


def test_versions_differing_by_one_millisecond_are_distinct(
    hub: HubProcess, scratch: Credential
) -> None:
    own = inbox(hub, scratch)
    stix_id = f"indicator--{uuid.uuid4()}"
    own.add_objects(envelope(_versions(stix_id, V2, V3)))
    assert own.object_versions(stix_id)["versions"] == [V2, V3]
    assert _modified(own.get_object(stix_id, version=V2)) == [V2]
    assert _modified(own.get_object(stix_id, version="2020-06-01T10:00:00.001000Z")) == [V3]


def test_resending_identical_objects_is_success_already_present(
    hub: HubProcess, scratch: Credential, stix_data: Path
) -> None:
    own = inbox(hub, scratch)
    bundle = load_bundle(
        stix_data,
        "examples/cti-documentation/threat-actor-leveraging-attack-patterns-and-malware.json",
    )
    ids = [o["id"] for o in bundle["objects"]]
    first = own.add_objects(bundle)
    assert {s["message"] for s in brief(first.successes)} == {"added"}
    before = full_manifest(own, id=ids, version="all")

    again = own.add_objects(bundle)

    assert again.status == "complete"
    assert (again.total_count, again.success_count, again.failure_count) == (7, 7, 0)
    assert again.failures == []
    assert [(s["id"], s["version"], s["message"]) for s in brief(again.successes)] == [
        (o["id"], version_of(o), "already present") for o in bundle["objects"]
    ]
    # Nothing new was stored, and the first date_added stands.
    assert full_manifest(own, id=ids, version="all") == before

    # The same object with its properties in another order is the same object version.
    reordered = dict(reversed(list(bundle["objects"][0].items())))
    third = own.add_objects(envelope([reordered]))
    assert brief(third.successes) == [
        {"id": reordered["id"], "version": reordered["modified"], "message": "already present"}
    ]
    assert full_manifest(own, id=ids, version="all") == before


def test_identical_object_twice_in_one_envelope(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    obj = indicator()
    status = own.add_objects(envelope([obj, copy.deepcopy(obj)]))
    assert (status.success_count, status.failure_count) == (2, 0)
    assert [s["message"] for s in brief(status.successes)] == ["added", "already present"]
    assert own.get_objects(id=obj["id"], version="all")["objects"] == [obj]


def test_different_object_with_same_id_and_version_is_a_failure(
    hub: HubProcess, scratch: Credential
) -> None:
    own = inbox(hub, scratch)
    original = indicator(name="the original")
    impostor = dict(original, name="a different object, same id and modified")
    assert own.add_objects(envelope([original])).success_count == 1
    fresh = indicator()

    status = own.add_objects(envelope([impostor, fresh]))

    assert status.status == "complete"
    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert brief(status.successes) == [
        {"id": fresh["id"], "version": fresh["modified"], "message": "added"}
    ]
    [failure] = status.failures
    assert failure["id"] == original["id"]
    assert failure["version"] == original["modified"]
    assert "different object" in failure["message"]
    # The stored object is still the original.
    assert own.get_object(original["id"], version="all")["objects"] == [original]


def test_conflict_inside_one_envelope(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    first = indicator(name="first of two")
    second = dict(first, name="second of two")

    status = own.add_objects(envelope([first, second]))

    assert (status.total_count, status.success_count, status.failure_count) == (2, 1, 1)
    assert brief(status.successes) == [
        {"id": first["id"], "version": first["modified"], "message": "added"}
    ]
    assert [(f["id"], f["version"]) for f in status.failures] == [(first["id"], first["modified"])]
    assert own.get_object(first["id"])["objects"] == [first]


def test_same_id_and_version_in_another_partners_inbox_is_not_a_conflict(
    hub: HubProcess, scratch: Credential
) -> None:
    original = indicator(name="partner one's view")
    variant = dict(original, name="partner two's view")
    other = hub.accounts["demo-partner-b"]
    assert inbox(hub, scratch).add_objects(envelope([original])).success_count == 1

    status = inbox(hub, other).add_objects(envelope([variant]))

    assert (status.success_count, status.failure_count) == (1, 0)
    assert inbox(hub, other).get_object(original["id"])["objects"] == [variant]
    assert inbox(hub, scratch).get_object(original["id"])["objects"] == [original]


def test_new_version_after_resend_is_added(hub: HubProcess, scratch: Credential) -> None:
    own = inbox(hub, scratch)
    stix_id = f"indicator--{uuid.uuid4()}"
    old, new = _versions(stix_id, V1, V2)
    own.add_objects(envelope([old]))
    status = own.add_objects(envelope([old, new]))
    assert [s["message"] for s in brief(status.successes)] == ["already present", "added"]
    assert own.object_versions(stix_id)["versions"] == [V1, V2]


# Objects with neither modified nor created ----------------------------------------------------
def test_unversioned_object_is_selected_by_the_version_the_hub_gives_it(
    hub: HubProcess, scratch: Credential
) -> None:
    """An SCO without created/modified is versioned by its date_added (TAXII 2.1 3.4.2).

    The manifest and the versions endpoint report that version; a client that asks for it with
    ``match[version]=<that timestamp>`` must get the object back.
    """
    own = inbox(hub, scratch)
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "value": "203.0.113.9"}
    status = own.add_objects(envelope([sco]))
    assert [(s["id"], s["message"]) for s in brief(status.successes)] == [(sco["id"], "added")]

    [record] = full_manifest(own, id=sco["id"])
    assert record["version"] == record["date_added"]
    assert own.object_versions(sco["id"])["versions"] == [record["version"]]
    assert own.get_object(sco["id"], version="first")["objects"] == [sco]

    assert own.get_objects(id=sco["id"], version=record["version"])["objects"] == [sco]
    assert own.get_object(sco["id"], version=record["version"])["objects"] == [sco]
    own.delete_object(sco["id"], version=record["version"])
    with pytest.raises(requests.HTTPError) as raised:
        own.get_object(sco["id"])
    assert raised.value.response is not None
    assert raised.value.response.status_code == 404


def test_status_gives_the_version_of_an_unversioned_object(
    hub: HubProcess, scratch: Credential
) -> None:
    """Each status detail names the object's version (TAXII 2.1 4.3.1: id and version).

    For an SCO with neither modified nor created, that is the version the hub serves it under
    everywhere else: its date_added, as the manifest and the versions endpoint report it.
    """
    own = inbox(hub, scratch)
    sco = {"type": "domain-name", "id": f"domain-name--{uuid.uuid4()}", "value": "example.test"}

    added = own.add_objects(envelope([sco]))
    again = own.add_objects(envelope([sco]))

    [record] = full_manifest(own, id=sco["id"])
    assert brief(added.successes) == [
        {"id": sco["id"], "version": record["version"], "message": "added"}
    ]
    assert brief(again.successes) == [
        {"id": sco["id"], "version": record["version"], "message": "already present"}
    ]
