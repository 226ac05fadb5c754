"""The one storage interface. Every backend implements it; the contract tests check each one.

The model (see the architecture notes): an object version is stored once; a *placement* makes
it visible to an *audience*, an immutable set of collections, at a ``date_added`` and sequence.
A collection is the placements whose audience contains it, read in (date_added, seq) order with
keyset pages. The store knows nothing of HTTP or of who may do what: the service decides that.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from exchange.audit.heads import SignedTreeHead
from exchange.stix.objects import ObjectVersion
from exchange.store.feedback_models import FeedbackSighting, FeedbackSummary
from exchange.store.key_models import Evidence, PartnerKey
from exchange.store.models import (
    Account,
    AddOutcome,
    AgreementVersion,
    Change,
    Collection,
    CollectionKind,
    Delivery,
    Grant,
    HubKey,
    ObjectQuery,
    Page,
    Position,
    StatusRecord,
    Submission,
    VersionSelector,
)
from exchange.store.sql_audit import AuditEventRow

__all__ = ["Store", "Transaction"]


class Transaction(Protocol):
    """Writes that commit together or not at all."""

    def place(
        self,
        audience: Sequence[Collection],
        objects: Sequence[ObjectVersion],
        *,
        target: Collection | None,
        date_added: int | None = None,
        submission_pk: int | None = None,
    ) -> list[AddOutcome]:
        """Make each object visible to ``audience``, in order, and say what became of each.

        ``target`` is the collection the client wrote to (None for redistribution): an object
        whose id and version it already holds is reported as already stored when identical and
        refused when different. Audience members that already hold the version are left out of
        the new placement.
        ``date_added`` (µs) is for imports of history; by default the store's clock assigns
        strictly increasing times.
        """
        ...

    def remove(
        self,
        collection: Collection,
        stix_id: str,
        versions: VersionSelector,
        spec_versions: frozenset[str],
    ) -> int:
        """Take matching versions of one object out of a collection; return how many."""
        ...

    def save_status(self, record: StatusRecord) -> None:
        """Store a status resource (replacing one with the same id)."""
        ...

    def add_submission(self, submission: Submission) -> int:
        """Record a submission; return its key for the placements it makes."""
        ...

    def add_usage(self, partner_account: str, day: str, objects: int) -> int:
        """Count objects against a partner's daily quota; return the day's new total."""
        ...

    def embargo(
        self,
        objects: Sequence[ObjectVersion],
        countries: Sequence[str],
        *,
        due_at: int,
        submission_pk: int,
    ) -> None:
        """Hold objects for the collections of ``countries`` until ``due_at`` (µs)."""
        ...

    def release_embargoes(self, now: int) -> int:
        """Place every held object whose embargo has ended; return how many were placed."""
        ...

    def cancel_embargoes(self, partner_account: str) -> int:
        """Drop a partner's held redistribution; return how many objects it held."""
        ...

    def narrow_redistribution(
        self, partner_account: str, keep: frozenset[str], *, placed: bool
    ) -> int:
        """Limit a partner's redistribution to the countries in ``keep``.

        Held (embargoed) objects always narrow; with ``placed`` what was already placed in
        country collections narrows too (an empty ``keep`` withdraws it all; the partner's
        inbox keeps its own submissions). Returns the placements changed.
        """
        ...

    def purge_before(self, partner_account: str, before: int) -> int:
        """Delete the partner's placements (inbox and countries) added before ``before`` (µs)."""
        ...

    def save_partner(
        self, account_id: str, state: str, vetted_until: str | None, record: bytes
    ) -> None:
        """Store a partner's lifecycle record (JSON)."""
        ...

    def add_agreement_version(self, agreement: AgreementVersion) -> None:
        """Store the next version of an agreement; raises ``Conflict`` if the version exists."""
        ...

    def record_change(self, change: Change) -> None:
        """Append an administrative change."""
        ...

    def audit_size(self) -> int:
        """How many events the audit log holds, as this transaction sees it."""
        ...

    def append_events(self, events: Sequence[AuditEventRow]) -> int:
        """Append audit events (kind, at, partner, canonical body, leaf) in this commit: extend
        the Merkle accumulator, write the completed subtree nodes; return the first seq."""
        ...

    # Partners' signing keys, replay nonces, evidence (store/sql_keys.py) ----------------
    def add_partner_key(self, key: PartnerKey) -> None:
        """Register a partner's public key; raises ``Conflict`` if the key id is taken."""
        ...

    def end_partner_key(self, key_id: str, valid_until: int) -> None:
        """Set the end (µs) of a key's validity window (rotation); ``NotFound`` if unknown."""
        ...

    def revoke_partner_key(self, key_id: str, revoked_at: int, reason: str) -> None:
        """Revoke a key from ``revoked_at`` (µs) on; ``NotFound`` if unknown."""
        ...

    def remember_nonce(self, key_id: str, nonce: str, seen_at: int) -> bool:
        """Note a signature's nonce; False if this key's nonce was already seen."""
        ...

    def prune_nonces(self, before: int) -> int:
        """Forget nonces seen before ``before`` (µs); return how many."""
        ...

    def add_evidence(self, evidence: Evidence) -> None:
        """Keep what a partner signed for the submission ``evidence.submission_pk``."""
        ...

    # Recalls (store/sql_recalls.py) -----------------------------------------------------------
    def deliveries(self, partner_account: str, stix_id: str) -> list[Delivery]:
        """Per country collection where the partner's submissions placed ``stix_id``, the
        newest version placed there, as this transaction sees it."""
        ...

    def drop_held(self, partner_account: str, stix_id: str) -> int:
        """Drop the partner's redistribution of ``stix_id`` still held by an embargo."""
        ...

    # Feedback (store/sql_feedback.py) ---------------------------------------------------------
    def record_sighting(self, sighting: FeedbackSighting) -> None:
        """Count a sighting placed in a partner's feedback collection; a newer version of the
        same sighting (partner and id) replaces the older, an older one changes nothing."""
        ...


