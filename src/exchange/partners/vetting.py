"""Partner lifecycle and due diligence as pure state transitions.

A partner moves applicant -> under review -> approved -> active, and can be suspended,
reinstated or terminated. A due-diligence review assesses the organisation's three criteria,
each with a finding, an evidence note, the reviewer and the date; it is approved only by two
different admins (four-eyes) once every criterion is met. An approved review vets the partner
until its re-vetting due date; after that date the partner may not submit until a new review is
approved. Each function returns a new record or raises ``VettingError``; nothing here reads a
clock or a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from exchange.errors import InvalidRequest

__all__ = [
    "Approval",
    "Assessment",
    "Criterion",
    "Finding",
    "PartnerRecord",
    "PartnerState",
    "Review",
    "VettingError",
    "activate",
    "approve",
    "assess",
    "may_submit",
    "open_review",
    "record_from_dict",
    "record_to_dict",
    "reinstate",
    "reject",
    "suspend",
    "terminate",
]


class VettingError(InvalidRequest):
    """A lifecycle step that the partner's current state does not allow."""

    title = "Not allowed in this partner state"


class PartnerState(StrEnum):
    """Where a partner is in its lifecycle."""

    APPLICANT = "applicant"
    UNDER_REVIEW = "under-review"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class Criterion(StrEnum):
    """The organisation's three due-diligence criteria."""

    SHARES_VALUES = "shares-values"
    """The partner shares the organisation's fundamental values and principles."""
    COMPATIBLE_ACTIVITIES = "compatible-activities"
    """Its activities are compatible with the organisation's principles, aims and activities."""
    COMPATIBLE_PURPOSE = "compatible-purpose"
    """The contribution is intended for purposes compatible with the organisation's."""


class Finding(StrEnum):
    """The reviewer's finding on one criterion."""

    MET = "met"
    NOT_MET = "not-met"


@dataclass(frozen=True, slots=True)
class Assessment:
    """One criterion assessed."""

    criterion: Criterion
    finding: Finding
    evidence: str
    reviewer: str
    on: str  # ISO date


@dataclass(frozen=True, slots=True)
class Approval:
    """One admin's approval of a review."""

    admin: str
    at: str  # ISO timestamp


@dataclass(frozen=True, slots=True)
class Review:
    """A due-diligence review: assessments, approvals, and the re-vetting date it sets."""

    opened_by: str
    opened_at: str
    revet_by: str  # ISO date: the partner must be vetted again by then
    assessments: tuple[Assessment, ...] = ()
    approvals: tuple[Approval, ...] = ()
    outcome: str = "open"  # open, approved, rejected
    note: str = ""

    def assessment(self, criterion: Criterion) -> Assessment | None:
        """The latest assessment of ``criterion``."""
        found = [a for a in self.assessments if a.criterion is criterion]
        return found[-1] if found else None


@dataclass(frozen=True, slots=True)
class PartnerRecord:
    """A partner's lifecycle state, its current review and how long it is vetted."""

    account_id: str
    state: PartnerState = PartnerState.APPLICANT
    vetted_until: str | None = None  # ISO date, from the last approved review
    review: Review | None = None
    reason: str = ""
    history: tuple[dict[str, Any], ...] = field(default=())

    def _moved(
        self, state: PartnerState, step: str, actor: str, at: str, **changes: Any
    ) -> PartnerRecord:
        entry = {"step": step, "by": actor, "at": at, "from": self.state.value, "to": state.value}
        return replace(self, state=state, history=(*self.history, entry), **changes)


def _require(record: PartnerRecord, *states: PartnerState, step: str) -> None:
    if record.state not in states:
        allowed = ", ".join(s.value for s in states)
        raise VettingError(
            f"cannot {step} a partner that is {record.state.value} (needs {allowed})"
        )


def open_review(record: PartnerRecord, admin: str, now: datetime, revet_by: date) -> PartnerRecord:
    """Start a due-diligence review: first vetting (applicant) or re-vetting."""
    if record.review is not None and record.review.outcome == "open":
        raise VettingError("a review is already open for this partner")
    _require(
        record,
        PartnerState.APPLICANT,
        PartnerState.APPROVED,
        PartnerState.ACTIVE,
        PartnerState.SUSPENDED,
        step="review",
    )
    if revet_by <= now.date():
        raise VettingError("the re-vetting date must be in the future")
    review = Review(opened_by=admin, opened_at=now.isoformat(), revet_by=revet_by.isoformat())
    state = PartnerState.UNDER_REVIEW if record.state is PartnerState.APPLICANT else record.state
    return record._moved(state, "open-review", admin, now.isoformat(), review=review)


def _open(record: PartnerRecord) -> Review:
    if record.review is None or record.review.outcome != "open":
        raise VettingError("no review is open for this partner: open one first")
    return record.review


def assess(
    record: PartnerRecord,
    criterion: Criterion,
    finding: Finding,
    evidence: str,
    reviewer: str,
    now: datetime,
) -> PartnerRecord:
    """Record a finding, with evidence, on one criterion of the open review."""
    review = _open(record)
    if not evidence.strip():
        raise VettingError("an assessment needs an evidence note")
    if review.approvals:
        raise VettingError("the review already has an approval; open a new review to reassess")
    assessment = Assessment(criterion, finding, evidence.strip(), reviewer, now.date().isoformat())
    return replace(record, review=replace(review, assessments=(*review.assessments, assessment)))


