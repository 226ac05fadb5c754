"""A partner's submission, step by step (the flow in the architecture notes).

Before the body is parsed: the partner must be active and vetted, under an agreement that is
active and in its validity window, and the envelope within the agreement's size. Then each
object is checked (structure, STIX 2.1 rules) and decided by the agreement's policy: refused
with a reason, or accepted, possibly transformed and narrowed to fewer countries. The
partner's inbox gets the objects as sent; the member countries get what the policy made of them
(at once, or when the embargo ends). Submission record, placements, held redistribution, quota
count and status resource are one commit; the status names the agreement version of every
decision.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from exchange.agreements.facts import gather_facts
from exchange.agreements.policy import Context, decide, hub_objects, policy_for
from exchange.agreements.terms import AgreementTerms
from exchange.countries import country_collection_id
from exchange.errors import NotAllowed, PayloadTooLarge, QuotaExceeded
from exchange.partners.vetting import may_submit
from exchange.sharing.keys import KeyAdmin, SignedRequest
from exchange.sharing.partners import AgreementStatus, AgreementView
from exchange.sharing.recalls import Recalls
from exchange.sharing.status import StatusLine, line_for, render_status
from exchange.stix.envelope import parse_members
from exchange.stix.objects import ObjectVersion, Refusal, check_object
from exchange.stix.validation import validate_object
from exchange.store.models import Account, Collection, StatusRecord, Submission

__all__ = ["Submissions"]

_IDENTITY_NAMESPACE = uuid.UUID("0f3a1a3e-9c1d-4f0e-8a8e-5b6f7d2c9e11")


@dataclass
class _Plan:
    """What one submission will do, decided before anything is written."""

    inbox: list[ObjectVersion] = field(default_factory=list)
    lines: list[StatusLine | int] = field(default_factory=list)  # int: index into inbox
    notes: list[str] = field(default_factory=list)  # per inbox object: where it goes
    routes: dict[frozenset[str], list[tuple[int, ObjectVersion]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    refs: dict[frozenset[str], set[str]] = field(default_factory=lambda: defaultdict(set))
    recalls: list[int] = field(default_factory=list)  # inbox indexes of revoking versions


def _refs(obj: Mapping[str, Any]) -> set[str]:
    refs = {ref for ref in obj.get("object_marking_refs", ()) if isinstance(ref, str)}
    refs.update(
        marking["marking_ref"]
        for marking in obj.get("granular_markings", ())
        if isinstance(marking, Mapping) and isinstance(marking.get("marking_ref"), str)
    )
    creator = obj.get("created_by_ref")
    if isinstance(creator, str):
        refs.add(creator)
    return refs


def _closure(refs: set[str], made: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """The hub-made objects (identities, TLP definitions) that routed objects refer to,
    and what those refer to in turn: only these are shipped alongside."""
    pending = refs & set(made)
    wanted: set[str] = set()
    while pending:
        stix_id = pending.pop()
        wanted.add(stix_id)
        pending |= (_refs(made[stix_id]) & set(made)) - wanted
    return wanted


def _outside_validity(agreement: AgreementView, now: datetime) -> str | None:
    """Why an agreement is not in force at ``now`` (its validity window), or None."""
    terms = agreement.terms
    if now < terms.valid_from:
        return f"agreement {agreement.ref} starts {terms.valid_from}"
    if terms.valid_until is not None and now >= terms.valid_until:
        return f"agreement {agreement.ref} expired {terms.valid_until}"
    return None


def checked_member(member: Any) -> ObjectVersion | Refusal:
    """Structure first (every stored object passes it), then the STIX 2.1 rules."""
    if isinstance(member, Refusal):  # refused while parsing (nested too deeply)
        return member
    checked = check_object(member)
    if isinstance(checked, Refusal):
        return checked
    invalid = validate_object(member)
    if invalid is not None:
        return Refusal(checked.stix_id, checked.version_text, f"{invalid.code}: {invalid.message}")
    return checked


class Submissions(KeyAdmin, Recalls):
    """Taking submissions into partners' inboxes and redistributing them."""

    _max_objects: int
    _max_depth: int

    def hub_identity_id(self) -> str:
        """The identity the hub names as creator of anonymised objects."""
        return f"identity--{uuid.uuid5(_IDENTITY_NAMESPACE, 'hub')}"

    def pseudonym_id(self, account_id: str) -> str:
        """The stable identity the hub uses for a partner under pseudonymous attribution.

        Keyed with a store secret, so the pseudonym does not reveal the account id.
        """
        digest = hmac.new(self._store.secret("pseudonym"), account_id.encode(), hashlib.sha256)
        return f"identity--{uuid.UUID(bytes=digest.digest()[:16], version=4)}"

    def _admissible(self, account: Account, body_size: int) -> AgreementView:
        """The agreement a submission will be decided under; refuses if there is none to use."""
        now = self._now()
        reason = may_submit(self.partner_record(account.id), now.date())
        if reason is not None:
            raise NotAllowed(f"submissions are refused: {reason}")
        agreement = self.current_agreement(account.id)
        if agreement is None:
            raise NotAllowed("submissions are refused: the partner has no sharing agreement")
        if agreement.status is not AgreementStatus.ACTIVE:
            raise NotAllowed(
                f"submissions are refused: agreement {agreement.ref} is {agreement.status.value}"
            )
        terms = agreement.terms
        outside = _outside_validity(agreement, now)
        if outside is not None:
            raise NotAllowed(f"submissions are refused: {outside}")
        limit = terms.quotas.max_envelope_bytes
        if limit is not None and body_size > limit:
            raise PayloadTooLarge(
                f"agreement {agreement.ref} takes envelopes of at most {limit} bytes"
            )
        return agreement

    def _plan(self, account: Account, agreement: AgreementView, members: list[Any]) -> _Plan:
        terms = agreement.terms
        dicts = [m for m in members if isinstance(m, Mapping)]
        ctx = Context(
            partner_id=account.id,
            agreement=agreement.ref,
            terms=terms,
            now=self._now(),
            audience=self.audience_of(terms),
            facts=gather_facts(dicts),
            pseudonym_id=self.pseudonym_id(account.id),
            hub_identity_id=self.hub_identity_id(),
        )
        policy = policy_for(terms)
        plan = _Plan()
        for member in members:
            checked = checked_member(member)
            if isinstance(checked, Refusal):
                plan.lines.append(line_for(checked))
                continue
            decision = decide(member, ctx, policy)
            if not decision.accepted:
                message = f"refused ({decision.code}) under {agreement.ref}: {decision.message}"
                plan.lines.append(StatusLine(checked.stix_id, checked.version, False, message))
                continue
            index = len(plan.inbox)
            plan.inbox.append(checked)
            plan.lines.append(index)
            if member.get("revoked") is True:
                # A revocation goes where the object went, at once (no embargo), whatever the
                # agreement's recipients are now: see sharing/recalls.py.
                plan.recalls.append(index)
                plan.notes.append("")  # said once the recall is made (see submit)
                continue
            item = decision.redistributed
            if item is None or not item.audience:
                plan.notes.append(f"kept in the partner's inbox ({decision.message})")
                continue
            # Transforms make a new dict: the very same object is unchanged and checked already.
            shared = checked if item.obj is member else check_object(dict(item.obj))
            if isinstance(shared, Refusal):  # a transform must never make an invalid object
                plan.notes.append("kept in the partner's inbox (policy_error)")
                continue
            plan.routes[item.audience].append((index, shared))
            plan.refs[item.audience] |= _refs(item.obj)
            wait = f" after a {terms.embargo_hours:g} h embargo" if terms.embargo_hours else ""
            count = len(item.audience)
            plan.notes.append(f"to {count} member {'country' if count == 1 else 'countries'}{wait}")
        if plan.routes:
            made = {str(obj["id"]): obj for obj in hub_objects(ctx)}
            for audience, routed in plan.routes.items():
                wanted = _closure(plan.refs[audience], made)
                extras = [check_object(made[stix_id]) for stix_id in sorted(wanted)]
                routed[:0] = [(-1, obj) for obj in extras if isinstance(obj, ObjectVersion)]
        return plan

    def _country_collections(self, codes: frozenset[str]) -> list[Collection]:
        found = (self._store.collection(country_collection_id(code)) for code in sorted(codes))
        return [collection for collection in found if collection is not None]

    def submit(
        self,
        account: Account,
        inbox: Collection,
        body: bytes,
        request: SignedRequest | None = None,
    ) -> bytes:
        """Take an envelope into a partner's inbox; return the status resource.

        Under an agreement that requires signatures, the request's signature is verified
        before the body is parsed; its nonce and the evidence are kept in the same commit.
        """
        agreement = self._admissible(account, len(body))
        signed = None
        if agreement.terms.signatures_required:
            signed = self._verify_submission(account, request, body)
        requested_at = self._now_us()
        members = parse_members(body, max_objects=self._max_objects, max_depth=self._max_depth)
        plan = self._plan(account, agreement, members)
        terms: AgreementTerms = agreement.terms
        today = self._now().date().isoformat()
        quota = terms.quotas.objects_per_day
        if quota is not None and plan.inbox:
            used = self._store.usage(account.id, today)
            if used + len(plan.inbox) > quota:
                raise QuotaExceeded(
                    f"agreement {agreement.ref} allows {quota} objects a day; {used} used today, "
                    f"this envelope would add {len(plan.inbox)}"
                )
        status_id = str(uuid.uuid4())
        # Compressed here, in parallel with other server processes, not under the write lock.
        self._store.prepare(
            [*plan.inbox, *(obj for routed in plan.routes.values() for _, obj in routed)]
        )
        with self._store.transaction() as tx:
            submission_pk = tx.add_submission(
                Submission(
                    partner_account=account.id,
                    agreement_id=agreement.agreement_id,
                    agreement_version=agreement.version,
                    status_id=status_id,
                    received_at=requested_at,
                    accepted=len(plan.inbox),
                    refused=len(plan.lines) - len(plan.inbox),
                )
            )
            if signed is not None and request is not None:
                self._keep_evidence(tx, signed, request, body, submission_pk)
            outcomes = tx.place([inbox], plan.inbox, target=inbox, submission_pk=submission_pk)
            for audience, routed in plan.routes.items():
                # Objects the inbox refused (a conflicting version) go nowhere.
                shared = [
                    obj for index, obj in routed if index < 0 or outcomes[index].refused is None
                ]
                if len(shared) == sum(index < 0 for index, _ in routed):
                    continue
                if terms.embargo_hours:
                    due = requested_at + int(terms.embargo_hours * 3600 * 1_000_000)
                    tx.embargo(shared, sorted(audience), due_at=due, submission_pk=submission_pk)
                else:
                    tx.place(
                        self._country_collections(audience),
                        shared,
                        target=None,
                        submission_pk=submission_pk,
                    )
            for index in plan.recalls:
                if outcomes[index].refused is None:
                    revoked = plan.inbox[index]
                    recall = self._recall(
                        tx,
                        account,
                        revoked.stix_id,
                        at_least=revoked.version,
                        submission_pk=submission_pk,
                        how="revoked version",
                    )
                    count = len(recall.countries) + len(recall.already_revoked)
                    plan.notes[index] = (
                        f"revoked in the {count} member "
                        f"{'country' if count == 1 else 'countries'} that received it"
                    )
            if plan.inbox:
                total = tx.add_usage(account.id, today, len(plan.inbox))
                if quota is not None and total > quota:
                    # Another submission took the rest of the quota meanwhile: undo this one.
                    raise QuotaExceeded(
                        f"agreement {agreement.ref} allows {quota} objects a day; "
                        f"this envelope would bring today's count to {total}"
                    )
            lines = self._status_lines(plan, outcomes, agreement)
            status = render_status(status_id, requested_at, lines)
            tx.save_status(StatusRecord(status_id, inbox.id, account.id, status))
            embargoed = bool(terms.embargo_hours)
            self._audit_submission(
                tx, account, agreement.ref, status_id, plan.lines, outcomes, plan.routes, embargoed
            )
        return status

    @staticmethod
    def _status_lines(
        plan: _Plan, outcomes: Sequence[Any], agreement: AgreementView
    ) -> list[StatusLine]:
        lines: list[StatusLine] = []
        for entry in plan.lines:
            if isinstance(entry, StatusLine):
                lines.append(entry)
                continue
            outcome = outcomes[entry]
            line = line_for(outcome)
            if line.success:
                message = f"{line.message} (accepted under {agreement.ref}: {plan.notes[entry]})"
                line = StatusLine(line.stix_id, line.version, True, message, line.date_added)
            lines.append(line)
        return lines

    # Background work -----------------------------------------------------------------------
    def release_embargoes(self) -> int:
        """Redistribute what has waited out its embargo, unless its partner may no longer share.

        Partners that are suspended, lapsed or without an active agreement lose what they held.
        """
        if not self._store.held_count():
            return 0
        now = self._now()
        with self._store.transaction() as tx:
            for account, record in self.partners():
                agreement = self.current_agreement(account.id)
                allowed = (
                    may_submit(record, now.date()) is None
                    and agreement is not None
                    and agreement.status is AgreementStatus.ACTIVE
                    and _outside_validity(agreement, now) is None
                )
                if not allowed:
                    self._audit_placement(tx, "cancel", account.id, tx.cancel_embargoes(account.id))
            released = tx.release_embargoes(self._now_us())
            self._audit_placement(tx, "release", None, released)
            return released

    def purge_expired(self) -> int:
        """Delete what partners shared longer ago than their agreement's retention allows."""
        purged = 0
        now = self._now_us()
        with self._store.transaction() as tx:
            for agreement in self.agreements():
                days = agreement.terms.retention_days
                if days is None:
                    continue
                account = self._store.account_by_username(agreement.partner)
                if account is not None:
                    before = now - days * 86_400_000_000
                    count = tx.purge_before(account.id, before)
                    self._audit_placement(tx, "purge", account.id, count, before=before)
                    purged += count
        return purged
