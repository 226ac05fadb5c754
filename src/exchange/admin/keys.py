"""Admin REST API for partners' signing keys: list, register (and rotate), revoke.

Admins only; every change is recorded (entity ``key``) with the admin who made it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from exchange.admin.routes import AdminAccount, require_admin
from exchange.taxii.auth import HubDep

__all__ = ["build_key_router"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KeyWrite(_Request):
    """A public key to register: PEM SubjectPublicKeyInfo, or a JWK (as an object or text)."""

    public_key: str | dict[str, Any] = Field(description="PEM text, or a public JWK.")
    key_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Default: JWK thumbprint."
    )
    valid_from: datetime | None = Field(default=None, description="Default: now.")
    valid_until: datetime | None = None
    rotates: str | None = Field(
        default=None, description="The id of the partner's key this one replaces."
    )
    rotated_until: datetime | None = Field(
        default=None,
        description="Until when the replaced key stays valid (default: when this one starts).",
    )


class Revocation(_Request):
    """Why, and from when (default now); signatures created at or after it are refused."""

    reason: str = Field(min_length=1, max_length=2000)
    effective: datetime | None = None


def build_key_router() -> APIRouter:
    """The routes under ``/admin/partners/{username}/keys``."""
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

    @router.get("/partners/{username}/keys")
    def list_keys(username: str, hub: HubDep) -> list[dict[str, Any]]:
        """The partner's registered keys with their state (active, pending, expired, revoked)."""
        return hub.partner_keys(username)

    @router.post("/partners/{username}/keys", status_code=201)
    def add_key(username: str, body: KeyWrite, admin: AdminAccount, hub: HubDep) -> dict[str, Any]:
        """Register a public key for the partner (optionally rotating an older one out)."""
        text = body.public_key
        if isinstance(text, dict):
            text = orjson.dumps(text).decode()
        return hub.add_partner_key(
            username,
            text,
            admin=admin.username,
            key_id=body.key_id,
            valid_from=body.valid_from,
            valid_until=body.valid_until,
            rotates=body.rotates,
            rotated_until=body.rotated_until,
        )

    @router.post("/partners/{username}/keys/{key_id}/revoke")
    def revoke_key(
        username: str, key_id: str, body: Revocation, admin: AdminAccount, hub: HubDep
    ) -> dict[str, Any]:
        """Revoke a key; evidence of what it signed before stays verifiable."""
        return hub.revoke_partner_key(
            username, key_id, body.reason, admin=admin.username, effective=body.effective
        )

    return router
