"""Reading medallion's memory-backend data file, and the import use case over a real store."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from exchange.app import build_hub
from exchange.countries import country_collection_id
from exchange.errors import InvalidRequest, NotFound
from exchange.importers.medallion import (
    InvalidMedallionData,
    MedallionCollection,
    MedallionData,
    Problem,
    parse_medallion,
)
from exchange.settings import Settings
from exchange.sharing.service import Hub
from exchange.stix.timestamps import parse_timestamp
from exchange.store.models import ObjectQuery, Role, VersionSelector
from tests.support.paths import CONFIG_DIR

HIGH_VALUE = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
INDICATOR = "indicator--cd981c25-8042-4166-8945-51178443bdac"
REFUSED_MALWARE = "malware--c0931cc6-c75e-47e5-9036-78fabc95d4ec"
STATUS = "2d086da7-4bdc-4f91-900e-d77486753710"


def us(text: str) -> int:
    value = parse_timestamp(text)
    assert value is not None
    return value


@pytest.fixture(scope="module")
def default_file(stix_data: Path) -> Path:
    return stix_data / "examples/cti-taxii-server/default_data.json"


@pytest.fixture
def document(default_file: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(default_file.read_text())
    return loaded


@pytest.fixture(scope="module")
def parsed(default_file: Path) -> MedallionData:
    return parse_medallion(default_file.read_bytes())


def collection(data: MedallionData, collection_id: str) -> MedallionCollection:
    found = [c for _, c in data.collections() if c.id == collection_id]
    assert len(found) == 1
    return found[0]


def high_value(document: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        c for c in document["trustgroup1"]["collections"] if c["id"] == HIGH_VALUE
    )
    return found


def parse(document: dict[str, Any]) -> MedallionData:
    return parse_medallion(orjson.dumps(document))


# The shared example file ----------------------------------------------------------------
def test_api_roots_and_collections(parsed: MedallionData) -> None:
    assert [root.name for root in parsed.api_roots] == ["api1", "api2", "trustgroup1"]
    assert [root.title for root in parsed.api_roots] == [
        "General STIX 2.1 Collections",
        "STIX 2.1 Indicator Collections",
        "Malware Research Group",
    ]
    found = {c.id: (c.can_read, c.can_write) for _, c in parsed.collections()}
    assert found == {
        "472c94ae-3113-4e3e-a4dd-a9f4ac7471d4": (False, True),
        "365fed99-08fa-fdcd-a1b3-fb247eb41d01": (True, True),
        HIGH_VALUE: (True, True),
        "52892447-4d7e-4f70-b94d-d7f22742ff63": (True, False),
        "64993447-4d7e-4f70-b94d-d7f33742ee63": (False, False),
    }
    high = collection(parsed, HIGH_VALUE)
    assert high.title == "High Value Indicator Collection"
    assert high.description == "This data collection is for collecting high value IOCs"


def test_objects_keep_their_manifest_date_added(
    parsed: MedallionData, document: dict[str, Any]
) -> None:
    high = collection(parsed, HIGH_VALUE)
    # Eight versions in the file; the STIX 2.0 malware version (no spec_version) is refused.
    assert len(high.objects) == 7
    assert parsed.object_count == 7
    dated = {(o.obj.stix_id, o.obj.version): o.date_added for o in high.objects}
    assert dated[(INDICATOR, us("2014-05-08T09:00:00.000Z"))] == us("2016-11-01T03:04:05.000000Z")
    expected = {
        (entry["id"], us(entry["version"])): us(entry["date_added"])
        for entry in high_value(document)["manifest"]
        if entry["version"] != "2018-02-23T18:30:00.000Z"
    }
    assert dated == expected
    bodies = {o.obj.body for o in high.objects}
    originals = [o for o in high_value(document)["objects"] if "spec_version" in o]
    assert {orjson.dumps(o, option=orjson.OPT_SORT_KEYS) for o in originals} == bodies


def test_batches_are_in_date_added_order(parsed: MedallionData) -> None:
    batches = collection(parsed, HIGH_VALUE).batches()
    times = [date_added for date_added, _ in batches]
    assert times == sorted(times)
    assert len(times) == len(set(times))
    assert sum(len(objects) for _, objects in batches) == 7
    assert times[0] == us("2014-05-08T09:00:00.000000Z")


def test_refused_object_is_a_problem_not_an_error(parsed: MedallionData) -> None:
    high = collection(parsed, HIGH_VALUE)
    assert high.refused == (
        Problem(
            REFUSED_MALWARE, "2018-02-23T18:30:00.000Z", "missing required property 'spec_version'"
        ),
    )
    assert high.warnings == ()


def test_statuses_keep_their_original_json(parsed: MedallionData, document: dict[str, Any]) -> None:
    statuses = {s.id: s for root in parsed.api_roots for s in root.statuses}
    assert set(statuses) == {STATUS, "2d086da7-4bdc-4f91-900e-f4566be4b780"}
    assert orjson.loads(statuses[STATUS].body) == document["trustgroup1"]["status"][0]
    assert parsed.status_count == 2


# Malformed entries ------------------------------------------------------------------------
def test_malformed_entries_are_reported_per_object(document: dict[str, Any]) -> None:
    high = high_value(document)
    undated = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": "indicator--11111111-1111-4111-8111-111111111111",
        "created": "2020-01-01T00:00:00.000Z",
        "modified": "2020-01-01T00:00:00.000Z",
        "pattern": "[ipv4-addr:value = '10.0.0.1']",
        "pattern_type": "stix",
        "valid_from": "2020-01-01T00:00:00Z",
    }
    badly_dated = {**undated, "id": "indicator--22222222-2222-4222-8222-222222222222"}
    sco = {"type": "ipv4-addr", "id": "ipv4-addr--33333333-3333-4333-8333-333333333333"}
    high["objects"] += [
        undated,
        badly_dated,
        {**undated, "id": "not an id"},
        "not even an object",
        sco,
    ]
    high["manifest"] += [
        {"id": badly_dated["id"], "version": badly_dated["modified"], "date_added": "yesterday"},
        {
            "id": "indicator--44444444-4444-4444-8444-444444444444",
            "version": undated["modified"],
            "date_added": "2020-02-02T00:00:00.000000Z",
        },
        # An SCO's version is the time medallion stored it.
        {
            "id": sco["id"],
            "version": "2020-03-03T00:00:00.000Z",
            "date_added": "2020-03-03T00:00:00.000000Z",
        },
        ["not", "an", "entry"],
    ]
    document["trustgroup1"]["status"].append({"no": "id"})
    data = parse(document)
    parsed_high = collection(data, HIGH_VALUE)

    assert len(parsed_high.objects) == 8
    dated = {o.obj.stix_id: o.date_added for o in parsed_high.objects}
    assert dated[sco["id"]] == us("2020-03-03T00:00:00.000000Z")

    reasons = {(p.stix_id, p.reason.split(":")[0]) for p in parsed_high.refused}
    assert (
        undated["id"],
        "no manifest entry with this id and version, so no date_added",
    ) in reasons
    assert (badly_dated["id"], "no manifest entry with this id and version, so no date_added") in (
        reasons
    )
    assert any(p.stix_id == "not an id" and "invalid id" in p.reason for p in parsed_high.refused)
    assert any(p.stix_id is None and "not a STIX object" in p.reason for p in parsed_high.refused)
    assert len(parsed_high.refused) == 5  # the four above and the STIX 2.0 malware

    warnings = [(p.stix_id, p.reason) for p in parsed_high.warnings]
    assert (badly_dated["id"], "manifest entry with an invalid 'date_added': 'yesterday'") in (
        warnings
    )
    assert any("without a matching object" in r for _, r in warnings)
    assert any("manifest[" in r and "not a JSON object" in r for _, r in warnings)
    assert len(warnings) == 3

    trustgroup = data.api_roots[-1]
    assert len(trustgroup.statuses) == 2
    assert [p.reason for p in trustgroup.problems] == [
        "API root 'trustgroup1': status[2] has no usable 'id': not imported"
    ]


def test_problem_shows_store_versions() -> None:
    assert Problem.of_version("x--1", us("2016-12-25T12:30:59.444Z"), "no") == Problem(
        "x--1", "2016-12-25T12:30:59.444Z", "no"
    )
    assert Problem.of_version("x--1", 0, "no").version is None


# Files that are not medallion data --------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "not JSON"),
        (b"{ nope", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "top level is not a JSON object"),
        (b"{}", "neither '/discovery' nor any API root"),
        (b'{"type": "bundle", "id": "bundle--x", "objects": []}', "API root 'type'"),
        (b'{"api1": {"information": {}}}', "no 'collections' list"),
        (b'{"api1": {"collections": [{"title": "no id"}]}}', "a collection has no 'id'"),
        (b'{"api1": {"collections": [{"id": "c", "can_read": "yes"}]}}', "'can_read' is not"),
        (b'{"api1": {"collections": [{"id": "c", "objects": {}}]}}', "'objects' is not a list"),
        (b'{"api1": {"collections": [], "status": {}}}', "'status' is not a list"),
    ],
)
def test_not_medallion_is_a_clear_error(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidMedallionData, match=message) as raised:
        parse_medallion(raw)
    assert isinstance(raised.value, InvalidRequest)
    assert raised.value.diagnostics().startswith("Invalid medallion data file: ")


def test_only_discovery_is_an_empty_file() -> None:
    data = parse_medallion(b'{"/discovery": {"title": "t"}}')
    assert data.api_roots == ()


# The import use case over a real store --------------------------------------------------
@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    service = build_hub(Settings(data_dir=tmp_path, config_dir=CONFIG_DIR), create=True)
    service.ensure_country_collections()
    service.create_account(Role.PARTNER, "mover")
    service.create_account(Role.PARTNER, "other")
    try:
        yield service
    finally:
        service.close()


def manifest(hub: Hub, username: str, collection_id: str) -> list[tuple[str, int, int]]:
    page = hub.read(
        hub.account_named(username),
        collection_id,
        ObjectQuery(versions=VersionSelector(last=False, all=True)),
        limit=1000,
        next_cursor=None,
        with_bodies=False,
        scope="manifest",
    )
    return [(row.stix_id, row.version, row.date_added) for row in page.rows]


def test_import_places_history_at_original_times(hub: Hub, parsed: MedallionData) -> None:
    seen: list[int] = []
    report = hub.import_medallion(parsed, "mover", progress=seen.append)
    assert sum(seen) == 7
    by_id = {done.original_id: done for done in report.collections}
    high = by_id[HIGH_VALUE]
    assert (high.id, high.created, high.imported, high.already_present) == (HIGH_VALUE, True, 7, 0)
    assert high.title == "High Value Indicator Collection (Malware Research Group)"
    assert [p.stix_id for p in high.refused] == [REFUSED_MALWARE]
    rows = manifest(hub, "mover", HIGH_VALUE)
    assert [date_added for _, _, date_added in rows] == sorted(
        o.date_added for o in collection(parsed, HIGH_VALUE).objects
    )
    assert (INDICATOR, us("2014-05-08T09:00:00.000Z"), us("2016-11-01T03:04:05Z")) in rows
    assert report.statuses.imported == 2


def test_grants_follow_medallion_access(hub: Hub, parsed: MedallionData) -> None:
    report = hub.import_medallion(parsed, "mover")
    mover = hub.account_named("mover")
    grants = {
        done.original_id: None
        if done.grant is None
        else (done.grant.can_read, done.grant.can_write)
        for done in report.collections
    }
    assert grants["472c94ae-3113-4e3e-a4dd-a9f4ac7471d4"] == (False, True)
    assert grants["64993447-4d7e-4f70-b94d-d7f33742ee63"] is None
    visible = {
        v.id: (v.access.can_read, v.access.can_write) for v in hub.visible_collections(mover)
    }
    for original_id, grant in grants.items():
        assert visible.get(original_id) == grant
    other = {v.id for v in hub.visible_collections(hub.account_named("other"))}
    assert not other & set(grants)


def test_reimport_changes_nothing(hub: Hub, parsed: MedallionData) -> None:
    first = hub.import_medallion(parsed, "mover")
    before = (hub.collections(), hub.collection_sizes(), manifest(hub, "mover", HIGH_VALUE))
    second = hub.import_medallion(parsed, "mover")
    assert (hub.collections(), hub.collection_sizes(), manifest(hub, "mover", HIGH_VALUE)) == (
        before
    )
    assert [d.id for d in second.collections] == [d.id for d in first.collections]
    assert not any(d.created or d.imported for d in second.collections)
    assert [d.already_present for d in second.collections] == [
        d.imported for d in first.collections
    ]
    assert (second.statuses.imported, second.statuses.already_present) == (0, 2)


def test_ids_that_cannot_be_kept_get_a_stable_new_id(hub: Hub, document: dict[str, Any]) -> None:
    taken = country_collection_id("FR")
    collections = document["trustgroup1"]["collections"]
    collections[0]["id"] = "not-a-uuid"
    collections[1]["id"] = taken
    document["api1"]["collections"] = [copy.deepcopy(high_value(document))]
    data = parse(document)
    first = hub.import_medallion(data, "mover")
    mapping = {(d.api_root, d.original_id): d.id for d in first.collections}
    assert mapping[("api1", HIGH_VALUE)] == HIGH_VALUE  # first in the file keeps the id
    assert mapping[("trustgroup1", HIGH_VALUE)] not in {HIGH_VALUE, taken}
    assert mapping[("trustgroup1", taken)] != taken
    assert mapping[("trustgroup1", "not-a-uuid")] != "not-a-uuid"
    assert len(set(mapping.values())) == len(mapping)
    second = hub.import_medallion(data, "mover")
    assert {(d.api_root, d.original_id): d.id for d in second.collections} == mapping
    assert not any(d.created or d.imported for d in second.collections)


def test_statuses_of_another_account_are_never_replaced(hub: Hub, parsed: MedallionData) -> None:
    hub.import_medallion(parsed, "mover")
    report = hub.import_medallion(parsed, "other")
    assert report.statuses.imported == 0
    assert len(report.statuses.skipped) == 2
    assert hub.status(hub.account_named("mover"), STATUS)
    with pytest.raises(NotFound):
        hub.status(hub.account_named("other"), STATUS)


def test_unknown_account_fails_before_anything_is_made(hub: Hub, parsed: MedallionData) -> None:
    before = hub.collections()
    with pytest.raises(NotFound, match="nobody"):
        hub.import_medallion(parsed, "nobody")
    assert hub.collections() == before
