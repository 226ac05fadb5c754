"""Admin REST API for partners (due diligence, lifecycle), agreements, member countries and
the record of changes. Admins only; every change names the admin who made it."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from exchange.admin.routes import AdminAccount, require_admin
from exchange.partners.vetting import Criterion, Finding, PartnerRecord, record_to_dict
from exchange.sharing.partners import AgreementStatus
from exchange.taxii.auth import HubDep

__all__ = ["build_partner_router"]


class _Request(BaseModel):
    """A request body: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ReviewOpen(_Request):
    """Open a due-diligence review."""

    revet_by: date | None = Field(
        default=None, description="Date by which the partner must be vetted again (default +1y)."
    )


class AssessmentWrite(_Request):
    """A finding on one criterion."""

    criterion: Criterion
    finding: Finding
    evidence: str = Field(min_length=1, max_length=4000)


class Reason(_Request):
    """Why (suspension, termination, rejection)."""

    reason: str = Field(min_length=1, max_length=2000)


class AgreementWrite(_Request):
    """The terms of the next agreement version (see AgreementTerms) and its status."""

    terms: dict[str, Any]
    status: AgreementStatus = AgreementStatus.ACTIVE


class StatusWrite(_Request):
    """A new status for the agreement."""

    status: AgreementStatus


def _partner(username: str, record: PartnerRecord) -> dict[str, Any]:
    return {"username": username, **record_to_dict(record)}


def build_partner_router() -> APIRouter:
    """The routes under ``/admin`` for partners, agreements, countries and changes."""
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

    @router.get("/partners")
    def list_partners(hub: HubDep) -> list[dict[str, Any]]:
        """Every partner with its lifecycle state and due-diligence record."""
        return [_partner(account.username, record) for account, record in hub.partners()]

    @router.get("/partners/{username}")
    def show_partner(username: str, hub: HubDep) -> dict[str, Any]:
        """One partner's lifecycle state and due-diligence record."""
        return _partner(username, hub.partner(username))

    @router.post("/partners/{username}/review")
    def open_review(
        username: str, body: ReviewOpen, admin: AdminAccount, hub: HubDep
    ) -> dict[str, Any]:
        """Open a due-diligence review (first vetting or re-vetting)."""
        record = hub.open_review(username, admin=admin.username, revet_by=body.revet_by)
        return _partner(username, record)

    @router.post("/partners/{username}/review/assessments")
    def assess(
        username: str, body: AssessmentWrite, admin: AdminAccount, hub: HubDep
    ) -> dict[str, Any]:
        """Record a finding, with evidence, on one of the three criteria."""
        record = hub.assess(
            username, body.criterion, body.finding, body.evidence, admin=admin.username
        )
        return _partner(username, record)

    @router.post("/partners/{username}/review/approve")
    def approve(username: str, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Approve the open review; a second, different admin's approval vets the partner."""
        return _partner(username, hub.approve_review(username, admin=admin.username))

    @router.post("/partners/{username}/review/reject")
    def reject(username: str, body: Reason, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Reject the open review."""
        return _partner(username, hub.reject_review(username, body.reason, admin=admin.username))

    @router.post("/partners/{username}/activate")
    def activate(username: str, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Make an approved partner active."""
        return _partner(username, hub.activate_partner(username, admin=admin.username))

    @router.post("/partners/{username}/suspend")
    def suspend(username: str, body: Reason, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Suspend a partner: submissions and redistribution stop at once."""
        record = hub.suspend_partner(username, body.reason, admin=admin.username)
        return _partner(username, record)

    @router.post("/partners/{username}/reinstate")
    def reinstate(username: str, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Reinstate a suspended partner."""
        return _partner(username, hub.reinstate_partner(username, admin=admin.username))

    @router.post("/partners/{username}/terminate")
    def terminate(username: str, body: Reason, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """End a partnership for good."""
        record = hub.terminate_partner(username, body.reason, admin=admin.username)
        return _partner(username, record)

    @router.get("/partners/{username}/agreement")
    def agreement(username: str, hub: HubDep) -> dict[str, Any]:
        """The current version of the partner's agreement."""
        return hub.agreement(username).as_dict()

    @router.get("/partners/{username}/agreement/versions")
    def agreement_versions(username: str, hub: HubDep) -> list[dict[str, Any]]:
        """Every version of the partner's agreement, oldest first."""
        return [view.as_dict() for view in hub.agreement_history(username)]

    @router.put("/partners/{username}/agreement")
    def set_agreement(
        username: str, body: AgreementWrite, admin: AdminAccount, hub: HubDep
    ) -> dict[str, Any]:
        """Write the next version of the partner's agreement (terms are validated)."""
        view = hub.set_agreement(username, body.terms, admin=admin.username, status=body.status)
        return view.as_dict()

    @router.post("/partners/{username}/agreement/status")
    def agreement_status(
        username: str, body: StatusWrite, admin: AdminAccount, hub: HubDep
    ) -> dict[str, Any]:
        """Suspend, end or reactivate the agreement (a new version)."""
        return hub.set_agreement_status(username, body.status, admin=admin.username).as_dict()

    @router.get("/agreements")
    def list_agreements(hub: HubDep) -> list[dict[str, Any]]:
        """The current version of every agreement."""
        return [view.as_dict() for view in hub.agreements()]

    @router.get("/countries")
    def countries(hub: HubDep) -> list[dict[str, str]]:
        """The member countries."""
        return [
            {"code": country.code, "name": country.name, "region": country.region}
            for country in hub.countries
        ]

    @router.get("/changes")
    def changes(
        hub: HubDep, entity: str | None = None, entity_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The record of administrative changes (actor, time, before and after)."""
        return [
            {
                "seq": change.seq,
                "at": change.at,
                "actor": change.actor,
                "entity": change.entity,
                "entity_id": change.entity_id,
                "action": change.action,
                "before": None if change.before is None else orjson.loads(change.before),
                "after": None if change.after is None else orjson.loads(change.after),
            }
            for change in hub.changes(entity, entity_id)
        ]

    return router
