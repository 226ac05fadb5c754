"""The gate before a submission: what stops a partner's envelope, and that a stopped envelope
leaves nothing behind (no object in the inbox or any country, no status resource, no
submission record, no quota use).

Every refusal is a TAXII error message naming its reason; lifting the cause (reinstating,
re-vetting, a new day, a smaller envelope) lets the partner submit again.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from exchange.partners.vetting import Criterion, Finding
from exchange.sharing.partners import AgreementStatus
from tests.functional.agreement_world import AgreementWorld, Partner, new_indicator, open_world
from tests.functional.conftest import assert_taxii_error, envelope
from tests.support.onboarding import FIRST_ADMIN, SECOND_ADMIN, pass_through_terms


@pytest.fixture
def aw(tmp_path: Path) -> Iterator[AgreementWorld]:
    yield from open_world(tmp_path)


def iso(moment: Any) -> str:
    return str(moment.isoformat().replace("+00:00", "Z"))


def assert_refused(
    aw: AgreementWorld, partner: Partner, status: int, *words: str, objects: int = 1
) -> dict[str, Any]:
    """Post an envelope: it gets ``status`` naming ``words``, and the store is unchanged."""
    before = aw.footprint(partner)
    sent = [new_indicator("must not be stored") for _ in range(objects)]
    response = aw.post(partner, *sent)
    error = assert_taxii_error(response, status)
    for word in words:
        assert word in error["description"], error
    assert aw.footprint(partner) == before
    for obj in sent:
        assert not aw.country_holds("FR", obj["id"])
    return error


def assert_accepted(aw: AgreementWorld, partner: Partner, count: int = 1) -> None:
    """Post an envelope of ``count`` new objects: all accepted, in the inbox and in FR."""
    sent = [new_indicator() for _ in range(count)]
    status = aw.submit(partner, *sent)
    assert status["failure_count"] == 0
    ids = {obj["id"] for obj in sent}
    assert ids <= aw.inbox_ids(partner)
    assert ids <= aw.country_ids("FR")


def test_agreements_gate_suspended_partner_until_reinstated(aw: AgreementWorld) -> None:
    partner = aw.partner("p-gate")
    assert_accepted(aw, partner)
    aw.hub.suspend_partner("p-gate", "breach of terms under review", admin=FIRST_ADMIN)
    error = assert_refused(aw, partner, 403, "submissions are refused", "suspended")
    assert error["title"] == "Not allowed"
    aw.hub.reinstate_partner("p-gate", admin=SECOND_ADMIN)
    assert_accepted(aw, partner)


def test_agreements_gate_terminated_partner(aw: AgreementWorld) -> None:
    partner = aw.partner("p-gate")
    aw.hub.terminate_partner("p-gate", "ended", admin=FIRST_ADMIN)
    assert_refused(aw, partner, 403, "terminated")


def test_agreements_gate_applicant_and_partner_under_review(aw: AgreementWorld) -> None:
    partner = aw.applicant("p-new")
    # Even with an agreement in force, a partner never vetted may not submit.
    aw.hub.set_agreement("p-new", pass_through_terms(["FR"]), admin=FIRST_ADMIN)
    assert_refused(aw, partner, 403, "the partner is applicant")
    aw.hub.open_review("p-new", admin=FIRST_ADMIN)
    assert_refused(aw, partner, 403, "under-review")
    for criterion in Criterion:
        aw.hub.assess("p-new", criterion, Finding.MET, "ok", admin=FIRST_ADMIN)
    aw.hub.approve_review("p-new", admin=FIRST_ADMIN)
    aw.hub.approve_review("p-new", admin=SECOND_ADMIN)
    assert_refused(aw, partner, 403, "approved")  # approved, not yet active
    aw.hub.activate_partner("p-new", admin=FIRST_ADMIN)
    assert_accepted(aw, partner)


def test_agreements_gate_lapsed_due_diligence_until_re_vetted(aw: AgreementWorld) -> None:
    partner = aw.applicant("p-lapse")
    revet_by = aw.clock.today + timedelta(days=30)
    aw.hub.open_review("p-lapse", admin=FIRST_ADMIN, revet_by=revet_by)
    for criterion in Criterion:
        aw.hub.assess("p-lapse", criterion, Finding.MET, "ok", admin=FIRST_ADMIN)
    aw.hub.approve_review("p-lapse", admin=FIRST_ADMIN)
    aw.hub.approve_review("p-lapse", admin=SECOND_ADMIN)
    aw.hub.activate_partner("p-lapse", admin=FIRST_ADMIN)
    aw.hub.set_agreement("p-lapse", pass_through_terms(["FR"]), admin=FIRST_ADMIN)
    assert_accepted(aw, partner)

    # Still vetted on the re-vetting date itself; lapsed the day after.
    aw.clock.now = aw.clock.now.replace(
        year=revet_by.year, month=revet_by.month, day=revet_by.day, hour=23, minute=59
    )
    assert_accepted(aw, partner)
    aw.clock.advance(minutes=2)
    assert aw.clock.today == revet_by + timedelta(days=1)
    assert_refused(aw, partner, 403, "lapsed", revet_by.isoformat())

    # A re-vetting review (the partner stays active meanwhile) lifts the lapse.
    aw.hub.open_review("p-lapse", admin=SECOND_ADMIN)
    assert_refused(aw, partner, 403, "lapsed")
    for criterion in Criterion:
        aw.hub.assess("p-lapse", criterion, Finding.MET, "renewed", admin=SECOND_ADMIN)
    aw.hub.approve_review("p-lapse", admin=SECOND_ADMIN)
    aw.hub.approve_review("p-lapse", admin=FIRST_ADMIN)
    record = aw.hub.partner("p-lapse")
    assert record.state.value == "active"
    assert record.vetted_until is not None
    assert record.vetted_until > aw.clock.today.isoformat()
    assert_accepted(aw, partner)


def test_agreements_gate_expired_agreement(aw: AgreementWorld) -> None:
    until = aw.clock.now + timedelta(hours=1)
    partner = aw.partner("p-exp", valid_until=iso(until))
    assert_accepted(aw, partner)
    aw.clock.advance(minutes=59)
    assert_accepted(aw, partner)
    aw.clock.now = until
    error = assert_refused(aw, partner, 403, "expired")
    assert "@v1" in error["description"]
    aw.clock.advance(days=30)
    assert_refused(aw, partner, 403, "expired")


def test_agreements_gate_agreement_not_yet_valid(aw: AgreementWorld) -> None:
    start = aw.clock.now + timedelta(days=2)
    partner = aw.partner("p-later", valid_from=iso(start))
    error = assert_refused(aw, partner, 403, "starts")
    assert str(start.year) in error["description"]
    aw.clock.now = start - timedelta(seconds=1)
    assert_refused(aw, partner, 403, "starts")
    aw.clock.now = start
    assert_accepted(aw, partner)


@pytest.mark.parametrize("status", [AgreementStatus.SUSPENDED, AgreementStatus.ENDED])
def test_agreements_gate_agreement_suspended_or_ended(
    aw: AgreementWorld, status: AgreementStatus
) -> None:
    partner = aw.partner("p-status")
    assert_accepted(aw, partner)
    view = aw.hub.set_agreement_status("p-status", status, admin=FIRST_ADMIN)
    assert view.version == 2
    error = assert_refused(aw, partner, 403, f"{view.ref} is {status.value}")
    assert error["title"] == "Not allowed"
    reactivated = aw.hub.set_agreement_status(
        "p-status", AgreementStatus.ACTIVE, admin=SECOND_ADMIN
    )
    assert reactivated.version == 3
    assert_accepted(aw, partner)


def test_agreements_gate_no_agreement_at_all(aw: AgreementWorld) -> None:
    partner = aw.partner("p-none", agreement=False)
    assert aw.hub.partner("p-none").state.value == "active"
    assert_refused(aw, partner, 403, "no sharing agreement")
    aw.hub.set_agreement("p-none", pass_through_terms(["FR"]), admin=FIRST_ADMIN)
    assert_accepted(aw, partner)


def test_agreements_gate_daily_quota_resets_on_the_next_utc_day(aw: AgreementWorld) -> None:
    aw.clock.now = aw.clock.now.replace(hour=10, minute=0)
    partner = aw.partner("p-quota", quotas={"objects_per_day": 5})
    assert_accepted(aw, partner, 2)
    assert_accepted(aw, partner, 2)
    error = assert_refused(aw, partner, 429, "allows 5 objects a day", "4 used today", objects=2)
    assert "would add 2" in error["description"]
    assert error["title"] == "Quota exceeded"
    assert "@v1" in error["description"]
    # What still fits passes; then nothing more today, even a single object.
    assert_accepted(aw, partner, 1)
    assert_refused(aw, partner, 429, "5 used today")
    aw.clock.advance(hours=13, minutes=59)  # 23:59 UTC, same day
    assert_refused(aw, partner, 429, "5 used today")
    aw.clock.next_utc_day()
    assert_accepted(aw, partner, 5)
    assert_refused(aw, partner, 429, "5 used today")


def test_agreements_gate_quota_counts_only_accepted_objects(aw: AgreementWorld) -> None:
    partner = aw.partner("p-quota", quotas={"objects_per_day": 2})
    broken = {"type": "indicator", "id": "indicator--not-a-uuid"}
    response = aw.post(partner, broken, new_indicator())
    assert response.status_code == 202
    assert (response.json()["success_count"], response.json()["failure_count"]) == (1, 1)
    assert_accepted(aw, partner, 1)
    assert_refused(aw, partner, 429, "2 used today")


def test_agreements_gate_envelope_over_the_agreements_size(aw: AgreementWorld) -> None:
    partner = aw.partner("p-size", quotas={"max_envelope_bytes": 2048})
    big = [new_indicator("x" * 600) for _ in range(4)]
    assert len(envelope(*big)) > 2048
    before = aw.footprint(partner)
    error = assert_taxii_error(aw.post(partner, *big), 413)
    assert "at most 2048 bytes" in error["description"]
    assert "@v1" in error["description"]
    assert aw.footprint(partner) == before
    assert not any(aw.country_holds("FR", obj["id"]) for obj in big)
    # A body that is not even an envelope is still refused by size first (nothing parsed).
    junk = b"{" * 3000
    assert_taxii_error(aw.post(partner, body=junk), 413)
    assert aw.footprint(partner) == before
    small = big[:1]
    assert len(envelope(*small)) <= 2048
    assert aw.submit(partner, *small)["success_count"] == 1
