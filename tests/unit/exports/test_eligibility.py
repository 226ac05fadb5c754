"""Which indicators may feed automated tools, and which objects an analyst's filters keep.

Tables of (object, markings, use) -> allowed or the start of the refusal's reason. Time is
fixed: ``NOW`` is 2025-06-01.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from exchange.agreements.markings import IEP_EXTENSION_ID, TLP1_MARKING, TLP2_MARKING
from exchange.agreements.terms import Tlp
from exchange.exports.eligibility import Filters, Markings, Use, automated, eligible, selected

NOW = datetime(2025, 6, 1, tzinfo=UTC)
BLOCK, DETECT = Use.BLOCKING, Use.DETECTION


def iep(actions: str | None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extension_type": "property-extension",
        "tlp": "green",
        "start_date": "2022-10-01T00:00:00Z",
        **extra,
    }
    if actions is not None:
        body["permitted_actions"] = actions
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{uuid.uuid5(uuid.NAMESPACE_URL, repr(sorted(body.items())))}",
        "created": "2024-01-01T00:00:00.000Z",
        "extensions": {IEP_EXTENSION_ID: body},
    }


POLICIES = {
    "none": iep("none"),
    "contact": iep("contact-for-instruction"),
    "internal": iep("internally-visible-actions"),
    "indirect": iep("externally-visible-indirect-actions"),
    "direct": iep("externally-visible-direct-actions"),
    "shouting": iep("EXTERNALLY-VISIBLE-DIRECT-ACTIONS"),
    "unknown-action": iep("block-everything"),
    "no-action": iep(None),
    "ended": iep("externally-visible-direct-actions", end_date="2025-05-31T00:00:00Z"),
    "ends-later": iep("externally-visible-direct-actions", end_date="2025-06-02T00:00:00Z"),
    "starts-later": iep("externally-visible-direct-actions", start_date="2025-07-01T00:00:00Z"),
    "red": iep("externally-visible-direct-actions", tlp="red"),
    "amber": iep("externally-visible-direct-actions", tlp="amber"),
}
STATEMENT = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": "marking-definition--b5a36a83-6c2b-4c43-a5d3-3a3a2f1b8a11",
    "created": "2024-01-01T00:00:00.000Z",
    "definition_type": "statement",
    "definition": {"statement": "Copyright 2024, Example Corp"},
}
MARKINGS = Markings([*POLICIES.values(), STATEMENT, {"type": "indicator", "id": "x"}])
GREEN = TLP2_MARKING[Tlp.GREEN]


def ind(*refs: str, **extra: Any) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "id": f"indicator--{uuid.uuid4()}",
        "pattern": "[ipv4-addr:value = '198.51.100.7']",
        "pattern_type": "stix",
        "valid_from": "2024-01-01T00:00:00Z",
    }
    if refs:
        obj["object_marking_refs"] = list(refs)
    obj.update(extra)
    return obj


def policy(name: str) -> str:
    return str(POLICIES[name]["id"])


AUTOMATED: list[tuple[str, dict[str, Any], Use, str | None]] = [
    ("unmarked", ind(), BLOCK, None),
    ("green", ind(GREEN), BLOCK, None),
    ("amber+strict", ind(TLP2_MARKING[Tlp.AMBER_STRICT]), BLOCK, None),
    ("revoked", ind(GREEN, revoked=True), DETECT, "revoked"),
    ("not revoked", ind(GREEN, revoked=False), BLOCK, None),
    ("expired", ind(valid_until="2025-05-31T23:59:59Z"), BLOCK, "expired at"),
    ("expires now", ind(valid_until="2025-06-01T00:00:00Z"), DETECT, "expired at"),
    ("valid later", ind(valid_until="2025-06-01T00:00:00.001Z"), BLOCK, None),
    ("not yet valid", ind(valid_from="2025-06-01T00:00:01Z"), BLOCK, "not valid before"),
    ("garbled valid_until", ind(valid_until="soon"), BLOCK, "valid_until is not"),
    ("TLP 2.0 red", ind(TLP2_MARKING[Tlp.RED]), DETECT, "TLP:RED"),
    ("TLP 1.0 red", ind(TLP1_MARKING[Tlp.RED]), BLOCK, "TLP:RED"),
    ("red and green", ind(GREEN, TLP2_MARKING[Tlp.RED]), BLOCK, "TLP:RED"),
    (
        "granular red",
        ind(
            GREEN, granular_markings=[{"marking_ref": TLP2_MARKING[Tlp.RED], "selectors": ["name"]}]
        ),
        BLOCK,
        "TLP:RED",
    ),
    ("IEP red", ind(policy("red")), DETECT, "TLP:RED"),
    ("malformed refs", ind(object_marking_refs="not a list"), BLOCK, "its markings are malformed"),
    ("unknown marking", ind(GREEN, "marking-definition--" + "0" * 32), BLOCK, "marking"),
    ("statement marking", ind(GREEN, STATEMENT["id"]), BLOCK, None),
    ("IEP none, blocking", ind(policy("none")), BLOCK, "the IEP policy"),
    ("IEP none, detection", ind(policy("none")), DETECT, "the IEP policy"),
    ("IEP contact, detection", ind(policy("contact")), DETECT, "the IEP policy"),
    ("IEP internal, blocking", ind(policy("internal")), BLOCK, "the IEP policy"),
    ("IEP internal, detection", ind(policy("internal")), DETECT, None),
    ("IEP indirect, blocking", ind(policy("indirect")), BLOCK, None),
    ("IEP indirect, detection", ind(policy("indirect")), DETECT, None),
    ("IEP direct, blocking", ind(policy("direct")), BLOCK, None),
    ("IEP in capitals", ind(policy("shouting")), BLOCK, None),
    ("IEP unknown action", ind(policy("unknown-action")), DETECT, "the IEP policy"),
    ("IEP without actions", ind(policy("no-action")), DETECT, "the IEP policy"),
    ("IEP ended", ind(policy("ended")), DETECT, "the IEP policy"),
    ("IEP ends later", ind(policy("ends-later")), BLOCK, None),
    ("IEP starts later", ind(policy("starts-later")), DETECT, "the IEP policy"),
    ("two IEPs, the stricter wins", ind(policy("direct"), policy("internal")), BLOCK, "the IEP"),
]


@pytest.mark.parametrize(
    ("obj", "use", "refusal"), [row[1:] for row in AUTOMATED], ids=[row[0] for row in AUTOMATED]
)
def test_automated_use(obj: dict[str, Any], use: Use, refusal: str | None) -> None:
    verdict = automated(obj, MARKINGS.read(obj), use, NOW)
    if refusal is None:
        assert verdict.allowed, verdict.reason
        assert verdict.reason == ""
    else:
        assert not verdict.allowed
        assert verdict.reason.startswith(refusal), verdict.reason


def test_reasons_name_what_refused() -> None:
    internal = ind(policy("internal"))
    reason = automated(internal, MARKINGS.read(internal), BLOCK, NOW).reason
    assert policy("internal") in reason
    assert "internally-visible-actions" in reason
    assert "externally-visible-indirect-actions" in reason
    red = ind(TLP2_MARKING[Tlp.RED])
    assert "never for automated use" in automated(red, MARKINGS.read(red), DETECT, NOW).reason


SELECTED: list[tuple[str, dict[str, Any], Filters, str | None]] = [
    ("no filters", ind(), Filters(), None),
    ("revoked", ind(GREEN, revoked=True), Filters(), "revoked"),
    ("confidence above", ind(confidence=80), Filters(min_confidence=50), None),
    ("confidence equal", ind(confidence=50), Filters(min_confidence=50), None),
    ("confidence below", ind(confidence=49), Filters(min_confidence=50), "confidence 49"),
    ("no confidence", ind(), Filters(min_confidence=0), "states no confidence"),
    ("boolean confidence", ind(confidence=True), Filters(min_confidence=0), "states no"),
    ("tlp below", ind(GREEN), Filters(max_tlp=Tlp.AMBER), None),
    ("tlp equal", ind(GREEN), Filters(max_tlp=Tlp.GREEN), None),
    ("tlp 1.0 white is clear", ind(TLP1_MARKING[Tlp.CLEAR]), Filters(max_tlp=Tlp.CLEAR), None),
    ("tlp above", ind(TLP2_MARKING[Tlp.AMBER]), Filters(max_tlp=Tlp.GREEN), "TLP:AMBER is"),
    ("tlp unknown", ind(), Filters(max_tlp=Tlp.AMBER_STRICT), "its TLP is unknown"),
    ("tlp from an IEP", ind(policy("amber")), Filters(max_tlp=Tlp.GREEN), "TLP:AMBER is"),
    ("malformed", ind(object_marking_refs=[5]), Filters(max_tlp=Tlp.RED), "its markings"),
    (
        "marking definitions are kept",
        dict(POLICIES["red"]),
        Filters(min_confidence=90, max_tlp=Tlp.CLEAR),
        None,
    ),
]


@pytest.mark.parametrize(
    ("obj", "filters", "refusal"), [row[1:] for row in SELECTED], ids=[row[0] for row in SELECTED]
)
def test_selected(obj: dict[str, Any], filters: Filters, refusal: str | None) -> None:
    verdict = selected(obj, MARKINGS.read(obj), filters)
    if refusal is None:
        assert verdict.allowed, verdict.reason
    else:
        assert not verdict.allowed
        assert verdict.reason.startswith(refusal), verdict.reason


def test_eligible_applies_the_filters_then_the_automated_rules() -> None:
    expired = ind(GREEN, confidence=10, valid_until="2020-01-01T00:00:00Z")
    assert eligible(expired, MARKINGS, Filters(), None, NOW).allowed
    assert eligible(expired, MARKINGS, Filters(), BLOCK, NOW).reason.startswith("expired")
    assert eligible(expired, MARKINGS, Filters(min_confidence=50), BLOCK, NOW).reason.startswith(
        "confidence 10"
    )


def test_markings_read_tlp_from_definitions_in_the_collection() -> None:
    home_made = {
        "type": "marking-definition",
        "id": "marking-definition--1f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b",
        "definition_type": "tlp",
        "definition": {"tlp": "amber"},
    }
    markings = Markings([home_made])
    assert markings.tlp(ind(home_made["id"])) is Tlp.AMBER
    assert markings.tlp(ind(GREEN, policy("red"))) is Tlp.GREEN  # that IEP is not known here
    assert MARKINGS.tlp(ind(GREEN, policy("red"))) is Tlp.RED
    assert MARKINGS.tlp(ind()) is None
    assert MARKINGS.read(ind(GREEN, "marking-definition--x")).unknown == ("marking-definition--x",)
