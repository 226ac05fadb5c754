"""The pure part of sightings back: reading an analyst's report (both forms) and what a partner
receives under each attribution."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest

from exchange.agreements.terms import FeedbackAttribution
from exchange.countries import Country
from exchange.errors import InvalidRequest
from exchange.sharing.sightings import (
    FALSE_POSITIVE_LABEL,
    Verdict,
    checked,
    country_identity,
    country_identity_id,
    feedback_objects,
    feedback_sighting_id,
    parse_report,
)
from exchange.stix.objects import ObjectVersion
from exchange.stix.timestamps import parse_timestamp

NOW = parse_timestamp("2026-03-04T05:06:07.123456Z") or 0
OBJECT = f"indicator--{uuid.uuid4()}"
HUB = f"identity--{uuid.uuid4()}"
FRANCE = Country("FR", "France", "europe")


def _stix(**extra: Any) -> dict[str, Any]:
    return {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": "2026-02-01T00:00:00.000Z",
        "modified": "2026-02-02T00:00:00.000Z",
        "sighting_of_ref": OBJECT,
        **extra,
    }


# The short form -----------------------------------------------------------------------------
def test_the_short_form_becomes_a_sighting() -> None:
    report = parse_report(
        {
            "object_id": OBJECT,
            "verdict": "seen",
            "count": 4,
            "first_seen": "2026-01-01T00:00:00Z",
            "last_seen": "2026-01-02T00:00:00Z",
            "note": "proxy logs",
        },
        NOW,
    )
    assert report.object_id == OBJECT
    assert report.verdict is Verdict.SEEN
    assert report.base_id.startswith("sighting--")
    assert report.count == 4
    assert report.sighted_at == parse_timestamp("2026-01-02T00:00:00Z")
    assert report.properties == {
        "created": "2026-03-04T05:06:07.123Z",
        "modified": "2026-03-04T05:06:07.123Z",
        "count": 4,
        "first_seen": "2026-01-01T00:00:00Z",
        "last_seen": "2026-01-02T00:00:00Z",
        "description": "proxy logs",
    }
    assert report.version == parse_timestamp("2026-03-04T05:06:07.123Z")


def test_a_false_positive_is_labelled_and_defaults_apply() -> None:
    report = parse_report({"object_id": OBJECT, "verdict": "false_positive"}, NOW)
    assert report.verdict is Verdict.FALSE_POSITIVE
    assert report.properties["labels"] == [FALSE_POSITIVE_LABEL]
    assert report.count == 1
    assert report.sighted_at == report.version  # no first/last seen: when it was reported


def test_every_short_form_report_is_a_new_sighting() -> None:
    body = {"object_id": OBJECT, "verdict": "seen"}
    assert parse_report(body, NOW).base_id != parse_report(body, NOW).base_id


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({}, "object_id"),
        ({"object_id": OBJECT}, "verdict"),
        ({"object_id": OBJECT, "verdict": "maybe"}, "verdict"),
        ({"object_id": OBJECT, "verdict": "seen", "count": -1}, "count"),
        ({"object_id": OBJECT, "verdict": "seen", "count": 10**9}, "count"),
        ({"object_id": OBJECT, "verdict": "seen", "count": "3"}, "count"),
        ({"object_id": OBJECT, "verdict": "seen", "count": True}, "count"),
        ({"object_id": OBJECT, "verdict": "seen", "count": 1.5}, "count"),
        ({"object_id": OBJECT, "verdict": "seen", "first_seen": "yesterday"}, "first_seen"),
        ({"object_id": OBJECT, "verdict": "seen", "last_seen": 5}, "last_seen"),
        ({"object_id": OBJECT, "verdict": "seen", "note": ""}, "note"),
        ({"object_id": OBJECT, "verdict": "seen", "note": "x" * 4001}, "note"),
        ({"object_id": OBJECT, "verdict": "seen", "country": "FR"}, "country"),
        ({"object_id": 7, "verdict": "seen"}, "object_id"),
        ({"object_id": "not an id", "verdict": "seen"}, "sighting_of_ref"),
        ({"object_id": "ipv4-addr--" + str(uuid.uuid4()), "verdict": "seen"}, "SDO"),
        (
            {
                "object_id": OBJECT,
                "verdict": "seen",
                "first_seen": "2026-01-02T00:00:00Z",
                "last_seen": "2026-01-01T00:00:00Z",
            },
            "last_seen",
        ),
        ([{"object_id": OBJECT, "verdict": "seen"}], "JSON object"),
        ("seen", "JSON object"),
        (None, "JSON object"),
    ],
)
def test_bad_short_forms_say_what_is_wrong(body: Any, says: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_report(body, NOW)
    assert says in caught.value.detail


# The STIX form ------------------------------------------------------------------------------
def test_a_stix_sighting_keeps_only_what_describes_the_sighting() -> None:
    sent = _stix(
        count=2,
        first_seen="2026-01-01T00:00:00Z",
        last_seen="2026-01-05T00:00:00Z",
        description="seen at a border post",
        confidence=80,
        labels=["phishing"],
        summary=False,
        created_by_ref=f"identity--{uuid.uuid4()}",
        where_sighted_refs=[f"identity--{uuid.uuid4()}"],
        observed_data_refs=[f"observed-data--{uuid.uuid4()}"],
        external_references=[{"source_name": "case", "external_id": "FR-2026-0001"}],
        object_marking_refs=["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"],
        x_police_case="FR-2026-0001",
    )
    report = parse_report({"sighting": sent}, NOW)
    assert report.base_id == sent["id"]
    assert report.verdict is Verdict.SEEN
    assert report.version == parse_timestamp(sent["modified"])
    assert report.sighted_at == parse_timestamp("2026-01-05T00:00:00Z")
    assert report.properties == {
        "created": sent["created"],
        "modified": sent["modified"],
        "count": 2,
        "first_seen": "2026-01-01T00:00:00Z",
        "last_seen": "2026-01-05T00:00:00Z",
        "summary": False,
        "description": "seen at a border post",
        "confidence": 80,
        "labels": ["phishing"],
    }


def test_a_stix_sighting_labelled_false_positive_is_one() -> None:
    report = parse_report({"sighting": _stix(labels=["false-positive", "x"])}, NOW)
    assert report.verdict is Verdict.FALSE_POSITIVE
    assert report.count == 1  # no count: at least once


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"sighting": _stix(), "verdict": "seen"}, "alone"),
        ({"sighting": []}, "type 'sighting'"),
        ({"sighting": {**_stix(), "type": "indicator"}}, "type 'sighting'"),
        ({"sighting": {k: v for k, v in _stix().items() if k != "sighting_of_ref"}}, "sighting_of"),
        ({"sighting": _stix(count=-3)}, "count"),
        ({"sighting": _stix(id="sighting--nope")}, "invalid id"),
        ({"sighting": _stix(spec_version="2.0")}, "spec_version"),
        ({"sighting": _stix(sighting_of_ref="marking-definition--" + str(uuid.uuid4()))}, "SDO"),
        (
            {
                "sighting": _stix(
                    first_seen="2026-02-01T00:00:00Z", last_seen="2025-01-01T00:00:00Z"
                )
            },
            "last_seen",
        ),
    ],
)
def test_bad_stix_sightings_say_what_is_wrong(body: Any, says: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse_report(body, NOW)
    assert says in caught.value.detail


# What a partner receives --------------------------------------------------------------------
def _receive(attribution: FeedbackAttribution, **sent: Any) -> list[dict[str, Any]]:
    report = parse_report({"sighting": _stix(**sent)}, NOW)
    sighting_id = feedback_sighting_id(report.base_id, "analyst", "partner")
    return feedback_objects(
        report,
        sighting_id=sighting_id,
        attribution=attribution,
        country=FRANCE,
        hub_identity_id=HUB,
    )


def test_named_feedback_names_the_country_and_ships_its_identity() -> None:
    identity, sighting = _receive(FeedbackAttribution.NAMED, count=3)
    assert identity == country_identity(FRANCE)
    assert identity["id"] == country_identity_id("FR")
    assert identity["name"] == "France"
    assert identity["identity_class"] == "organization"
    assert sighting["created_by_ref"] == identity["id"]
    assert sighting["where_sighted_refs"] == [identity["id"]]
    assert sighting["sighting_of_ref"] == OBJECT
    assert sighting["count"] == 3
    for obj in (identity, sighting):
        assert isinstance(checked(obj), ObjectVersion), obj


def test_withheld_feedback_names_the_hub_and_no_country() -> None:
    [sighting] = _receive(FeedbackAttribution.WITHHELD, count=3)
    assert sighting["created_by_ref"] == HUB
    assert "where_sighted_refs" not in sighting
    assert isinstance(checked(sighting), ObjectVersion)
    text = orjson.dumps(sighting).decode()
    for trace in ("FR", "France", country_identity_id("FR")):
        assert trace not in text


def test_each_partner_gets_its_own_stable_sighting_id() -> None:
    base = f"sighting--{uuid.uuid4()}"
    one = feedback_sighting_id(base, "analyst", "partner-1")
    assert one == feedback_sighting_id(base, "analyst", "partner-1")
    assert one != feedback_sighting_id(base, "analyst", "partner-2")
    assert one != feedback_sighting_id(base, "other-analyst", "partner-1")
    assert one != base
    assert one.startswith("sighting--")


def test_a_country_identity_is_the_same_object_every_time() -> None:
    assert country_identity(FRANCE) == country_identity(Country("FR", "France", "europe"))
    assert country_identity_id("FR") != country_identity_id("DE")
    assert isinstance(checked(country_identity(FRANCE)), ObjectVersion)
