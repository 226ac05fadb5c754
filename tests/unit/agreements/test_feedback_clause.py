"""The agreement clause ``feedback_attribution``: privacy-preserving by default, and older
agreements (written before the clause existed) stay valid and read as ``withheld``."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from exchange.agreements.terms import AgreementTerms, FeedbackAttribution


def _terms(**extra: Any) -> dict[str, Any]:
    return {
        "valid_from": "2026-01-01T00:00:00Z",
        "legal_basis": "Test agreement",
        "purpose": "Testing feedback",
        "recipients": {"countries": ["FR"]},
        **extra,
    }


def test_the_default_withholds_the_country() -> None:
    assert AgreementTerms.model_validate(_terms()).feedback_attribution is (
        FeedbackAttribution.WITHHELD
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [("named", FeedbackAttribution.NAMED), ("withheld", FeedbackAttribution.WITHHELD)],
)
def test_both_values_are_accepted(value: str, expected: FeedbackAttribution) -> None:
    terms = AgreementTerms.model_validate(_terms(feedback_attribution=value))
    assert terms.feedback_attribution is expected
    # It survives the round trip through the stored JSON of an agreement version.
    stored = orjson.dumps(terms.model_dump(mode="json"))
    assert AgreementTerms.model_validate_json(stored).feedback_attribution is expected


@pytest.mark.parametrize("value", ["anonymous", "Named", "", None, True, ["named"]])
def test_other_values_are_refused(value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        AgreementTerms.model_validate(_terms(feedback_attribution=value))
    assert caught.value.errors()[0]["loc"] == ("feedback_attribution",)


def test_an_agreement_stored_before_the_clause_existed_still_reads() -> None:
    stored = orjson.dumps(_terms())  # JSON without the field, as older versions were kept
    assert b"feedback_attribution" not in stored
    terms = AgreementTerms.model_validate_json(stored)
    assert terms.feedback_attribution is FeedbackAttribution.WITHHELD


def test_the_clause_is_independent_of_submission_attribution() -> None:
    terms = AgreementTerms.model_validate(_terms(attribution="anonymous"))
    assert terms.feedback_attribution is FeedbackAttribution.WITHHELD
    terms = AgreementTerms.model_validate(
        _terms(attribution="anonymous", feedback_attribution="named")
    )
    assert terms.feedback_attribution is FeedbackAttribution.NAMED