class Store(Protocol):
    """Accounts, collections, objects, placements and statuses behind one interface."""

    def close(self) -> None:
        """Release connections."""
        ...

    def ping(self) -> None:
        """Raise ``StoreError`` unless the database answers."""
        ...

    def refresh_statistics(self) -> list[str]:
        """Refresh the query planner's statistics of tables that changed much since the last
        refresh; return their names (a backend whose plans need none returns [])."""
        ...

    def secret(self, name: str) -> bytes:
        """A 32-byte random secret by name, made on first use and shared by every node."""
        ...

    def prepare(self, objects: Sequence[ObjectVersion]) -> None:
        """Do now, before this thread's next transaction, the work of storing ``objects`` that
        needs no lock (compressing their bodies), so that the transaction that places them
        holds the store's write lock for less time. Only an optimisation: a transaction does
        that work itself for any object not prepared."""
        ...

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A write transaction: committed when the block ends, rolled back if it raises."""
        ...

    # Accounts ------------------------------------------------------------------------------
    def add_account(self, account: Account) -> None:
        """Store a new account; raises ``Conflict`` when the user name is taken."""
        ...

    def account(self, account_id: str) -> Account | None:
        """An account by id."""
        ...

    def account_by_username(self, username: str) -> Account | None:
        """An account by user name."""
        ...

    def account_by_credential(self, credential_id: str) -> Account | None:
        """An account by the public id embedded in its token."""
        ...

    def accounts(self) -> list[Account]:
        """Every account, oldest first."""
        ...

    def set_credential(self, account_id: str, credential_id: str, token_hash: str) -> None:
        """Replace an account's credential (the old token stops working at once)."""
        ...

    def set_active(self, account_id: str, active: bool) -> None:
        """Enable or disable an account."""
        ...

    # The hub's own keys ----------------------------------------------------------------------
    def hub_keys(self, purpose: str | None = None) -> list[HubKey]:
        """Every hub key (current and retired), oldest first, optionally of one purpose."""
        ...

    def add_hub_key(self, key: HubKey) -> None:
        """Store a new hub key, retiring the purpose's previous current key."""
        ...

    # Partners and agreements --------------------------------------------------------------
    def partner_record(self, account_id: str) -> bytes | None:
        """A partner's lifecycle record (JSON), or None before its first review."""
        ...

    def partner_records(self) -> list[tuple[str, str, bytes]]:
        """(account id, state, record JSON) of every partner with a record."""
        ...

    def agreement_versions(self, agreement_id: str) -> list[AgreementVersion]:
        """Every version of one agreement, oldest first."""
        ...

    def current_agreement(self, partner_account: str) -> AgreementVersion | None:
        """The newest version of the partner's agreement, or None."""
        ...

    def current_agreements(self) -> list[AgreementVersion]:
        """The newest version of every agreement."""
        ...

    def held_count(self) -> int:
        """How many objects wait for an embargo to end."""
        ...

    def usage(self, partner_account: str, day: str) -> int:
        """Objects counted against the partner's quota on ``day`` (YYYY-MM-DD)."""
        ...

    def changes(self, entity: str | None = None, entity_id: str | None = None) -> list[Change]:
        """Administrative changes, oldest first, optionally of one entity."""
        ...

    def submissions(self, partner_account: str) -> list[Submission]:
        """A partner's submissions, oldest first."""
        ...

    # Partners' signing keys and evidence -----------------------------------------------------
    def partner_key(self, key_id: str) -> PartnerKey | None:
        """A registered partner key by id (whoever owns it, revoked or not)."""
        ...

    def partner_keys(self, partner_account: str | None = None) -> list[PartnerKey]:
        """Registered partner keys, optionally of one partner, by start of validity."""
        ...

    def evidence(self, submission_pk: int) -> Evidence | None:
        """The signed evidence of a submission, by its key."""
        ...

    def evidence_for_status(self, status_id: str) -> Evidence | None:
        """The signed evidence of the submission that made a status resource."""
        ...

    def nonce_count(self) -> int:
        """How many nonces the replay window holds."""
        ...

    # Collections ---------------------------------------------------------------------------
    def add_collection(
        self,
        *,
        collection_id: str,
        kind: CollectionKind,
        title: str,
        description: str = "",
        owner_account: str | None = None,
        country: str | None = None,
    ) -> Collection:
        """Create a collection; raises ``Conflict`` when the id is taken."""
        ...

    def collection(self, collection_id: str) -> Collection | None:
        """A collection by id."""
        ...

    def collections(self) -> list[Collection]:
        """Every collection, in creation order."""
        ...

    def set_grant(self, grant: Grant) -> None:
        """Create or replace an account's grant on a shared collection."""
        ...

    def grants_for_account(self, account_id: str) -> list[Grant]:
        """The grants an account holds."""
        ...

    def grants_for_collection(self, collection_id: str) -> list[Grant]:
        """The grants on one collection."""
        ...

    # Objects -------------------------------------------------------------------------------
    def page(
        self,
        collection: Collection,
        query: ObjectQuery,
        *,
        after: Position | None,
        limit: int,
        with_bodies: bool,
    ) -> Page:
        """Up to ``limit`` matching object versions after ``after``, in collection order."""
        ...

    def holds(self, collection: Collection, stix_id: str) -> bool:
        """Whether any version of ``stix_id`` is visible in the collection."""
        ...

    def status(self, status_id: str) -> StatusRecord | None:
        """A status resource by id."""
        ...

    def iter_collection_sizes(self) -> Iterator[tuple[str, int]]:
        """(collection id, number of placements visible in it), for operators' listings."""
        ...

    # The audit log ---------------------------------------------------------------------------
    def audit_size(self) -> int:
        """How many events the audit log holds."""
        ...

    def audit_events(self, start: int, end: int) -> list[tuple[int, bytes]]:
        """(seq, canonical body) of the events with ``start <= seq < end``, in order."""
        ...

    def audit_rows(self, start: int, end: int) -> list[tuple[int, bytes, bytes]]:
        """(seq, canonical body, stored leaf hash) of the events with ``start <= seq < end``."""
        ...

    def audit_events_for_partner(
        self, partner: str, after_seq: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """(seq, body) of up to ``limit`` events about a partner, after ``after_seq``."""
        ...

    def audit_node(self, level: int, idx: int) -> bytes:
        """A complete subtree's hash; ``AuditError`` if there is none."""
        ...

    def audit_leaf(self, seq: int) -> bytes | None:
        """The stored leaf hash of one event."""
        ...

    def save_tree_head(self, head: SignedTreeHead) -> None:
        """Keep a signed tree head (one per size)."""
        ...

    def tree_heads(self) -> list[SignedTreeHead]:
        """Every signed tree head, smallest first."""
        ...

    def latest_tree_head(self) -> SignedTreeHead | None:
        """The newest signed tree head."""
        ...

    # Feedback (store/sql_feedback.py) ---------------------------------------------------------
    def contributors_of(self, stix_id: str, collection: Collection) -> list[str]:
        """The partner accounts whose submissions made some version of ``stix_id`` visible in
        ``collection`` (a placement or a co-delivery), sorted; inside a write transaction of
        this thread, as that transaction sees it."""
        ...

    def feedback_summary(
        self, partner_account: str, *, after: str | None = None, limit: int = 1000
    ) -> list[FeedbackSummary]:
        """Per object id (ascending, after ``after``), the counts of the sightings routed to the
        partner: at most ``limit`` objects."""
        ...

    def feedback_sightings(self, partner_account: str) -> list[FeedbackSighting]:
        """Every sighting counted for the partner, in the order they were routed."""
        ...
