"""The hub service: every use case, in one place, over the store protocol.

HTTP and the command line call this; it decides who may do what (``access``), reads and writes
through the store, and knows nothing of HTTP. The order of checks on a write follows the
architecture: the caller is authenticated before anything else, may-write is decided before the
body is parsed, and the whole result (placements and status) is one commit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from exchange.accounts.tokens import TokenVerifier, issue_token, parse_token
from exchange.countries import MemberCountries, country_collection_id
from exchange.errors import (
    AuthenticationFailed,
    Conflict,
    InvalidRequest,
    NotAllowed,
    NotFound,
)
from exchange.importers.medallion import (
    CollectionImport,
    ImportReport,
    MedallionApiRoot,
    MedallionCollection,
    MedallionData,
    Problem,
    ProgressCallback,
    StatusImport,
)
from exchange.sharing.access import Access, access_to
from exchange.sharing.cursors import CursorSealer
from exchange.sharing.status import render_status
from exchange.stix.envelope import parse_envelope
from exchange.stix.objects import ObjectVersion, Refusal
from exchange.stix.timestamps import format_date_added, now_us
from exchange.store.models import (
    Account,
    AddOutcome,
    Collection,
    CollectionKind,
    Grant,
    ObjectQuery,
    PlacedObject,
    Role,
    StatusRecord,
    VersionSelector,
)
from exchange.store.protocol import Store

__all__ = ["ALL_COUNTRIES", "CollectionView", "Hub", "IssuedAccount", "ObjectsPage"]

ALL_COUNTRIES = "*"
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}")


@dataclass(frozen=True, slots=True)
class CollectionView:
    """A collection together with what the viewing account may do with it."""

    collection: Collection
    access: Access

    @property
    def id(self) -> str:
        """The collection's id."""
        return self.collection.id


@dataclass(frozen=True, slots=True)
class ObjectsPage:
    """One page of a collection as a client asked for it."""

    rows: Sequence[PlacedObject]
    more: bool
    next: str | None


@dataclass(frozen=True, slots=True)
class IssuedAccount:
    """A new account and its token (shown once, never stored)."""

    account: Account
    token: str
    inbox: Collection | None


