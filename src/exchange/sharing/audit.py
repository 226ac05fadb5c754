"""The audit log as the hub keeps it: events appended inside the transaction they describe,
signed tree heads, proofs, and checking the whole log against a head.

Every event is a leaf of the RFC 9162 tree the store keeps (``exchange.audit`` is the pure core).
Administrative changes reach it through ``HubBase._record``; submissions, their per-object
decisions, embargo releases and purges through their own write transactions; page reads
(analysts and partners pulling) after the page was read, before it is returned, in short
transactions that carry the reads of every caller waiting at that moment (group commit).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from exchange.audit.canonical import thaw_json
from exchange.audit.errors import AuditError
from exchange.audit.events import AuditEvent
from exchange.audit.heads import HeadSigner, SignedTreeHead, TreeHead, key_id, verify_head
from exchange.audit.merkle import (
    EMPTY_ROOT,
    MerkleAccumulator,
    consistency_proof_from_nodes,
    inclusion_proof_from_nodes,
    leaf_hash,
)
from exchange.audit.verify import Verdict, verify_log
from exchange.errors import InvalidRequest, NotFound
from exchange.sharing.base import HubBase
from exchange.sharing.group_commit import GroupCommit
from exchange.sharing.status import StatusLine
from exchange.signing.keys import load_private_key_pem
from exchange.stix.timestamps import format_date_added
from exchange.store.models import Account, AddOutcome, PlacedObject
from exchange.store.protocol import Transaction

__all__ = ["AuditKey", "AuditLog", "event_json", "object_ids_digest"]

_CHUNK = 2000
_MAX_RANGE = 1000
_REFUSAL_CODE = re.compile(r"refused \(([^)]+)\)|([a-z0-9_-]+):")


def object_ids_digest(rows: Sequence[PlacedObject]) -> str:
    """SHA-256 (hex) over the returned objects' ids and versions, one ``id/version`` a line."""
    text = "".join(f"{row.stix_id}/{row.version}\n" for row in rows)
    return hashlib.sha256(text.encode()).hexdigest()


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An event as plain JSON (dicts and lists)."""
    value: dict[str, Any] = thaw_json(event.to_json())
    return value


def _json_value(value: Any) -> Any:
    """A JSON copy of a before/after record, or its digest when it has no canonical form."""
    if value is None:
        return None
    raw = orjson.dumps(value)
    try:
        AuditEvent(0, "1970-01-01T00:00:00Z", "x", "x", "x", {"v": orjson.loads(raw)})
    except AuditError:
        return {"sha256": hashlib.sha256(raw).hexdigest()}
    return orjson.loads(raw)


@dataclass(frozen=True)
class AuditKey:
    """A public key the hub has signed tree heads with."""

    key_id: str
    public_key: bytes  # PEM
    created_at: str
    retired_at: str | None

    def to_json(self) -> dict[str, Any]:
        """The key as a JSON object."""
        return {
            "key_id": self.key_id,
            "public_key": self.public_key.decode(),
            "created_at": self.created_at,
            "retired_at": self.retired_at,
        }


class AuditLog(HubBase):
    """Appending to the audit log, publishing signed heads, proofs and verification."""

    _read_log: GroupCommit[tuple[str, str, Mapping[str, Any]]]

    # Appending -------------------------------------------------------------------------------
    def _audit(
        self,
        tx: Transaction,
        kind: str,
        actor: str,
        subject: str,
        data: Mapping[str, Any],
        partner: str | None = None,
    ) -> int:
        """Append one event inside ``tx`` (committed or rolled back with it); return its seq."""
        seq = tx.audit_size()
        event = AuditEvent(seq, format_date_added(self._now_us()), kind, actor, subject, data)
        first = tx.append_events([(kind, event.at, partner, event.canonical_bytes(), event.leaf())])
        if first != seq:
            raise AuditError(f"the audit log moved from {seq} to {first} inside a transaction")
        return seq

    def _audit_change(
        self,
        tx: Transaction,
        actor: str,
        entity: str,
        entity_id: str,
        action: str,
        before: Any,
        after: Any,
    ) -> None:
        """The event of one administrative change (what ``_record`` writes)."""
        kind = re.sub(r"[^a-z0-9_.-]", "-", entity.lower()) or "change"
        data = {"action": action, "before": _json_value(before), "after": _json_value(after)}
        self._audit(tx, kind, actor, f"{entity}:{entity_id}", data)

    def _audit_read(
        self, account: Account, collection_id: str, scope: str, rows: Sequence[PlacedObject]
    ) -> None:
        """A page read as its own short transaction (see the README for its measured cost)."""
        data = {
            "account": account.id,
            "collection": collection_id,
            "scope": scope,
            "count": len(rows),
            "first": format_date_added(rows[0].date_added) if rows else None,
            "last": format_date_added(rows[-1].date_added) if rows else None,
            "objects_sha256": object_ids_digest(rows),
        }
        self._read_log.submit((account.username, f"collection:{collection_id}", data))

    def _commit_reads(self, reads: Sequence[tuple[str, str, Mapping[str, Any]]]) -> None:
        """The read events of several callers in one transaction (see ``group_commit``)."""
        with self._store.transaction() as tx:
            for actor, subject, data in reads:
                self._audit(tx, "read", actor, subject, data)

    def _audit_submission(
        self,
        tx: Transaction,
        account: Account,
        agreement_ref: str,
        status_id: str,
        entries: Sequence[StatusLine | int],
        outcomes: Sequence[AddOutcome],
        routes: Mapping[frozenset[str], Sequence[tuple[int, Any]]],
        embargoed: bool,
    ) -> None:
        """Two events per submission: the submission, then every object's decision (id,
        version, outcome code, the countries it goes to) in one leaf. The distinct sets of
        countries are listed once, under ``audiences``; a routed decision names its set by
        index (``audience``), so the event grows with the objects, not objects x countries."""
        # Each object's countries: usually one audience, so the audience itself, and each
        # distinct set sorted once (not once per object: there may be 196 countries).
        countries: dict[int, frozenset[str]] = {}
        for audience, routed in routes.items():
            for index, _ in routed:
                if index >= 0:
                    held = countries.get(index)
                    countries[index] = audience if held is None else held | audience
        listed: dict[frozenset[str], tuple[str, ...]] = {}
        audiences: dict[tuple[str, ...], int] = {}
        decisions: list[dict[str, Any]] = []
        for entry in entries:
            if isinstance(entry, StatusLine):
                match = _REFUSAL_CODE.match(entry.message)
                code = next((g for g in match.groups() if g), "refused") if match else "refused"
                decisions.append(
                    {"id": entry.stix_id, "version": entry.version, "outcome": f"refused:{code}"}
                )
                continue
            outcome = outcomes[entry]
            if outcome.refused is not None:
                decisions.append(
                    {"id": outcome.stix_id, "version": outcome.version, "outcome": "conflict"}
                )
                continue
            decision: dict[str, Any] = {
                "id": outcome.stix_id,
                "version": outcome.version,
                "outcome": "accepted" if outcome.stored else "already_stored",
                "held": embargoed and entry in countries,
            }
            if entry in countries:
                members = listed.get(countries[entry])
                if members is None:
                    members = listed[countries[entry]] = tuple(sorted(countries[entry]))
                decision["audience"] = audiences.setdefault(members, len(audiences))
            decisions.append(decision)
        accepted = sum(not isinstance(entry, StatusLine) for entry in entries)
        subject = f"submission:{status_id}"
        summary = {
            "partner": account.id,
            "agreement": agreement_ref,
            "status": status_id,
            "objects": len(entries),
            "accepted": accepted,
            "refused": len(entries) - accepted,
        }
        self._audit(tx, "submission", account.username, subject, summary, account.id)
        detail = {
            "status": status_id,
            "agreement": agreement_ref,
            "audiences": [list(members) for members in audiences],
            "objects": decisions,
        }
        self._audit(tx, "decision", account.username, subject, detail, account.id)

    def _audit_placement(
        self, tx: Transaction, action: str, partner: str | None, count: int, **extra: Any
    ) -> None:
        """A placement event (embargo release or cancellation, retention purge), if any."""
        if count:
            data = {"action": action, "count": count, **extra}
            self._audit(tx, "placement", "hub", f"placements:{partner or 'all'}", data, partner)

    # Signed heads ----------------------------------------------------------------------------
    def _head_signer(self) -> HeadSigner:
        private = load_private_key_pem(self.hub_key("audit").private_key)
        if not isinstance(private, Ed25519PrivateKey):
            raise AuditError("the audit key is not an Ed25519 key")
        return HeadSigner(private)

    def current_tree_head(self) -> TreeHead:
        """The log as it is now (unsigned)."""
        size = self._store.audit_size()
        root = EMPTY_ROOT
        if size:
            root = MerkleAccumulator.from_nodes(size, self._store.audit_node).root()
        return TreeHead.of(size, root, format_date_added(self._now_us()))

    def publish_tree_head(self) -> SignedTreeHead:
        """Sign the current size and root with the audit key and keep the head; when the log
        has not grown since the latest head, that head is returned instead."""
        # The key first: making it on first use is itself an event the head should cover.
        signer = self._head_signer()
        latest = self._store.latest_tree_head()
        size = self._store.audit_size()
        if latest is not None and latest.head.size == size:
            return latest
        head = self.current_tree_head()
        signed = SignedTreeHead(head, signer.key_id, signer.sign(head))
        self._store.save_tree_head(signed)
        return signed

    def latest_tree_head(self) -> SignedTreeHead | None:
        """The newest signed head."""
        return self._store.latest_tree_head()

    def tree_heads(self) -> list[SignedTreeHead]:
        """Every signed head, oldest first."""
        return self._store.tree_heads()

    def audit_keys(self) -> list[AuditKey]:
        """Every key that signed (or signs) tree heads, oldest first."""
        self.hub_key("audit")
        keys = []
        for hub_key in self._store.hub_keys("audit"):
            public = load_pem_public_key(hub_key.public_key)
            assert isinstance(public, Ed25519PublicKey)
            keys.append(
                AuditKey(key_id(public), hub_key.public_key, hub_key.created_at, hub_key.retired_at)
            )
        return keys

    def check_head_signature(self, signed: SignedTreeHead) -> bool:
        """Whether one of the hub's audit keys made this head's signature."""
        for key in self.audit_keys():
            if key.key_id == signed.key_id:
                public = load_pem_public_key(key.public_key)
                assert isinstance(public, Ed25519PublicKey)
                return verify_head(signed.head, signed.signature, public)
        return False

    # Reading the log -------------------------------------------------------------------------
    def audit_size(self) -> int:
        """How many events the log holds."""
        return self._store.audit_size()

    def audit_events(self, start: int = 0, end: int | None = None) -> list[AuditEvent]:
        """Events ``start <= seq < end`` (at most 1000)."""
        stop = self._store.audit_size() if end is None else end
        if start < 0 or stop < start:
            raise InvalidRequest("give 0 <= start <= end")
        stop = min(stop, start + _MAX_RANGE)
        return [
            AuditEvent.from_canonical(body) for _, body in self._store.audit_events(start, stop)
        ]

    def iter_audit_events(self, partner: str | None = None) -> Iterator[AuditEvent]:
        """Every event (or every event about one partner account), in order."""
        if partner is not None:
            after = -1
            while rows := self._store.audit_events_for_partner(partner, after, _CHUNK):
                yield from (AuditEvent.from_canonical(body) for _, body in rows)
                after = rows[-1][0]
            return
        size = self._store.audit_size()
        for start in range(0, size, _CHUNK):
            for _, body in self._store.audit_events(start, min(size, start + _CHUNK)):
                yield AuditEvent.from_canonical(body)

    def _sized(self, size: int | None) -> int:
        if size is None:
            latest = self._store.latest_tree_head()
            if latest is None:
                raise NotFound("no signed tree head yet: give a size")
            return latest.head.size
        if not 0 <= size <= self._store.audit_size():
            raise InvalidRequest(f"the log has no tree of size {size}")
        return size

    def inclusion_proof(self, seq: int, size: int | None = None) -> dict[str, Any]:
        """The RFC 9162 inclusion proof of event ``seq`` in the tree of ``size`` (default: the
        latest signed head's size), with the event and its leaf hash."""
        tree_size = self._sized(size)
        if not 0 <= seq < tree_size:
            raise InvalidRequest(f"event {seq} is not in a tree of {tree_size} events")
        proof = inclusion_proof_from_nodes(seq, tree_size, self._store.audit_node)
        [(_, body)] = self._store.audit_events(seq, seq + 1)
        event = AuditEvent.from_canonical(body)
        return {
            "seq": seq,
            "size": tree_size,
            "leaf": event.leaf().hex(),
            "proof": [node.hex() for node in proof],
            "event": event_json(event),
        }

    def consistency_proof(self, first: int, second: int | None = None) -> dict[str, Any]:
        """The RFC 9162 consistency proof from the tree of ``first`` events to ``second``."""
        new = self._sized(second)
        if not 0 <= first <= new:
            raise InvalidRequest(f"give 0 <= first <= second ({new})")
        proof: list[bytes] = []
        if 0 < first < new:
            proof = consistency_proof_from_nodes(first, new, self._store.audit_node)
        return {"first": first, "second": new, "proof": [node.hex() for node in proof]}

    def partner_audit(self, account: Account, after: int, limit: int) -> dict[str, Any]:
        """The events about a partner's own contributions that the latest signed head covers,
        each with its inclusion proof against that head."""
        if limit < 1:
            raise InvalidRequest("'limit' must be a positive integer")
        latest = self._store.latest_tree_head()
        events: list[dict[str, Any]] = []
        if latest is not None:
            rows = self._store.audit_events_for_partner(account.id, after, min(limit, 200))
            for seq, _ in rows:
                if seq < latest.head.size:
                    events.append(self.inclusion_proof(seq, latest.head.size))
        keys = {key.key_id: key for key in self.audit_keys()}
        signer = None if latest is None else keys.get(latest.key_id)
        return {
            "head": None if latest is None else latest.to_json(),
            "public_key": None if signer is None else signer.public_key.decode(),
            "events": events,
            "next_after": events[-1]["seq"] if events else after,
        }

    # Verification ----------------------------------------------------------------------------
    def verify_audit_log(self, trusted: TreeHead) -> Verdict:
        """Check the whole log against a head obtained earlier; names the first bad event."""
        size = self._store.audit_size()
        bad: list[int] = []

        read = 0
        wrong_leaf: list[int] = []

        def events() -> Iterator[AuditEvent]:
            nonlocal read
            for start in range(0, size, _CHUNK):
                for seq, body, leaf in self._store.audit_rows(start, min(size, start + _CHUNK)):
                    read += 1
                    if not wrong_leaf and leaf_hash(body) != leaf:
                        # The stored leaf hash must be the hash of the stored body: proofs are
                        # built from the node table, which a rewritten leaf would contradict.
                        wrong_leaf.append(seq)
                    try:
                        yield AuditEvent.from_canonical(body)
                    except AuditError:
                        bad.append(seq)
                        return

        verdict = verify_log(events(), trusted, trusted_nodes=self._store.audit_node)
        if bad and (verdict.first_bad is None or verdict.first_bad >= bad[0]):
            return Verdict(
                False,
                verdict.checked,
                bad[0],
                f"event {bad[0]} is not a well-formed canonical event",
                verdict.root,
            )
        if verdict.ok and wrong_leaf:
            return Verdict(
                False,
                verdict.checked,
                wrong_leaf[0],
                f"event {wrong_leaf[0]}: its stored leaf hash is not the hash of its body",
                verdict.root,
            )
        if verdict.ok and read != size:
            return Verdict(
                False,
                verdict.checked,
                read,
                f"the log's state counts {size} events but {read} were read: "
                f"event {read} is missing",
                verdict.root,
            )
        return verdict
