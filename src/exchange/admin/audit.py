"""The audit log over HTTP: signed tree heads, events and proofs for admins (``/admin/audit``),
and, for partners, the events about their own contributions with inclusion proofs
(``/partner/audit/events``).

Proof and hash values are lower-case hex; heads are ``{"head": {size, root, timestamp},
"key_id", "signature"}`` with the signature over ``HEAD_CONTEXT`` + the head's RFC 8785 JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from exchange.admin.routes import require_admin
from exchange.errors import NotAllowed, NotFound
from exchange.sharing.audit import event_json
from exchange.store.models import Account, Role
from exchange.taxii.auth import CurrentAccount, HubDep

__all__ = ["build_audit_router"]


def require_partner(account: CurrentAccount) -> Account:
    """The authenticated account, which must be a partner (else 403)."""
    if account.role is not Role.PARTNER:
        raise NotAllowed("this endpoint is for partners")
    return account


PartnerAccount = Annotated[Account, Depends(require_partner)]


def build_audit_router() -> APIRouter:
    """The audit endpoints: admin ones under ``/admin/audit``, the partner one under
    ``/partner/audit``."""
    router = APIRouter(tags=["audit"])
    admin = [Depends(require_admin)]

    @router.get("/admin/audit/head", dependencies=admin)
    def latest_head(hub: HubDep) -> dict[str, Any]:
        """The latest signed tree head and the id of the key that signed it."""
        latest = hub.latest_tree_head()
        if latest is None:
            raise NotFound("no signed tree head yet")
        return latest.to_json()

    @router.post("/admin/audit/head", dependencies=admin)
    def publish_head(hub: HubDep) -> dict[str, Any]:
        """Sign and publish a head for the log as it is now (the latest, if it has not grown)."""
        return hub.publish_tree_head().to_json()

    @router.get("/admin/audit/heads", dependencies=admin)
    def heads(hub: HubDep) -> list[dict[str, Any]]:
        """Every signed tree head, oldest first."""
        return [head.to_json() for head in hub.tree_heads()]

    @router.get("/admin/audit/events", dependencies=admin)
    def events(
        hub: HubDep,
        start: Annotated[int, Query(ge=0)] = 0,
        end: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """Events ``start <= seq < end`` (at most 1000 at a time)."""
        found = hub.audit_events(start, end)
        return {"size": hub.audit_size(), "events": [event_json(event) for event in found]}

    @router.get("/admin/audit/proof/inclusion", dependencies=admin)
    def inclusion(
        hub: HubDep,
        seq: Annotated[int, Query(ge=0)],
        size: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """The inclusion proof of event ``seq`` in the tree of ``size`` (default: latest head)."""
        return hub.inclusion_proof(seq, size)

    @router.get("/admin/audit/proof/consistency", dependencies=admin)
    def consistency(
        hub: HubDep,
        first: Annotated[int, Query(ge=0)],
        second: Annotated[int | None, Query(ge=0)] = None,
    ) -> dict[str, Any]:
        """The consistency proof from the tree of ``first`` events to ``second``."""
        return hub.consistency_proof(first, second)

    @router.get("/admin/audit/keys", dependencies=admin)
    def keys(hub: HubDep) -> list[dict[str, Any]]:
        """The public keys that sign tree heads (PEM and key id), current and retired."""
        return [key.to_json() for key in hub.audit_keys()]

    @router.get("/partner/audit/events")
    def partner_events(
        account: PartnerAccount,
        hub: HubDep,
        after: Annotated[int, Query(ge=-1)] = -1,
        limit: Annotated[int, Query(ge=1, le=200)] = 100,
    ) -> dict[str, Any]:
        """The events about this partner's contributions (seq > ``after``) that the latest
        signed head covers, each with its inclusion proof against that head."""
        return hub.partner_audit(account, after, limit)

    @router.get("/partner/report", tags=["reports"])
    def partner_report(
        account: PartnerAccount,
        hub: HubDep,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """This partner's contribution report: submissions, accepted and refused objects (by
        reason and agreement version), where they went by country, recalls, and the sightings
        analysts sent back. ``since`` and ``until`` are dates (2026-01-31) or RFC 3339 UTC
        times."""
        return hub.contribution_report(account, since, until).to_json()

    @router.get("/admin/partners/{username}/report", dependencies=admin, tags=["reports"])
    def admin_partner_report(
        username: str, hub: HubDep, since: str | None = None, until: str | None = None
    ) -> dict[str, Any]:
        """A partner's contribution report, as the partner sees it."""
        return hub.partner_report(username, since, until).to_json()

    return router
