"""TLP 1.0 / 2.0 marking ids and definitions, and IEP 2.0 reading."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from exchange.agreements.markings import (
    TLP2_MARKING,
    TLP2_MARKING_DEFINITIONS,
    canonical_tlp_definition,
    iep_of,
    tlp2_marking_definition,
    tlp_of_definition,
    tlp_of_ref,
)
from exchange.agreements.terms import Tlp
from tests.unit.agreements import support as s


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (s.TLP1_WHITE, Tlp.CLEAR),  # TLP 1.0 WHITE reads as CLEAR
        (s.TLP1_GREEN, Tlp.GREEN),
        (s.TLP1_AMBER, Tlp.AMBER),
        (s.TLP1_RED, Tlp.RED),
        (s.TLP2_CLEAR, Tlp.CLEAR),
        (s.TLP2_GREEN, Tlp.GREEN),
        (s.TLP2_AMBER, Tlp.AMBER),
        (s.TLP2_AMBER_STRICT, Tlp.AMBER_STRICT),
        (s.TLP2_RED, Tlp.RED),
        ("marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f", None),
        ("MARKING-DEFINITION--5E57C739-391A-4EB3-B6BE-7D15CA92D5ED", None),
        (None, None),
        (42, None),
    ],
)
def test_tlp_of_ref(ref: object, expected: Tlp | None) -> None:
    assert tlp_of_ref(ref) == expected


def test_tlp2_ids_per_level() -> None:
    assert TLP2_MARKING == {
        Tlp.CLEAR: s.TLP2_CLEAR,
        Tlp.GREEN: s.TLP2_GREEN,
        Tlp.AMBER: s.TLP2_AMBER,
        Tlp.AMBER_STRICT: s.TLP2_AMBER_STRICT,
        Tlp.RED: s.TLP2_RED,
    }


def _oasis_tlp2(stix_data: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((stix_data / "examples" / "cti-stix-common-objects").glob("*.json")):
        for obj in json.loads(path.read_text())["objects"]:
            if "extensions" in obj:
                found.append(obj)
    return found


def test_tlp2_definitions_are_the_oasis_objects(stix_data: Path) -> None:
    published = _oasis_tlp2(stix_data)
    assert len(published) == 3  # green, amber+strict and red are in the shared corpus
    for obj in published:
        tlp = tlp_of_ref(obj["id"])
        assert tlp is not None
        assert tlp2_marking_definition(tlp) == obj
        assert canonical_tlp_definition(obj["id"]) == obj


def test_tlp2_definitions_for_every_level() -> None:
    for tlp, ref in TLP2_MARKING.items():
        shipped = tlp2_marking_definition(tlp)
        assert shipped["id"] == ref
        assert shipped["name"] == f"TLP:{tlp.value.upper()}"
        ext = shipped["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
        assert ext == {"extension_type": "property-extension", "tlp_2_0": tlp.value}
        assert dict(TLP2_MARKING_DEFINITIONS[tlp])["id"] == ref
    # A fresh copy each time: changing one cannot change the next.
    first = tlp2_marking_definition(Tlp.RED)
    first["extensions"].clear()
    assert tlp2_marking_definition(Tlp.RED)["extensions"]


def test_tlp1_canonical_definitions_match_stix_2_1_section_7_2_1_4(stix_data: Path) -> None:
    # The TLP:AMBER definition as the OASIS documentation example ships it.
    example = json.loads(
        (
            stix_data / "examples" / "cti-documentation" / "using-marking-definitions.json"
        ).read_text()
    )
    amber = next(o for o in example["objects"] if o["id"] == s.TLP1_AMBER)
    assert canonical_tlp_definition(s.TLP1_AMBER) == amber
    white = canonical_tlp_definition(s.TLP1_WHITE)
    assert white is not None
    assert white["definition"] == {"tlp": "white"}
    assert white["created"] == "2017-01-20T00:00:00.000Z"
    assert (
        canonical_tlp_definition("marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f") is None
    )


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ({"id": s.TLP1_RED}, Tlp.RED),
        (
            {
                "id": "marking-definition--1",
                "definition_type": "tlp",
                "definition": {"tlp": "green"},
            },
            Tlp.GREEN,
        ),
        # A home-made TLP look-alike with an unreadable level reads as the strictest.
        (
            {"id": "marking-definition--2", "definition_type": "tlp", "definition": {"tlp": "?"}},
            Tlp.RED,
        ),
        (
            {
                "id": "marking-definition--3",
                "extensions": {
                    "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
                        "tlp_2_0": "amber+strict"
                    }
                },
            },
            Tlp.AMBER_STRICT,
        ),
        (
            {
                "id": "marking-definition--4",
                "definition_type": "statement",
                "definition": {"statement": "Copyright"},
            },
            None,
        ),
        (s.iep_marking("marking-definition--5", "red"), None),  # IEP is not a TLP definition
    ],
)
def test_tlp_of_definition(definition: dict[str, Any], expected: Tlp | None) -> None:
    assert tlp_of_definition(definition) == expected


def _example(stix_data: Path, name: str) -> dict[str, Any]:
    path = stix_data / "examples" / "cti-python-stix2-extensions" / name
    data = json.loads(path.read_text())
    result: dict[str, Any] = data["objects"][0] if data["type"] == "bundle" else data
    return result


@pytest.mark.parametrize(
    ("name", "tlp", "end"),
    [
        ("iep-marking-definition-762__examples__iep-data-marking-example.json", Tlp.AMBER, None),
        (
            "iep-marking-definition-762__examples__iep-data-marking-red-example.json",
            Tlp.RED,
            datetime(2022, 11, 1, tzinfo=UTC),
        ),
        (
            "iep-marking-definition-762__examples__iep-bundle-data-marking-example.json",
            Tlp.AMBER,
            None,
        ),
    ],
)
def test_iep_of_oasis_examples(stix_data: Path, name: str, tlp: Tlp, end: datetime | None) -> None:
    found = iep_of(_example(stix_data, name))
    assert found is not None
    assert found.tlp is tlp
    assert found.end_date == end
    assert found.start_date == datetime(2022, 10, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("definition", "tlp", "end"),
    [
        (s.iep_marking("marking-definition--a", "white"), Tlp.CLEAR, None),
        (s.iep_marking("marking-definition--b", "purple"), Tlp.RED, None),  # unreadable: strictest
        (s.iep_marking("marking-definition--c", None), None, None),
        (
            s.iep_marking("marking-definition--d", end_date="next tuesday"),
            Tlp.AMBER,
            datetime(1970, 1, 1, tzinfo=UTC),  # unreadable end: already ended
        ),
        (
            s.iep_marking("marking-definition--e", end_date="2030-01-01T00:00:00Z"),
            Tlp.AMBER,
            datetime(2030, 1, 1, tzinfo=UTC),
        ),
    ],
)
def test_iep_of_reads_strictly(definition: dict[str, Any], tlp: Tlp | None, end: object) -> None:
    found = iep_of(definition)
    assert found is not None
    assert (found.tlp, found.end_date) == (tlp, end)


@pytest.mark.parametrize(
    "definition",
    [
        {"type": "marking-definition", "id": s.TLP2_RED, "extensions": {}},
        {"type": "indicator", "extensions": {s.IEP_EXT: {"tlp": "red"}}},
        {"type": "marking-definition", "definition_type": "statement"},
    ],
)
def test_iep_of_other_objects(definition: dict[str, Any]) -> None:
    assert iep_of(definition) is None
