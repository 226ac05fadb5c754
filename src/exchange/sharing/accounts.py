"""Accounts, shared collections and grants: the administrative use cases of the hub."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from exchange.accounts.tokens import issue_token
from exchange.countries import country_collection_id
from exchange.errors import Conflict, InvalidRequest, NotFound
from exchange.sharing.feedback_collections import FeedbackCollections
from exchange.stix.timestamps import format_date_added
from exchange.store.models import Account, Collection, CollectionKind, Grant, Role

__all__ = ["AccountAdmin", "IssuedAccount", "account_summary"]

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")


@dataclass(frozen=True, slots=True)
class IssuedAccount:
    """A new account and its token (shown once, never stored)."""

    account: Account
    token: str
    inbox: Collection | None


def account_summary(account: Account) -> dict[str, Any]:
    """An account as change records and listings show it: never its token or hash."""
    return {
        "id": account.id,
        "username": account.username,
        "role": account.role.value,
        "display_name": account.display_name,
        "country": account.country,
        "active": account.active,
        "created": account.created,
    }


class AccountAdmin(FeedbackCollections):
    """Accounts, collections and grants."""

    def ensure_country_collections(self) -> int:
        """Create the collection of every member country that lacks one; return how many."""
        made = 0
        for country in self._countries:
            collection_id = country_collection_id(country.code)
            if self._store.collection(collection_id) is None:
                self._store.add_collection(
                    collection_id=collection_id,
                    kind=CollectionKind.COUNTRY,
                    title=f"{country.name} ({country.code})",
                    description=f"Threat information shared with the police of {country.name}.",
                    country=country.code,
                )
                made += 1
        return made

    def create_account(
        self,
        role: Role,
        username: str,
        *,
        display_name: str | None = None,
        country: str | None = None,
        actor: str = "system",
    ) -> IssuedAccount:
        """Create an account and its credential; a partner also gets its inbox and its
        feedback collection.

        A new partner is an applicant: it may submit only once vetted and under an active
        agreement.
        """
        if not _USERNAME.fullmatch(username):
            raise InvalidRequest(
                "a user name is 2-63 characters: lower-case letters, digits, '.', '_', '-'"
            )
        if role is Role.ANALYST:
            if country is None or country not in self._countries:
                raise InvalidRequest("an analyst needs the member country they serve (--country)")
        elif country is not None:
            raise InvalidRequest("only analysts are bound to a country")
        if self._store.account_by_username(username) is not None:
            raise Conflict(f"the user name {username!r} is taken")
        issued = issue_token()
        account = Account(
            id=str(uuid.uuid4()),
            username=username,
            role=role,
            display_name=display_name or username,
            country=country,
            credential_id=issued.credential_id,
            token_hash=issued.token_hash,
            active=True,
            created=format_date_added(self._now_us()),
        )
        self._store.add_account(account)
        inbox = None
        if role is Role.PARTNER:
            inbox = self._store.add_collection(
                collection_id=str(uuid.uuid4()),
                kind=CollectionKind.INBOX,
                title=f"Inbox of {account.display_name}",
                description="Submissions of this partner; each is redistributed to the member "
                "countries its sharing agreement names.",
                owner_account=account.id,
            )
            self.ensure_feedback_collection(account)
        with self._store.transaction() as tx:
            self._record(tx, actor, "account", account.id, "create", None, account_summary(account))
        return IssuedAccount(account=account, token=issued.token, inbox=inbox)

    def rotate_token(self, username: str, *, actor: str = "system") -> str:
        """Give an account a new token; the old one stops working at once."""
        account = self.account_named(username)
        issued = issue_token()
        self._store.set_credential(account.id, issued.credential_id, issued.token_hash)
        with self._store.transaction() as tx:
            self._record(tx, actor, "account", account.id, "rotate-token")
        return issued.token

    def set_active(self, username: str, active: bool, *, actor: str = "system") -> Account:
        """Enable or disable an account."""
        account = self.account_named(username)
        self._store.set_active(account.id, active)
        after = self.account_named(username)
        with self._store.transaction() as tx:
            self._record(
                tx,
                actor,
                "account",
                account.id,
                "enable" if active else "disable",
                account_summary(account),
                account_summary(after),
            )
        return after

    def accounts(self) -> list[Account]:
        """Every account."""
        return self._store.accounts()

    def create_shared_collection(
        self,
        title: str,
        *,
        description: str = "",
        collection_id: str | None = None,
        actor: str = "system",
    ) -> Collection:
        """Create a shared collection (read and write by explicit grant)."""
        if not title.strip():
            raise InvalidRequest("a collection needs a title")
        if collection_id is not None:
            try:
                collection_id = str(uuid.UUID(collection_id))
            except ValueError:
                raise InvalidRequest("a collection id is a UUID") from None
        made = self._store.add_collection(
            collection_id=collection_id or str(uuid.uuid4()),
            kind=CollectionKind.SHARED,
            title=title,
            description=description,
        )
        with self._store.transaction() as tx:
            self._record(tx, actor, "collection", made.id, "create", None, {"title": title})
        return made

    def grant(
        self, collection_id: str, username: str, *, read: bool, write: bool, actor: str = "system"
    ) -> Grant:
        """Give an account read and/or write access to a shared collection."""
        collection = self._store.collection(collection_id)
        if collection is None:
            raise NotFound(f"no collection {collection_id!r}")
        if collection.kind is not CollectionKind.SHARED:
            raise InvalidRequest("grants apply to shared collections only")
        account = self.account_named(username)
        before = next(
            (
                g
                for g in self._store.grants_for_collection(collection.id)
                if g.account_id == account.id
            ),
            None,
        )
        grant = Grant(collection.id, account.id, can_read=read, can_write=write)
        self._store.set_grant(grant)
        with self._store.transaction() as tx:
            self._record(
                tx,
                actor,
                "grant",
                f"{collection.id}/{account.id}",
                "set",
                None if before is None else {"read": before.can_read, "write": before.can_write},
                {"read": read, "write": write},
            )
        return grant

    def collections(self) -> list[Collection]:
        """Every collection (for operators)."""
        return self._store.collections()

    def collection_sizes(self) -> dict[str, int]:
        """Objects visible per collection id (for operators)."""
        return dict(self._store.iter_collection_sizes())
