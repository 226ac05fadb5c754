"""The transforms' tables and helpers, checked against an independent source where one exists."""

from __future__ import annotations

from typing import Any

import pytest

from exchange.agreements.facts import SCO_TYPES
from exchange.agreements.transforms import (
    REDACTION_KEEPS,
    STANDARD_PROPERTIES,
    prune_granular_markings,
    replace_refs,
)


def _stix2_properties() -> dict[str, set[str]]:
    registry = pytest.importorskip("stix2.registry")
    maps = registry.STIX2_OBJ_MAPS["2.1"]
    return {
        name: set(cls._properties)
        for kind in ("objects", "observables")
        for name, cls in maps[kind].items()
        if name != "bundle"
    }


def test_standard_properties_match_the_stix2_library() -> None:
    # The OASIS python-stix2 library is an independent reading of the same specification.
    assert {name: set(props) for name, props in STANDARD_PROPERTIES.items()} == _stix2_properties()


def test_every_sco_type_has_a_table() -> None:
    assert set(STANDARD_PROPERTIES) >= SCO_TYPES


def test_predefined_extensions_match_the_stix2_library() -> None:
    from exchange.agreements import transforms

    registry = pytest.importorskip("stix2.registry")
    library = {
        name: set(cls._properties) - {"extension_type"}
        for name, cls in registry.STIX2_OBJ_MAPS["2.1"]["extensions"].items()
    }
    ours = {
        name: set(props)
        for per_type in transforms._PREDEFINED_EXTENSIONS.values()
        for name, props in per_type.items()
    }
    assert ours == library


def test_redaction_keeps_no_names_or_free_text() -> None:
    for stix_type, kept in REDACTION_KEEPS.items():
        assert kept <= STANDARD_PROPERTIES[stix_type], stix_type
        assert not kept & {
            "name",
            "description",
            "contact_information",
            "roles",
            "labels",
            "external_references",
            "extensions",
            "street_address",
            "city",
            "postal_code",
            "latitude",
            "longitude",
            "administrative_area",
        }, stix_type


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            {
                "a": 1,
                "granular_markings": [{"marking_ref": "m", "selectors": ["a", "b.c", "d.[0]"]}],
            },
            {"a": 1, "granular_markings": [{"marking_ref": "m", "selectors": ["a"]}]},
        ),
        ({"a": 1, "granular_markings": [{"marking_ref": "m", "selectors": ["b"]}]}, {"a": 1}),
        (
            {"a": [1], "granular_markings": [{"lang": "fr", "selectors": ["a.[0]"]}]},
            {"a": [1], "granular_markings": [{"lang": "fr", "selectors": ["a.[0]"]}]},
        ),
        ({"a": 1}, {"a": 1}),
    ],
)
def test_prune_granular_markings(obj: dict[str, Any], expected: dict[str, Any]) -> None:
    assert prune_granular_markings(obj) == expected


def test_replace_refs_everywhere_and_dedupes() -> None:
    producers = frozenset({"identity--p", "identity--q"})
    value = {
        "created_by_ref": "identity--p",
        "object_refs": ["x--1", "identity--p", "identity--q", "hub", "x--2"],
        "nested": [{"where": "identity--q"}],
        "text": "identity--p is not replaced inside text",
        "n": 3,
    }
    assert replace_refs(value, producers, "hub") == {
        "created_by_ref": "hub",
        "object_refs": ["x--1", "hub", "x--2"],
        "nested": [{"where": "hub"}],
        "text": "identity--p is not replaced inside text",
        "n": 3,
    }
