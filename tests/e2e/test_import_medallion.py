"""`exchange import-medallion` against a running hub, checked with the real TAXII 2.1 client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from taxii2client.v21 import ApiRoot, Collection, Status

from tests.support.server import Credential, HubProcess, run_cli, run_cli_json

pytestmark = pytest.mark.e2e

HIGH_VALUE = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
INDICATOR = "indicator--cd981c25-8042-4166-8945-51178443bdac"
STATUS = "2d086da7-4bdc-4f91-900e-d77486753710"
# A STIX 2.0 version (no spec_version): the hub takes 2.1 only, so it is refused.
STIX_20_VERSION = ("malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec", "2018-02-23T18:30:00.000Z")
MEDALLION_ACCESS = {
    "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4": (False, True),
    "365fed99-08fa-fdcd-a1b3-fb247eb41d01": (True, True),
    HIGH_VALUE: (True, True),
    "52892447-4d7e-4f70-b94d-d7f22742ff63": (True, False),
}
NO_ACCESS = "64993447-4d7e-4f70-b94d-d7f33742ee63"


@pytest.fixture(scope="module")
def medallion_file(stix_data: Path) -> Path:
    return stix_data / "examples/cti-taxii-server/default_data.json"


@pytest.fixture(scope="module")
def medallion(medallion_file: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(medallion_file.read_text())
    return loaded


@pytest.fixture(scope="module")
def mover(hub: HubProcess) -> Credential:
    return hub.create_account("partner", "medallion-mover", "--display-name", "Medallion users")


@pytest.fixture(scope="module")
def first_import(hub: HubProcess, mover: Credential, medallion_file: Path) -> Any:
    return run_cli_json(
        hub.data_dir, "import-medallion", str(medallion_file), "--grant", mover.username, "--json"
    )


def high_value(medallion: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in medallion["trustgroup1"]["collections"] if c["id"] == HIGH_VALUE
    )
    return found


def as_mover(hub: HubProcess, mover: Credential, collection_id: str) -> Collection:
    return Collection(hub.collection_url(collection_id), user=mover.username, password=mover.token)


def manifest_of(collection: Collection) -> list[tuple[str, str, str]]:
    records = collection.get_manifest(version="all", limit=1000)["objects"]
    return sorted((r["id"], r["version"], r["date_added"]) for r in records)


def test_report_keeps_ids_and_counts(first_import: Any) -> None:
    by_id = {entry["original_id"]: entry for entry in first_import["collections"]}
    assert set(by_id) == {*MEDALLION_ACCESS, NO_ACCESS}
    assert all(entry["id"] == entry["original_id"] for entry in by_id.values())
    assert all(entry["created"] for entry in by_id.values())
    high = by_id[HIGH_VALUE]
    assert high["title"] == "High Value Indicator Collection (Malware Research Group)"
    assert high["objects"] == {"imported": 7, "already_present": 0, "refused": 1}
    assert [(p["id"], p["version"]) for p in high["refused"]] == [STIX_20_VERSION]
    assert by_id[NO_ACCESS]["grant"] is None
    assert first_import["statuses"] == {
        "imported": 2,
        "already_present": 0,
        "skipped": 0,
        "problems": [],
    }


def test_collections_listed_with_medallion_access(
    hub: HubProcess, mover: Credential, first_import: Any
) -> None:
    root = ApiRoot(hub.api_root, user=mover.username, password=mover.token)
    listed = {c.id: (c.can_read, c.can_write) for c in root.collections}
    for collection_id, access in MEDALLION_ACCESS.items():
        assert listed[collection_id] == access
    assert NO_ACCESS not in listed
    high = as_mover(hub, mover, HIGH_VALUE)
    assert high.title == "High Value Indicator Collection (Malware Research Group)"
    assert high.description == "This data collection is for collecting high value IOCs"


def test_manifest_keeps_original_date_added(
    hub: HubProcess, mover: Credential, medallion: dict[str, Any], first_import: Any
) -> None:
    got = manifest_of(as_mover(hub, mover, HIGH_VALUE))
    assert (INDICATOR, "2014-05-08T09:00:00.000Z", "2016-11-01T03:04:05.000000Z") in got
    expected = sorted(
        (entry["id"], entry["version"], entry["date_added"])
        for entry in high_value(medallion)["manifest"]
        if (entry["id"], entry["version"]) != STIX_20_VERSION
    )
    assert got == expected


def test_objects_are_the_file_bodies(
    hub: HubProcess, mover: Credential, medallion: dict[str, Any], first_import: Any
) -> None:
    got = as_mover(hub, mover, HIGH_VALUE).get_objects(version="all", limit=1000)["objects"]
    expected = [
        obj
        for obj in high_value(medallion)["objects"]
        if (obj["id"], obj.get("modified")) != STIX_20_VERSION
    ]

    def key(obj: dict[str, Any]) -> tuple[str, str]:
        return obj["id"], obj.get("modified", obj.get("created", ""))

    assert sorted(got, key=key) == sorted(expected, key=key)


def test_status_belongs_to_the_granted_account(
    hub: HubProcess, mover: Credential, medallion: dict[str, Any], first_import: Any
) -> None:
    url = f"{hub.api_root}status/{STATUS}/"
    status = Status(url, user=mover.username, password=mover.token)
    assert status._raw == medallion["trustgroup1"]["status"][0]
    assert (status.status, status.success_count, status.pending_count) == ("pending", 1, 2)
    other = hub.accounts["demo-partner-b"]
    with pytest.raises(requests.HTTPError) as refused:
        Status(url, user=other.username, password=other.token)
    assert refused.value.response.status_code == 404


def test_reimport_changes_nothing(
    hub: HubProcess, mover: Credential, medallion_file: Path, first_import: Any
) -> None:
    root = ApiRoot(hub.api_root, user=mover.username, password=mover.token)
    listed_before = sorted((c.id, c.title, c.can_read, c.can_write) for c in root.collections)
    manifest_before = manifest_of(as_mover(hub, mover, HIGH_VALUE))
    sizes_before = run_cli_json(hub.data_dir, "collection", "list", "--json")

    again = run_cli_json(
        hub.data_dir, "import-medallion", str(medallion_file), "--grant", mover.username, "--json"
    )

    assert [e["id"] for e in again["collections"]] == [e["id"] for e in first_import["collections"]]
    for before, after in zip(first_import["collections"], again["collections"], strict=True):
        assert not after["created"]
        assert after["objects"] == {
            "imported": 0,
            "already_present": before["objects"]["imported"],
            "refused": before["objects"]["refused"],
        }
        assert after["grant"] == before["grant"]
    assert again["statuses"]["already_present"] == 2
    assert again["statuses"]["imported"] == 0
    assert run_cli_json(hub.data_dir, "collection", "list", "--json") == sizes_before
    root = ApiRoot(hub.api_root, user=mover.username, password=mover.token)
    assert sorted((c.id, c.title, c.can_read, c.can_write) for c in root.collections) == (
        listed_before
    )
    assert manifest_of(as_mover(hub, mover, HIGH_VALUE)) == manifest_before


def test_text_summary(
    hub: HubProcess, mover: Credential, medallion_file: Path, first_import: Any
) -> None:
    out = run_cli(hub.data_dir, "import-medallion", str(medallion_file), "--grant", mover.username)
    assert f"{HIGH_VALUE} -> {HIGH_VALUE} (existing)" in out
    assert "0 imported, 7 already present, 1 refused; grant: read, write" in out
    assert "statuses: 0 imported, 2 already present, 0 skipped" in out


def test_unknown_account_is_a_clear_error(hub: HubProcess, medallion_file: Path) -> None:
    with pytest.raises(AssertionError, match="no account 'nobody'") as failed:
        run_cli(hub.data_dir, "import-medallion", str(medallion_file), "--grant", "nobody")
    assert "Traceback" not in str(failed.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "the file is not JSON"),
        ('{"type": "bundle", "id": "bundle--1", "objects": []}', "API root 'type'"),
    ],
)
def test_not_medallion_is_a_clear_error(
    hub: HubProcess, mover: Credential, tmp_path: Path, content: str, message: str
) -> None:
    data_file = tmp_path / "data.json"
    data_file.write_text(content)
    with pytest.raises(AssertionError, match="Invalid medallion data file") as failed:
        run_cli(hub.data_dir, "import-medallion", str(data_file), "--grant", mover.username)
    assert message in str(failed.value)
    assert "Traceback" not in str(failed.value)
