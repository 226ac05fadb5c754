"""The stix2 library's TAXII data store (TAXIICollectionStore/Source) against a real hub."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import stix2
from stix2.datastore import DataSourceError

from exchange.countries import country_collection_id
from tests.e2e.taxii21_support import (
    collection,
    full_manifest,
    inbox,
    load_bundle,
    new_analyst,
    new_partner,
)
from tests.support.server import Credential, HubProcess

pytestmark = pytest.mark.e2e

APT1 = "examples/cti-documentation/apt1.json"


@pytest.fixture(scope="module")
def apt1_store(hub: HubProcess, stix_data: Path) -> tuple[Credential, dict[str, Any]]:
    """A fresh partner that pushed APT1 through ``TAXIICollectionStore.add`` (a stix2 Bundle)."""
    partner = new_partner(hub, "JP")
    bundle = load_bundle(stix_data, APT1)
    store = stix2.TAXIICollectionStore(inbox(hub, partner))
    store.add(stix2.parse(bundle, allow_custom=False))
    return partner, bundle


def test_bundle_added_through_the_store_is_accepted(
    hub: HubProcess, apt1_store: tuple[Credential, dict[str, Any]]
) -> None:
    partner, bundle = apt1_store
    records = full_manifest(inbox(hub, partner))
    assert sorted(r["id"] for r in records) == sorted(o["id"] for o in bundle["objects"])
    # The partner shares with Japan: an analyst there sees the same objects.
    analyst = new_analyst(hub, "JP")
    japan = stix2.TAXIICollectionSource(collection(hub, analyst, country_collection_id("JP")))
    assert {o.id for o in japan.query()} == {o["id"] for o in bundle["objects"]}


def test_query_with_type_filter(
    hub: HubProcess, apt1_store: tuple[Credential, dict[str, Any]]
) -> None:
    partner, bundle = apt1_store
    source = stix2.TAXIICollectionSource(inbox(hub, partner))

    indicators = source.query([stix2.Filter("type", "=", "indicator")])

    expected = {o["id"]: o for o in bundle["objects"] if o["type"] == "indicator"}
    assert len(indicators) == len(expected) == 12
    assert all(isinstance(o, stix2.v21.Indicator) for o in indicators)
    assert {o.id: o.pattern for o in indicators} == {i: o["pattern"] for i, o in expected.items()}

    # A TAXII filter and a local one together.
    tools = source.query([stix2.Filter("type", "=", "tool"), stix2.Filter("name", "=", "GETMAIL")])
    assert [t.name for t in tools] == ["GETMAIL"]


def test_get_returns_the_object(
    hub: HubProcess, apt1_store: tuple[Credential, dict[str, Any]]
) -> None:
    partner, bundle = apt1_store
    source = stix2.TAXIICollectionSource(inbox(hub, partner))
    report = next(o for o in bundle["objects"] if o["type"] == "report")

    got = source.get(report["id"])

    assert isinstance(got, stix2.v21.Report)
    assert got.id == report["id"]
    assert got.name == report["name"]
    assert sorted(got.object_refs) == sorted(report["object_refs"])
    assert source.get("report--00000000-0000-4000-8000-000000000000") is None


def test_new_versions_through_the_store(hub: HubProcess) -> None:
    partner = new_partner(hub)
    own = inbox(hub, partner)
    store = stix2.TAXIICollectionStore(own)
    first = stix2.v21.Malware(
        name="e2e sample",
        is_family=False,
        created="2022-01-01T00:00:00.000Z",
        modified="2022-01-01T00:00:00.000Z",
    )
    second = first.new_version(modified="2022-02-01T00:00:00.000Z", description="second look")
    third = second.new_version(modified="2022-03-01T00:00:00.000Z", is_family=True)
    store.add(first)
    store.add([second, third])

    assert store.get(first.id).modified == third.modified
    assert store.get(first.id).is_family is True
    versions = store.all_versions(first.id)
    assert sorted(str(v.modified) for v in versions) == sorted(
        str(v.modified) for v in (first, second, third)
    )
    assert own.object_versions(first.id)["versions"] == [
        "2022-01-01T00:00:00.000Z",
        "2022-02-01T00:00:00.000Z",
        "2022-03-01T00:00:00.000Z",
    ]
    # The store reads back one (the latest) version per object by default.
    assert [o.id for o in store.query([stix2.Filter("type", "=", "malware")])] == [first.id]


def test_analyst_cannot_open_a_sink_on_a_country_collection(hub: HubProcess) -> None:
    analyst = hub.accounts["analyst-fr"]
    france = collection(hub, analyst, country_collection_id("FR"))
    with pytest.raises(DataSourceError):
        stix2.TAXIICollectionStore(france)
    # Reading through a source works.
    assert isinstance(stix2.TAXIICollectionSource(france).query(), list)
