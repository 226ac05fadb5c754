"""Admin REST API: accounts, shared collections and grants. Admins only.

Request and response bodies are pydantic models, so the OpenAPI document describes them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from exchange.errors import NotAllowed
from exchange.store.models import Account, Collection, Role
from exchange.taxii.auth import CurrentAccount, HubDep

__all__ = ["build_admin_router"]


class _Request(BaseModel):
    """A request body: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


def require_admin(account: CurrentAccount) -> Account:
    """The authenticated account, which must be an admin (else 403)."""
    if account.role is not Role.ADMIN:
        raise NotAllowed("the admin API is for admins")
    return account


AdminAccount = Annotated[Account, Depends(require_admin)]


class AccountCreate(_Request):
    """A new account."""

    role: Role
    username: str = Field(min_length=2, max_length=63)
    display_name: str | None = Field(default=None, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)


class AccountRead(BaseModel):
    """An account as admins see it (never its token or hash)."""

    id: str
    username: str
    role: Role
    display_name: str
    country: str | None
    active: bool
    created: str


class AccountIssued(AccountRead):
    """A new account with its token, shown this once."""

    token: str
    inbox_collection: str | None


class TokenIssued(BaseModel):
    """A replacement token, shown this once."""

    username: str
    token: str


class AccountUpdate(_Request):
    """Changes to an account."""

    active: bool | None = None


class CollectionCreate(_Request):
    """A new shared collection."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class CollectionRead(BaseModel):
    """A collection as admins see it."""

    id: str
    kind: str
    title: str
    description: str
    country: str | None
    owner_account: str | None
    objects: int


class GrantWrite(_Request):
    """Read and write access to a shared collection."""

    can_read: bool = True
    can_write: bool = False


class GrantRead(GrantWrite):
    """A grant."""

    collection_id: str
    username: str


def _account(account: Account) -> AccountRead:
    return AccountRead(
        id=account.id,
        username=account.username,
        role=account.role,
        display_name=account.display_name,
        country=account.country,
        active=account.active,
        created=account.created,
    )


def _collection(collection: Collection, sizes: dict[str, int]) -> CollectionRead:
    return CollectionRead(
        id=collection.id,
        kind=collection.kind.value,
        title=collection.title,
        description=collection.description,
        country=collection.country,
        owner_account=collection.owner_account,
        objects=sizes.get(collection.id, 0),
    )


def build_admin_router() -> APIRouter:
    """The admin routes under ``/admin``."""
    router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])

    @router.get("/accounts")
    def list_accounts(hub: HubDep) -> list[AccountRead]:
        """Every account."""
        return [_account(account) for account in hub.accounts()]

    @router.post("/accounts", status_code=201)
    def create_account(body: AccountCreate, admin: AdminAccount, hub: HubDep) -> AccountIssued:
        """Create an account; the response carries its token, shown only this once."""
        issued = hub.create_account(
            body.role,
            body.username,
            display_name=body.display_name,
            country=body.country,
            actor=admin.username,
        )
        return AccountIssued(
            **_account(issued.account).model_dump(),
            token=issued.token,
            inbox_collection=issued.inbox.id if issued.inbox else None,
        )

    @router.patch("/accounts/{username}")
    def update_account(
        username: str, body: AccountUpdate, admin: AdminAccount, hub: HubDep
    ) -> AccountRead:
        """Enable or disable an account."""
        if body.active is not None:
            hub.set_active(username, body.active, actor=admin.username)
        return _account(hub.account_named(username))

    @router.post("/accounts/{username}/token")
    def rotate_token(username: str, admin: AdminAccount, hub: HubDep) -> TokenIssued:
        """Replace an account's token; the old one stops working at once."""
        return TokenIssued(
            username=username, token=hub.rotate_token(username, actor=admin.username)
        )

    @router.get("/collections")
    def list_collections(hub: HubDep) -> list[CollectionRead]:
        """Every collection with the number of objects visible in it."""
        sizes = hub.collection_sizes()
        return [_collection(collection, sizes) for collection in hub.collections()]

    @router.post("/collections", status_code=201)
    def create_collection(
        body: CollectionCreate, admin: AdminAccount, hub: HubDep
    ) -> CollectionRead:
        """Create a shared collection."""
        collection = hub.create_shared_collection(
            body.title, description=body.description, actor=admin.username
        )
        return _collection(collection, {})

    @router.put("/collections/{collection_id}/grants/{username}")
    def grant(
        collection_id: str, username: str, body: GrantWrite, admin: AdminAccount, hub: HubDep
    ) -> GrantRead:
        """Give an account read and/or write access to a shared collection."""
        hub.grant(
            collection_id,
            username,
            read=body.can_read,
            write=body.can_write,
            actor=admin.username,
        )
        return GrantRead(
            collection_id=collection_id,
            username=username,
            can_read=body.can_read,
            can_write=body.can_write,
        )

    return router
