"""The hub service: every use case, in one place, over the store protocol.

``Hub`` joins the parts: TAXII reads and writes (here), submissions (``submission``),
partners and agreements (``partners``), accounts and collections (``accounts``), imports
(``importing``), sightings analysts send back to partners (``feedback``), analysts' exports
(``exports``).

HTTP and the command line call this; it decides who may do what (``access``), reads and writes
through the store, and knows nothing of HTTP. The order of checks on a write follows the
architecture: the caller is authenticated before anything else, may-write is decided before the
body is parsed, and the whole result (placements and status) is one commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from exchange.accounts.tokens import TokenVerifier, parse_token
from exchange.countries import MemberCountries
from exchange.errors import AuthenticationFailed, InvalidRequest, NotAllowed, NotFound
from exchange.partners.vetting import may_submit
from exchange.sharing.access import Access, access_to
from exchange.sharing.accounts import IssuedAccount
from exchange.sharing.audit import AuditLog
from exchange.sharing.base import Clock
from exchange.sharing.cursors import CursorSealer
from exchange.sharing.exports import Exports
from exchange.sharing.feedback import Feedback
from exchange.sharing.group_commit import GroupCommit
from exchange.sharing.importing import MedallionImports
from exchange.sharing.keys import KeyAdmin, SignedRequest
from exchange.sharing.reports import Reports
from exchange.sharing.status import line_for, render_status
from exchange.sharing.submission import Submissions, checked_member
from exchange.stix.envelope import DEFAULT_MAX_DEPTH, parse_members
from exchange.stix.objects import ObjectVersion, Refusal
from exchange.store.models import (
    Account,
    Collection,
    CollectionKind,
    ObjectQuery,
    PlacedObject,
    Role,
    StatusRecord,
    VersionSelector,
)
from exchange.store.protocol import Store

__all__ = ["CollectionView", "Hub", "IssuedAccount", "ObjectsPage"]


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


class Hub(Feedback, Submissions, Reports, KeyAdmin, MedallionImports, Exports, AuditLog):
    """The hub's use cases: TAXII reads and writes here, administration in the parts it joins."""

    def __init__(
        self,
        store: Store,
        countries: MemberCountries,
        *,
        max_objects_per_envelope: int = 10_000,
        max_nesting_depth: int = DEFAULT_MAX_DEPTH,
        default_page_size: int = 100,
        max_page_size: int = 1000,
        clock: Clock | None = None,
        signature_max_skew_seconds: int = 300,
    ) -> None:
        super().__init__(store, countries, clock=clock)
        self._signature_skew = timedelta(seconds=signature_max_skew_seconds)
        self._max_objects = max_objects_per_envelope
        self._max_depth = max_nesting_depth
        self._default_page = default_page_size
        self._max_page = max_page_size
        self._verifier = TokenVerifier()
        self._sealer = CursorSealer(store.secret("cursor"))
        self._read_log = GroupCommit(self._commit_reads)

    # Authentication ------------------------------------------------------------------------
    def account_by_credential(self, credential_id: str) -> Account | None:
        """The account a credential id names (active or not), or None: what the throttle
        needs to tell a wrong secret from an unknown id after ``authenticate`` refused."""
        return self._store.account_by_credential(credential_id)

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
        self._audit_read(account, view.id, scope, page.rows)
        return ObjectsPage(rows=page.rows, more=page.more, next=cursor)

    def status(self, account: Account, status_id: str) -> bytes:
        """A status resource the account created (TAXII 2.1 section 4.3)."""
        record = self._store.status(status_id)
        if record is None or record.account_id != account.id:
            raise NotFound("no such status")
        return record.body

    # Writing -------------------------------------------------------------------------------
    def add_objects(
        self,
        account: Account,
        collection_id: str,
        body: bytes,
        request: SignedRequest | None = None,
    ) -> bytes:
        """Take an envelope of objects (TAXII 2.1 section 5.4); return the status resource.

        A partner's inbox runs the full submission flow (agreement, signature, validation,
        policy, redistribution); a shared collection takes valid objects as they are.
        ``request`` (method, URL, header lines) is what a signature is verified over.
        """
        view = self._writable(account, collection_id)
        if view.collection.kind is CollectionKind.INBOX:
            return self.submit(account, view.collection, body, request)
        if account.role is Role.PARTNER:
            reason = may_submit(self.partner_record(account.id), self._now().date())
            if reason is not None:
                raise NotAllowed(f"submissions are refused: {reason}")
        requested_at = self._now_us()
        results = [
            checked_member(member)
            for member in parse_members(
                body, max_objects=self._max_objects, max_depth=self._max_depth
            )
        ]
        objects = [result for result in results if isinstance(result, ObjectVersion)]
        status_id = str(uuid.uuid4())
        with self._store.transaction() as tx:
            placed = iter(tx.place([view.collection], objects, target=view.collection))
            lines = [
                line_for(result if isinstance(result, Refusal) else next(placed))
                for result in results
            ]
            status = render_status(status_id, requested_at, lines)
            tx.save_status(StatusRecord(status_id, view.id, account.id, status))
            self._audit(
                tx,
                "submission",
                account.username,
                f"collection:{view.id}",
                {
                    "status": status_id,
                    "objects": [
                        [line.stix_id, line.success, line.message.split(" (")[0]] for line in lines
                    ],
                },
            )
        return status

    def delete_object(
        self,
        account: Account,
        collection_id: str,
        object_id: str,
        versions: VersionSelector,
        spec_versions: frozenset[str],
    ) -> int:
        """Delete matching versions of an object from a collection (TAXII 2.1 section 5.7).

        A partner that deletes every version of an object from its inbox recalls it: each
        country that received it gets a revoking version (see ``sharing/recalls.py``).
        """
        view = self._writable(account, collection_id)
        if not self._store.holds(view.collection, object_id):
            raise NotFound("no object with this id in the collection")
        recalling = view.collection.kind is CollectionKind.INBOX and account.role is Role.PARTNER
        with self._store.transaction() as tx:
            removed = tx.remove(view.collection, object_id, versions, spec_versions)
            self._audit(
                tx,
                "delete",
                account.username,
                f"collection:{view.id}",
                {"object": object_id, "removed": removed},
            )
            if recalling and not self._store.holds(view.collection, object_id):
                # The partner took the whole object back from its inbox: recall it everywhere.
                self._recall(
                    tx,
                    account,
                    object_id,
                    at_least=self._now_us(),
                    submission_pk=self._recall_submission(tx, account, object_id),
                    how="deleted from the inbox",
                )
            return removed
