"""The engine: AllOf fails closed, policy_for's order, decide's decisions, hub_objects."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from exchange.agreements.policy import (
    AllOf,
    Clause,
    Context,
    Item,
    Refuse,
    decide,
    hub_objects,
    policy_for,
)
from exchange.agreements.terms import Category
from tests.unit.agreements import support as s

IND = s.indicator()


class Accept:
    """Accepts, and counts its calls."""

    name = "accept"

    def __init__(self) -> None:
        self.calls = 0

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        self.calls += 1
        return item


class Say:
    """Refuses with a code."""

    name = "say"

    def __init__(self, code: str) -> None:
        self.code = code

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        return Refuse(self.code, f"no ({ctx.agreement})")


class Returns:
    """Returns whatever it is told to make of the item (for misbehaving clauses)."""

    name = "returns"

    def __init__(self, make: Any) -> None:
        self.make = make

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        result: Item | Refuse = self.make(item)
        return result


class Boom:
    """Raises."""

    name = "boom"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        raise KeyError("secret detail")


def _apply(clauses: list[Clause]) -> Item | Refuse:
    return AllOf(clauses).apply(s.item(IND), s.context([IND]))


def test_an_empty_allof_refuses() -> None:
    result = _apply([])
    assert isinstance(result, Refuse)
    assert result.code == "no_clauses"
    assert s.AGREEMENT in result.message


def test_allof_stops_at_the_first_refusal() -> None:
    after = Accept()
    result = _apply([Accept(), Say("first"), Say("second"), after])
    assert isinstance(result, Refuse)
    assert result.code == "first"
    assert after.calls == 0


def test_allof_passes_each_result_on() -> None:
    narrowed = Returns(lambda item: dataclasses.replace(item, audience=frozenset({"FR"})))
    result = _apply([narrowed, Accept()])
    assert isinstance(result, Item)
    assert result.audience == {"FR"}


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda item: dataclasses.replace(item, audience=frozenset({"US"})), id="widen"
        ),
        pytest.param(
            lambda item: dataclasses.replace(item, obj={**item.obj, "id": "indicator--other"}),
            id="change-id",
        ),
        pytest.param(
            lambda item: dataclasses.replace(item, obj={**item.obj, "type": "malware"}),
            id="change-type",
        ),
        pytest.param(lambda item: None, id="none"),
        pytest.param(lambda item: item.obj, id="not-an-item"),
    ],
)
def test_allof_refuses_when_a_clause_misbehaves(make: Any) -> None:
    result = _apply([Returns(make)])
    assert isinstance(result, Refuse)
    assert result.code == "policy_error"


def test_decide_fails_closed_on_an_exception() -> None:
    decision = decide(IND, s.context([IND]), AllOf([Accept(), Boom()]))
    assert not decision.accepted
    assert decision.code == "policy_error"
    assert decision.redistributed is None
    assert "secret detail" not in decision.message
    assert s.AGREEMENT in decision.message


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ("not a mapping", "policy_error"),
        ({"id": 5, "type": "indicator", "object_marking_refs": "x"}, "markings_invalid"),
        ({"type": "indicator"}, "accepted"),  # the structure check before the engine refuses it
    ],
)
def test_decide_survives_odd_input(obj: Any, code: str) -> None:
    agreement = s.terms()
    decision = decide(obj, s.context(agreement_terms=agreement), policy_for(agreement))
    assert decision.stix_id == ""
    assert decision.code == code


def test_decide_accepts_with_the_audience() -> None:
    agreement = s.terms()
    decision = decide(IND, s.context([IND], agreement_terms=agreement), policy_for(agreement))
    assert (decision.accepted, decision.code) == (True, "accepted")
    assert decision.stix_id == IND["id"]
    assert decision.redistributed is not None
    assert decision.redistributed.audience == s.AUDIENCE
    assert decision.redistributed.category is Category.THREAT
    assert s.AGREEMENT in decision.message


def test_decide_keeps_red_in_the_inbox() -> None:
    agreement = s.terms(tlp={"highest_accepted": "red"})
    red = s.indicator(object_marking_refs=[s.TLP2_RED])
    decision = decide(red, s.context([red], agreement_terms=agreement), policy_for(agreement))
    assert (decision.accepted, decision.code) == (True, "accepted_not_redistributed")
    assert decision.redistributed is None
    assert "TLP:RED" in decision.message
    assert s.AGREEMENT in decision.message


def test_decide_with_no_receiving_country() -> None:
    agreement = s.terms()
    ctx = s.context([IND], agreement_terms=agreement, audience=frozenset())
    decision = decide(IND, ctx, policy_for(agreement))
    assert decision.code == "accepted_not_redistributed"


def test_decide_refuses_with_the_clause_code() -> None:
    agreement = s.terms(accepted_types=["malware"])
    decision = decide(IND, s.context([IND], agreement_terms=agreement), policy_for(agreement))
    assert (decision.accepted, decision.code) == (False, "type_not_accepted")
    assert decision.redistributed is None


def _names(**changes: Any) -> list[str]:
    return [clause.name for clause in policy_for(s.terms(**changes)).clauses]


def test_policy_for_order() -> None:
    assert _names() == [
        "in-force",
        "accepted-categories",
        "recipients",
        "iep-not-ended",
        "tlp",
        "victim-data-refuse",
        "attribution-named",
    ]
    assert _names(
        accepted_types=["indicator"],
        iep={"honour": False},
        victim_data="redact",
        attribution="anonymous",
    ) == [
        "in-force",
        "accepted-types",
        "accepted-categories",
        "recipients",
        "tlp",
        "victim-data-redact",
        "attribution-anonymous",
    ]
    assert _names(victim_data="victim-country", attribution="pseudonymous")[-2:] == [
        "victim-data-victim-country",
        "attribution-pseudonymous",
    ]


@pytest.mark.parametrize("field", ["victim_data", "attribution"])
def test_a_term_the_engine_does_not_know_refuses_everything(field: str) -> None:
    agreement = s.terms().model_copy(update={field: "telepathic"})
    decision = decide(IND, s.context([IND], agreement_terms=agreement), policy_for(agreement))
    assert decision.code == "unknown_clause"


def test_decide_runs_the_default_policy_end_to_end() -> None:
    agreement = s.terms(categories=["threat", "attack"])
    ctx = s.context([IND], agreement_terms=agreement)
    decision = decide(IND, ctx, policy_for(agreement))
    assert decision.redistributed is not None
    assert decision.redistributed.obj["object_marking_refs"] == [s.TLP2_AMBER]


# hub_objects -------------------------------------------------------------------------------
def _hub(**changes: Any) -> list[dict[str, Any]]:
    return hub_objects(s.context(agreement_terms=s.terms(**changes)))


def test_hub_objects_named() -> None:
    shipped = _hub()
    assert [o["id"] for o in shipped] == [
        s.TLP2_CLEAR,
        s.TLP2_GREEN,
        s.TLP2_AMBER,
        s.TLP2_AMBER_STRICT,
    ]


def test_hub_objects_pseudonymous() -> None:
    shipped = _hub(
        attribution="pseudonymous", tlp={"highest_accepted": "green", "default": "clear"}
    )
    identity, *markings = shipped
    assert identity["id"] == s.PSEUDONYM
    assert identity["type"] == "identity"
    assert "acme" not in orjson.dumps(identity).decode().casefold()
    assert [o["id"] for o in markings] == [s.TLP2_CLEAR, s.TLP2_GREEN]


def test_hub_objects_anonymous_never_ship_red() -> None:
    shipped = _hub(
        attribution="anonymous", tlp={"highest_accepted": "red", "never_redistribute": []}
    )
    assert shipped[0]["id"] == s.HUB
    ids = [o["id"] for o in shipped[1:]]
    assert s.TLP2_RED not in ids
    assert ids == [s.TLP2_CLEAR, s.TLP2_GREEN, s.TLP2_AMBER, s.TLP2_AMBER_STRICT]


def test_hub_objects_mark_the_identity_clear_even_when_clear_is_withheld() -> None:
    shipped = _hub(attribution="anonymous", tlp={"never_redistribute": ["clear", "red"]})
    assert shipped[0]["object_marking_refs"] == [s.TLP2_CLEAR]
    assert s.TLP2_CLEAR in [o["id"] for o in shipped]


def test_hub_objects_are_deterministic() -> None:
    first = _hub(attribution="pseudonymous")
    second = _hub(attribution="pseudonymous")
    assert orjson.dumps(first) == orjson.dumps(second)
    assert first[0]["created"] == first[0]["modified"]
