"""Data, statuses and ``next`` cursors survive a restart of `exchange serve`."""

from __future__ import annotations

from pathlib import Path

import pytest
from taxii2client.v21 import Status

from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import (
    DATE_FIRST,
    DATE_LAST,
    collection,
    envelope,
    full_manifest,
    inbox,
    indicator,
    load_bundle,
    new_partner,
    raw_get,
)
from tests.support.server import HubProcess

pytestmark = pytest.mark.e2e


def test_data_and_cursors_survive_a_restart(hub: HubProcess, stix_data: Path) -> None:
    partner = new_partner(hub, "DE")
    analyst = hub.accounts["analyst-de"]
    bundle = load_bundle(stix_data, "examples/cti-documentation/poisonivy.json")
    own = inbox(hub, partner)
    status = own.add_objects(bundle)
    assert status.success_count == 155
    objects_url = hub.collection_url(partner.inbox or "") + "objects/"

    manifest_before = full_manifest(own, version="all")
    objects_before = own.get_objects(limit=1000)["objects"]
    first = raw_get(hub, partner, objects_url, {"limit": 5, "match[type]": "relationship"})
    cursor = first.json()["next"]
    second_before = raw_get(
        hub, partner, objects_url, {"limit": 5, "match[type]": "relationship", "next": cursor}
    )
    assert second_before.status_code == 200
    germany_before = full_manifest(collection(hub, analyst, country_collection_id("DE")))

    hub.restart()

    # Every object is still there, with the same date_added, and still redistributed.
    own = inbox(hub, partner)
    assert full_manifest(own, version="all") == manifest_before
    assert own.get_objects(limit=1000)["objects"] == objects_before
    assert {o["id"]: o for o in objects_before} == {o["id"]: o for o in bundle["objects"]}
    assert full_manifest(collection(hub, analyst, country_collection_id("DE"))) == germany_before

    # The old cursor still gives the same second page, with the same headers and next cursor.
    second_after = raw_get(
        hub, partner, objects_url, {"limit": 5, "match[type]": "relationship", "next": cursor}
    )
    assert second_after.status_code == 200
    assert second_after.json() == second_before.json()
    assert second_after.headers[DATE_FIRST] == second_before.headers[DATE_FIRST]
    assert second_after.headers[DATE_LAST] == second_before.headers[DATE_LAST]
    relationships = [r["id"] for r in full_manifest(own, type="relationship")]
    assert [o["id"] for o in second_after.json()["objects"]] == relationships[5:10]
    # ... and it can be followed to the end, each relationship once.
    seen = [o["id"] for o in first.json()["objects"]]
    page = second_after.json()
    seen += [o["id"] for o in page["objects"]]
    while page["more"]:
        page = own.get_objects(limit=5, type="relationship", next=page["next"])
        seen += [o["id"] for o in page["objects"]]
    assert seen == relationships

    # The status of the push is still there for its author.
    kept = Status(status.url, user=partner.username, password=partner.token)
    kept.refresh()
    assert (kept.id, kept.status, kept.success_count) == (status.id, "complete", 155)

    # Objects added after the restart come after every earlier one.
    later = indicator()
    own.add_objects(envelope([later]))
    records = full_manifest(own)
    assert records[-1]["id"] == later["id"]
    assert records[-1]["date_added"] > manifest_before[-1]["date_added"]