class Hub:
    """The hub's use cases."""

    def __init__(
        self,
        store: Store,
        countries: MemberCountries,
        *,
        max_objects_per_envelope: int = 10_000,
        default_page_size: int = 100,
        max_page_size: int = 1000,
    ) -> None:
        self._store = store
        self._countries = countries
        self._max_objects = max_objects_per_envelope
        self._default_page = default_page_size
        self._max_page = max_page_size
        self._verifier = TokenVerifier()
        self._sealer = CursorSealer(store.secret("cursor"))

    def close(self) -> None:
        """Release the store."""
        self._store.close()

    @property
    def countries(self) -> MemberCountries:
        """The member countries the hub serves."""
        return self._countries

    # Authentication ------------------------------------------------------------------------
    def authenticate(self, token: str, *, username: str | None = None) -> Account:
        """The active account a token (and, for HTTP Basic, user name) belongs to."""
        refused = AuthenticationFailed("the credentials are not valid")
        credential_id = parse_token(token)
        if credential_id is None:
            raise refused
        account = self._store.account_by_credential(credential_id)
        if account is None or not account.active:
            raise refused
        if username is not None and username != account.username:
            raise refused
        if not self._verifier.verify(token, account.token_hash):
            raise refused
        return account

    # Collections ---------------------------------------------------------------------------
    def visible_collections(self, account: Account) -> list[CollectionView]:
        """Every collection the account may see, with its access (TAXII 2.1 section 5.1)."""
        grants = self._store.grants_for_account(account.id)
        views = (
            CollectionView(collection, access_to(account, collection, grants))
            for collection in self._store.collections()
        )
        return [view for view in views if view.access.visible]

    def collection_for(self, account: Account, collection_id: str) -> CollectionView:
        """One collection, or ``NotFound`` if it is missing or the account may not see it."""
        collection = self._store.collection(collection_id)
        if collection is not None:
            grants = (
                self._store.grants_for_account(account.id)
                if collection.kind is CollectionKind.SHARED
                else ()
            )
            access = access_to(account, collection, grants)
            if access.visible:
                return CollectionView(collection, access)
        raise NotFound("no such collection")

    def _readable(self, account: Account, collection_id: str) -> CollectionView:
        view = self.collection_for(account, collection_id)
        if not view.access.can_read:
            raise NotAllowed("this account may not read this collection")
        return view

    def _writable(self, account: Account, collection_id: str) -> CollectionView:
        view = self.collection_for(account, collection_id)
        if not view.access.can_write:
            raise NotAllowed("this account may not write to this collection")
        return view

    # Reading -------------------------------------------------------------------------------
    def _page_size(self, limit: int | None) -> int:
        if limit is None:
            return self._default_page
        if limit < 1:
            raise InvalidRequest("'limit' must be a positive integer")
        return min(limit, self._max_page)

    def read(
        self,
        account: Account,
        collection_id: str,
        query: ObjectQuery,
        *,
        object_id: str | None = None,
        limit: int | None,
        next_cursor: str | None,
        with_bodies: bool,
        scope: str,
    ) -> ObjectsPage:
        """A page of objects, manifest records or versions (TAXII 2.1 sections 5.3-5.8).

        With ``object_id`` the page holds versions of that one object, and an object the
        collection does not hold at all is ``NotFound``.
        """
        view = self._readable(account, collection_id)
        if object_id is not None:
            query = replace(query, ids=frozenset({object_id}))
        size = self._page_size(limit)
        after = None
        if next_cursor is not None:
            after = self._sealer.open(next_cursor, view.id, query, scope)
        page = self._store.page(
            view.collection, query, after=after, limit=size, with_bodies=with_bodies
        )
        missing = object_id is not None and not page.rows and after is None
        if missing and not self._store.holds(view.collection, object_id or ""):
            raise NotFound("no object with this id in the collection")
        cursor = None
        if page.more and page.rows:
            cursor = self._sealer.seal(page.rows[-1].position, view.id, query, scope)
        return ObjectsPage(rows=page.rows, more=page.more, next=cursor)

    def status(self, account: Account, status_id: str) -> bytes:
        """A status resource the account created (TAXII 2.1 section 4.3)."""
        record = self._store.status(status_id)
        if record is None or record.account_id != account.id:
            raise NotFound("no such status")
        return record.body

    # Writing -------------------------------------------------------------------------------
    def _recipients(self, collection: Collection) -> list[Collection]:
        """The member-country collections that receive what is written to ``collection``."""
        if collection.kind is not CollectionKind.INBOX or collection.owner_account is None:
            return []
        recipients = self._store.recipients(collection.owner_account)
        codes = (
            [country.code for country in self._countries]
            if ALL_COUNTRIES in recipients
            else recipients
        )
        found = (self._store.collection(country_collection_id(code)) for code in codes)
        return [country for country in found if country is not None]

    def add_objects(self, account: Account, collection_id: str, body: bytes) -> bytes:
        """Take an envelope of objects (TAXII 2.1 section 5.4); return the status resource."""
        view = self._writable(account, collection_id)
        requested_at = now_us()
        results = parse_envelope(body, max_objects=self._max_objects)
        objects = [result for result in results if isinstance(result, ObjectVersion)]
        recipients = self._recipients(view.collection)
        status_id = str(uuid.uuid4())
        with self._store.transaction() as tx:
            outcomes = tx.place([view.collection], objects, target=view.collection)
            if recipients:
                # A separate placement for the countries: their audiences then depend only on
                # the set of recipients, not on the submitting partner, so a country collection
                # is the union of few audiences however many partners feed it.
                accepted = [o for o, r in zip(objects, outcomes, strict=True) if r.refused is None]
                tx.place(recipients, accepted, target=None)
            placed = iter(outcomes)
            merged: list[AddOutcome | Refusal] = [
                result if isinstance(result, Refusal) else next(placed) for result in results
            ]
            status = render_status(status_id, requested_at, merged)
            tx.save_status(StatusRecord(status_id, view.id, account.id, status))
        return status

    def delete_object(
        self,
        account: Account,
        collection_id: str,
        object_id: str,
        versions: VersionSelector,
        spec_versions: frozenset[str],
    ) -> int:
        """Delete matching versions of an object from a collection (TAXII 2.1 section 5.7)."""
        view = self._writable(account, collection_id)
        if not self._store.holds(view.collection, object_id):
            raise NotFound("no object with this id in the collection")
        with self._store.transaction() as tx:
            return tx.remove(view.collection, object_id, versions, spec_versions)

    # Administration ------------------------------------------------------------------------
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

    def _check_recipients(self, recipients: Sequence[str]) -> list[str]:
        checked: list[str] = []
        for code in recipients:
            if code == ALL_COUNTRIES or code in self._countries:
                checked.append(code)
            else:
                raise InvalidRequest(f"{code!r} is not a member country code")
        return checked

    def create_account(
        self,
        role: Role,
        username: str,
        *,
        display_name: str | None = None,
        country: str | None = None,
        recipients: Sequence[str] = (),
    ) -> IssuedAccount:
        """Create an account and its credential; a partner also gets its inbox."""
        if not _USERNAME.fullmatch(username):
            raise InvalidRequest(
                "a user name is 2-63 characters: lower-case letters, digits, '.', '_', '-'"
            )
        if role is Role.ANALYST:
            if country is None or country not in self._countries:
                raise InvalidRequest("an analyst needs the member country they serve (--country)")
        elif country is not None:
            raise InvalidRequest("only analysts are bound to a country")
        if recipients and role is not Role.PARTNER:
            raise InvalidRequest("only partners share with member countries")
        checked = self._check_recipients(recipients)
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
            created=format_date_added(now_us()),
        )
        self._store.add_account(account)
        inbox = None
        if role is Role.PARTNER:
            inbox = self._store.add_collection(
                collection_id=str(uuid.uuid4()),
                kind=CollectionKind.INBOX,
                title=f"Inbox of {account.display_name}",
                description="Submissions of this partner; each is redistributed to the member "
                "countries the partner shares with.",
                owner_account=account.id,
            )
            if checked:
                self._store.set_recipients(account.id, checked)
        return IssuedAccount(account=account, token=issued.token, inbox=inbox)

    def account_named(self, username: str) -> Account:
        """An account by user name."""
        account = self._store.account_by_username(username)
        if account is None:
            raise NotFound(f"no account {username!r}")
        return account

    def rotate_token(self, username: str) -> str:
        """Give an account a new token; the old one stops working at once."""
        account = self.account_named(username)
        issued = issue_token()
        self._store.set_credential(account.id, issued.credential_id, issued.token_hash)
        return issued.token

    def set_active(self, username: str, active: bool) -> Account:
        """Enable or disable an account."""
        account = self.account_named(username)
        self._store.set_active(account.id, active)
        return self.account_named(username)

    def set_recipients(self, username: str, recipients: Sequence[str]) -> list[str]:
        """Replace the member countries a partner shares with."""
        account = self.account_named(username)
        if account.role is not Role.PARTNER:
            raise InvalidRequest("only partners share with member countries")
        checked = self._check_recipients(recipients)
        self._store.set_recipients(account.id, checked)
        return checked

    def recipients(self, username: str) -> list[str]:
        """The member countries a partner shares with."""
        return self._store.recipients(self.account_named(username).id)

    def accounts(self) -> list[Account]:
        """Every account."""
        return self._store.accounts()

    def create_shared_collection(
        self, title: str, *, description: str = "", collection_id: str | None = None
    ) -> Collection:
        """Create a shared collection (read and write by explicit grant)."""
        if not title.strip():
            raise InvalidRequest("a collection needs a title")
        if collection_id is not None:
            try:
                collection_id = str(uuid.UUID(collection_id))
            except ValueError:
                raise InvalidRequest("a collection id is a UUID") from None
        return self._store.add_collection(
            collection_id=collection_id or str(uuid.uuid4()),
            kind=CollectionKind.SHARED,
            title=title,
            description=description,
        )

    def grant(self, collection_id: str, username: str, *, read: bool, write: bool) -> Grant:
        """Give an account read and/or write access to a shared collection."""
        collection = self._store.collection(collection_id)
        if collection is None:
            raise NotFound(f"no collection {collection_id!r}")
        if collection.kind is not CollectionKind.SHARED:
            raise InvalidRequest("grants apply to shared collections only")
        account = self.account_named(username)
        grant = Grant(collection.id, account.id, can_read=read, can_write=write)
        self._store.set_grant(grant)
        return grant

    def collections(self) -> list[Collection]:
        """Every collection (for operators)."""
        return self._store.collections()

    def collection_sizes(self) -> dict[str, int]:
        """Objects visible per collection id (for operators)."""
        return dict(self._store.iter_collection_sizes())

    # Imports -------------------------------------------------------------------------------
    def import_medallion(
        self,
        data: MedallionData,
        grant_username: str,
        *,
        progress: ProgressCallback | None = None,
    ) -> ImportReport:
        """Load a parsed medallion data file as shared collections, keeping its history.

        Each medallion collection becomes a shared collection titled "<title> (<API root
        title>)", under its own id when that is a UUID not used here by another kind of
        collection, else under an id derived from the API root and the original id (the same
        on every run). Its object versions are placed in ``date_added`` order, each at its
        original ``date_added``. ``grant_username`` gets the read/write access each collection
        had in medallion (no grant when it had neither) and owns the imported status
        resources. Safe to run again: collections are reused, and objects and statuses already
        there are reported as already present. ``progress`` hears of every object handled.
        """
        account = self.account_named(grant_username)
        claimed: set[str] = set()
        done: list[CollectionImport] = []
        for root, source in data.collections():
            collection, created = self._medallion_collection(root, source, claimed)
            claimed.add(collection.id)
            grant = None
            if source.can_read or source.can_write:
                grant = Grant(collection.id, account.id, source.can_read, source.can_write)
                self._store.set_grant(grant)
            imported, already, refused = self._place_medallion_history(collection, source, progress)
            done.append(
                CollectionImport(
                    api_root=root.name,
                    original_id=source.id,
                    id=collection.id,
                    title=collection.title,
                    created=created,
                    imported=imported,
                    already_present=already,
                    refused=source.refused + refused,
                    warnings=source.warnings,
                    grant=grant,
                )
            )
        statuses = self._import_medallion_statuses(data, account)
        return ImportReport(account=account.username, collections=tuple(done), statuses=statuses)

    def _medallion_collection(
        self, root: MedallionApiRoot, source: MedallionCollection, claimed: set[str]
    ) -> tuple[Collection, bool]:
        """The shared collection a medallion collection goes to, and whether it was made now."""
        try:
            collection_id: str | None = str(uuid.UUID(source.id))
        except ValueError:
            collection_id = None
        if collection_id is not None:
            existing = self._store.collection(collection_id)
            if collection_id in claimed or (
                existing is not None and existing.kind is not CollectionKind.SHARED
            ):
                collection_id = None
        if collection_id is None:
            name = f"exchange:medallion:{root.name}/{source.id}"
            collection_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        existing = self._store.collection(collection_id)
        if existing is not None:
            if existing.kind is not CollectionKind.SHARED:
                raise Conflict(f"collection {collection_id} exists and is not a shared collection")
            return existing, False
        made = self.create_shared_collection(
            f"{source.title} ({root.title})",
            description=source.description,
            collection_id=collection_id,
        )
        return made, True

    def _place_medallion_history(
        self,
        collection: Collection,
        source: MedallionCollection,
        progress: ProgressCallback | None,
    ) -> tuple[int, int, tuple[Problem, ...]]:
        """Place a collection's object versions at their original date_added, in one commit.

        Returns how many were stored, how many were already there, and the refused ones.
        """
        stored = already = 0
        refused: list[Problem] = []
        with self._store.transaction() as tx:
            for date_added, objects in source.batches():
                placed = tx.place([collection], objects, target=collection, date_added=date_added)
                for outcome in placed:
                    if outcome.refused is not None:
                        problem = Problem.of_version(
                            outcome.stix_id, outcome.version, outcome.refused
                        )
                        refused.append(problem)
                    elif outcome.stored:
                        stored += 1
                    else:
                        already += 1
                if progress is not None:
                    progress(len(objects))
        return stored, already, tuple(refused)

    def _import_medallion_statuses(self, data: MedallionData, account: Account) -> StatusImport:
        """Save the file's status resources as ``account``'s; never over another account's."""
        skipped = [problem for root in data.api_roots for problem in root.problems]
        seen: set[str] = set()
        fresh: list[StatusRecord] = []
        already = 0
        for root in data.api_roots:
            for status in root.statuses:
                if status.id in seen:
                    reason = f"status {status.id}: the id appears twice in the file: not imported"
                    skipped.append(Problem(None, None, reason))
                    continue
                seen.add(status.id)
                held = self._store.status(status.id)
                if held is not None and held.account_id != account.id:
                    reason = f"status {status.id}: the id is taken by another account's status"
                    skipped.append(Problem(None, None, reason))
                elif held is not None and held.body == status.body:
                    already += 1
                else:
                    fresh.append(StatusRecord(status.id, "", account.id, status.body))
        if fresh:
            with self._store.transaction() as tx:
                for record in fresh:
                    tx.save_status(record)
        return StatusImport(imported=len(fresh), already_present=already, skipped=tuple(skipped))