def approve(record: PartnerRecord, admin: str, now: datetime) -> PartnerRecord:
    """Approve the open review. The second approval, by a different admin, vets the partner."""
    review = _open(record)
    missing = [c.value for c in Criterion if review.assessment(c) is None]
    if missing:
        raise VettingError(f"criteria not yet assessed: {', '.join(missing)}")
    unmet = [c.value for c in Criterion if review.assessment(c).finding is not Finding.MET]  # type: ignore[union-attr]
    if unmet:
        raise VettingError(f"criteria not met, the review cannot be approved: {', '.join(unmet)}")
    if any(a.admin == admin for a in review.approvals):
        raise VettingError("four-eyes: a second, different admin must approve this review")
    approvals = (*review.approvals, Approval(admin, now.isoformat()))
    if len(approvals) < 2:
        return replace(record, review=replace(review, approvals=approvals))
    done = replace(review, approvals=approvals, outcome="approved")
    state = PartnerState.APPROVED if record.state is PartnerState.UNDER_REVIEW else record.state
    return record._moved(
        state, "approve", admin, now.isoformat(), review=done, vetted_until=review.revet_by
    )


def reject(record: PartnerRecord, admin: str, reason: str, now: datetime) -> PartnerRecord:
    """Close the open review as rejected; a first-time applicant goes back to applicant."""
    review = _open(record)
    if not reason.strip():
        raise VettingError("give a reason for the rejection")
    done = replace(review, outcome="rejected", note=reason)
    state = PartnerState.APPLICANT if record.state is PartnerState.UNDER_REVIEW else record.state
    return record._moved(state, "reject", admin, now.isoformat(), review=done, reason=reason)


def activate(record: PartnerRecord, admin: str, now: datetime) -> PartnerRecord:
    """Make an approved partner active."""
    _require(record, PartnerState.APPROVED, step="activate")
    return record._moved(PartnerState.ACTIVE, "activate", admin, now.isoformat(), reason="")


def suspend(record: PartnerRecord, admin: str, reason: str, now: datetime) -> PartnerRecord:
    """Suspend an active partner: its submissions and redistribution stop at once."""
    _require(record, PartnerState.ACTIVE, step="suspend")
    if not reason.strip():
        raise VettingError("give a reason for the suspension")
    return record._moved(PartnerState.SUSPENDED, "suspend", admin, now.isoformat(), reason=reason)


def reinstate(record: PartnerRecord, admin: str, now: datetime) -> PartnerRecord:
    """Reinstate a suspended partner."""
    _require(record, PartnerState.SUSPENDED, step="reinstate")
    return record._moved(PartnerState.ACTIVE, "reinstate", admin, now.isoformat(), reason="")


def terminate(record: PartnerRecord, admin: str, reason: str, now: datetime) -> PartnerRecord:
    """End the partnership for good."""
    if record.state is PartnerState.TERMINATED:
        raise VettingError("the partner is already terminated")
    if not reason.strip():
        raise VettingError("give a reason for the termination")
    return record._moved(
        PartnerState.TERMINATED, "terminate", admin, now.isoformat(), reason=reason
    )


def may_submit(record: PartnerRecord | None, today: date) -> str | None:
    """Why the partner may not submit today, or None when it may."""
    if record is None:
        return "the partner has not been vetted"
    if record.state is not PartnerState.ACTIVE:
        return f"the partner is {record.state.value}"
    if record.vetted_until is None:
        return "the partner has not been vetted"
    if date.fromisoformat(record.vetted_until) < today:
        return (
            f"the partner's due-diligence review lapsed (re-vetting was due by "
            f"{record.vetted_until})"
        )
    return None


def record_to_dict(record: PartnerRecord) -> dict[str, Any]:
    """A JSON-ready form of a partner record."""
    review = record.review
    return {
        "account_id": record.account_id,
        "state": record.state.value,
        "vetted_until": record.vetted_until,
        "reason": record.reason,
        "review": None
        if review is None
        else {
            "opened_by": review.opened_by,
            "opened_at": review.opened_at,
            "revet_by": review.revet_by,
            "outcome": review.outcome,
            "note": review.note,
            "assessments": [
                {
                    "criterion": a.criterion.value,
                    "finding": a.finding.value,
                    "evidence": a.evidence,
                    "reviewer": a.reviewer,
                    "on": a.on,
                }
                for a in review.assessments
            ],
            "approvals": [{"admin": a.admin, "at": a.at} for a in review.approvals],
        },
        "history": list(record.history),
    }


def record_from_dict(data: dict[str, Any]) -> PartnerRecord:
    """A partner record back from :func:`record_to_dict`'s form."""
    raw = data.get("review")
    review = None
    if raw is not None:
        review = Review(
            opened_by=raw["opened_by"],
            opened_at=raw["opened_at"],
            revet_by=raw["revet_by"],
            outcome=raw["outcome"],
            note=raw.get("note", ""),
            assessments=tuple(
                Assessment(
                    Criterion(a["criterion"]),
                    Finding(a["finding"]),
                    a["evidence"],
                    a["reviewer"],
                    a["on"],
                )
                for a in raw["assessments"]
            ),
            approvals=tuple(Approval(a["admin"], a["at"]) for a in raw["approvals"]),
        )
    return PartnerRecord(
        account_id=data["account_id"],
        state=PartnerState(data["state"]),
        vetted_until=data.get("vetted_until"),
        review=review,
        reason=data.get("reason", ""),
        history=tuple(data.get("history", ())),
    )
