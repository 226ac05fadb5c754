"""Partners' due diligence and their sharing agreements: the administrative use cases.

Every step is checked by the pure rules (``exchange.partners.vetting``,
``exchange.agreements.terms``), stored with the change record (actor, time, before, after) in
the same transaction, and takes effect at once: suspending or terminating a partner, or ending
or narrowing its agreement, stops redistribution of what it has not yet shared and, where the
agreement says so, withdraws what it already shared.
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from exchange.agreements.terms import AgreementTerms, PastObjects
from exchange.errors import ConfigError, ExchangeError, InvalidRequest, NotAllowed
from exchange.partners import vetting
from exchange.partners.vetting import Criterion, Finding, PartnerRecord
from exchange.sharing.accounts import AccountAdmin
from exchange.stix.timestamps import format_date_added
from exchange.store.models import Account, AgreementVersion, Change, Role
from exchange.store.protocol import Transaction

__all__ = ["AgreementStatus", "AgreementView", "PartnerAdmin", "describe_terms_error"]

DEFAULT_REVETTING = timedelta(days=365)


class AgreementStatus(StrEnum):
    """Whether an agreement version is in force."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class AgreementView:
    """One agreement version with its parsed terms."""

    agreement_id: str
    version: int
    partner: str
    status: AgreementStatus
    terms: AgreementTerms
    created_by: str
    created_at: str

    @property
    def ref(self) -> str:
        """How decisions name this version."""
        return f"{self.agreement_id}@v{self.version}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "agreement_id": self.agreement_id,
            "version": self.version,
            "partner": self.partner,
            "status": self.status.value,
            "terms": self.terms.model_dump(mode="json"),
            "created_by": self.created_by,
            "created_at": self.created_at,
        }


def describe_terms_error(error: ValidationError) -> str:
    """One readable line per problem in agreement terms."""
    problems = []
    for item in error.errors()[:10]:
        where = ".".join(str(part) for part in item.get("loc", ())) or "terms"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems)


def parse_terms(document: Any) -> AgreementTerms:
    """Agreement terms from a mapping (TOML, JSON), with clear errors."""
    try:
        return AgreementTerms.model_validate(document)
    except ValidationError as exc:
        raise InvalidRequest(f"invalid agreement terms: {describe_terms_error(exc)}") from None


class PartnerAdmin(AccountAdmin):
    """Due diligence, partner lifecycle and agreements."""

    # Partners ------------------------------------------------------------------------------
    def _partner_account(self, username: str) -> Account:
        account = self.account_named(username)
        if account.role is not Role.PARTNER:
            raise InvalidRequest(f"{username!r} is not a partner")
        return account

    def _admin(self, username: str) -> str:
        account = self._store.account_by_username(username)
        if account is None or account.role is not Role.ADMIN or not account.active:
            raise NotAllowed(f"{username!r} is not an active admin account")
        return account.username

    def partner_record(self, account_id: str) -> PartnerRecord:
        """A partner's lifecycle record (a fresh applicant's when none is stored)."""
        stored = self._store.partner_record(account_id)
        if stored is None:
            return PartnerRecord(account_id=account_id)
        return vetting.record_from_dict(orjson.loads(stored))

    def partner(self, username: str) -> PartnerRecord:
        """A partner's lifecycle record, by user name."""
        return self.partner_record(self._partner_account(username).id)

    def partners(self) -> list[tuple[Account, PartnerRecord]]:
        """Every partner account with its record."""
        return [
            (account, self.partner_record(account.id))
            for account in self._store.accounts()
            if account.role is Role.PARTNER
        ]

    def _save(
        self, tx: Transaction, admin: str, action: str, before: PartnerRecord, after: PartnerRecord
    ) -> None:
        tx.save_partner(
            after.account_id,
            after.state.value,
            after.vetted_until,
            orjson.dumps(vetting.record_to_dict(after)),
        )
        self._record(
            tx,
            admin,
            "partner",
            after.account_id,
            action,
            vetting.record_to_dict(before),
            vetting.record_to_dict(after),
        )

    def _step(self, username: str, admin: str, action: str, change: Any) -> PartnerRecord:
        account = self._partner_account(username)
        actor = self._admin(admin)
        before = self.partner_record(account.id)
        after: PartnerRecord = change(before, actor)
        with self._store.transaction() as tx:
            self._save(tx, actor, action, before, after)
            if after.state in {vetting.PartnerState.SUSPENDED, vetting.PartnerState.TERMINATED}:
                self._stop_redistribution(tx, account.id)
        return after

    def open_review(
        self, username: str, *, admin: str, revet_by: date | None = None
    ) -> PartnerRecord:
        """Open a due-diligence review (first vetting, or re-vetting)."""
        now = self._now()
        due = revet_by or (now + DEFAULT_REVETTING).date()
        return self._step(
            username, admin, "open-review", lambda r, a: vetting.open_review(r, a, now, due)
        )

    def assess(
        self, username: str, criterion: Criterion, finding: Finding, evidence: str, *, admin: str
    ) -> PartnerRecord:
        """Record a finding, with evidence, on one due-diligence criterion."""
        now = self._now()
        return self._step(
            username,
            admin,
            f"assess:{criterion.value}",
            lambda r, a: vetting.assess(r, criterion, finding, evidence, a, now),
        )

    def approve_review(self, username: str, *, admin: str) -> PartnerRecord:
        """Approve the open review; two different admins vet the partner (four-eyes)."""
        now = self._now()
        return self._step(username, admin, "approve", lambda r, a: vetting.approve(r, a, now))

    def reject_review(self, username: str, reason: str, *, admin: str) -> PartnerRecord:
        """Reject the open review."""
        now = self._now()
        return self._step(username, admin, "reject", lambda r, a: vetting.reject(r, a, reason, now))

    def activate_partner(self, username: str, *, admin: str) -> PartnerRecord:
        """Make an approved partner active."""
        now = self._now()
        return self._step(username, admin, "activate", lambda r, a: vetting.activate(r, a, now))

    def suspend_partner(self, username: str, reason: str, *, admin: str) -> PartnerRecord:
        """Suspend a partner: submissions and redistribution stop at once."""
        now = self._now()
        return self._step(
            username, admin, "suspend", lambda r, a: vetting.suspend(r, a, reason, now)
        )

    def reinstate_partner(self, username: str, *, admin: str) -> PartnerRecord:
        """Reinstate a suspended partner."""
        now = self._now()
        return self._step(username, admin, "reinstate", lambda r, a: vetting.reinstate(r, a, now))

    def terminate_partner(self, username: str, reason: str, *, admin: str) -> PartnerRecord:
        """End a partnership for good."""
        now = self._now()
        return self._step(
            username, admin, "terminate", lambda r, a: vetting.terminate(r, a, reason, now)
        )

    # Agreements ----------------------------------------------------------------------------
    def audience_of(self, terms: AgreementTerms) -> frozenset[str]:
        """The member-country codes an agreement's recipients clause names."""
        clause = terms.recipients
        codes: set[str] = set()
        if clause.all_members:
            codes.update(country.code for country in self._countries)
        codes.update(clause.countries)
        regions = set(clause.regions)
        codes.update(country.code for country in self._countries if country.region in regions)
        return frozenset(codes - set(clause.exclude))

    def _check_recipients(self, terms: AgreementTerms) -> None:
        clause = terms.recipients
        unknown = [c for c in (*clause.countries, *clause.exclude) if c not in self._countries]
        if unknown:
            raise InvalidRequest(f"not member countries: {', '.join(sorted(unknown))}")
        known_regions = {country.region for country in self._countries}
        bad_regions = [r for r in clause.regions if r not in known_regions]
        if bad_regions:
            raise InvalidRequest(
                f"unknown regions: {', '.join(bad_regions)} "
                f"(known: {', '.join(sorted(known_regions))})"
            )
        if not self.audience_of(terms):
            raise InvalidRequest("the recipients clause names no member country")

    def _view(self, stored: AgreementVersion) -> AgreementView:
        account = self._store.account(stored.partner_account)
        return AgreementView(
            agreement_id=stored.agreement_id,
            version=stored.version,
            partner=account.username if account else stored.partner_account,
            status=AgreementStatus(stored.status),
            terms=AgreementTerms.model_validate_json(stored.terms),
            created_by=stored.created_by,
            created_at=stored.created_at,
        )

    def current_agreement(self, account_id: str) -> AgreementView | None:
        """The newest version of a partner's agreement."""
        stored = self._store.current_agreement(account_id)
        return None if stored is None else self._view(stored)

    def agreement(self, username: str) -> AgreementView:
        """The newest version of a partner's agreement, by the partner's user name."""
        view = self.current_agreement(self._partner_account(username).id)
        if view is None:
            raise InvalidRequest(f"{username!r} has no agreement yet")
        return view

    def agreement_history(self, username: str) -> list[AgreementView]:
        """Every version of a partner's agreement, oldest first."""
        current = self.agreement(username)
        return [self._view(v) for v in self._store.agreement_versions(current.agreement_id)]

    def agreements(self) -> list[AgreementView]:
        """The newest version of every agreement."""
        return [self._view(stored) for stored in self._store.current_agreements()]

    def set_agreement(
        self,
        username: str,
        terms: AgreementTerms | dict[str, Any],
        *,
        admin: str,
        status: AgreementStatus = AgreementStatus.ACTIVE,
    ) -> AgreementView:
        """Write the next version of a partner's agreement (the first makes the agreement)."""
        account = self._partner_account(username)
        actor = self._admin(admin)
        checked = terms if isinstance(terms, AgreementTerms) else parse_terms(terms)
        self._check_recipients(checked)
        before = self.current_agreement(account.id)
        version = AgreementVersion(
            agreement_id=before.agreement_id if before else f"agreement--{uuid.uuid4()}",
            version=before.version + 1 if before else 1,
            partner_account=account.id,
            status=status.value,
            terms=orjson.dumps(checked.model_dump(mode="json")),
            created_by=actor,
            created_at=format_date_added(self._now_us()),
        )
        with self._store.transaction() as tx:
            tx.add_agreement_version(version)
            after = self._view(version)
            self._record(
                tx,
                actor,
                "agreement",
                version.agreement_id,
                "create" if before is None else "new-version",
                None if before is None else before.as_dict(),
                after.as_dict(),
            )
            if status is not AgreementStatus.ACTIVE:
                self._stop_redistribution(tx, account.id, checked)
            elif before is not None:
                tx.narrow_redistribution(
                    account.id,
                    self.audience_of(checked),
                    placed=checked.past_objects is PastObjects.WITHDRAW,
                )
        return after

    def set_agreement_status(
        self, username: str, status: AgreementStatus, *, admin: str
    ) -> AgreementView:
        """Suspend, end or reactivate an agreement (a new version with the same terms)."""
        current = self.agreement(username)
        if current.status is status:
            raise InvalidRequest(f"the agreement is already {status.value}")
        return self.set_agreement(username, current.terms, admin=admin, status=status)

    def _stop_redistribution(
        self, tx: Transaction, account_id: str, terms: AgreementTerms | None = None
    ) -> None:
        """No more redistribution for a partner; withdraw the past if its agreement says so."""
        if terms is None:
            current = self.current_agreement(account_id)
            terms = current.terms if current else None
        tx.cancel_embargoes(account_id)
        if terms is not None and terms.past_objects is PastObjects.WITHDRAW:
            tx.narrow_redistribution(account_id, frozenset(), placed=True)

    def load_agreement_files(self, directory: Path, *, admin: str) -> list[AgreementView]:
        """Apply declarative agreements (``*.toml`` in ``directory``) that differ from the store.

        Each file names its partner and its terms::

            partner = "acme"
            status = "active"          # optional
            [terms]
            valid_from = 2026-01-01T00:00:00Z
            ...
        """
        changed: list[AgreementView] = []
        for path in sorted(directory.glob("*.toml")):
            try:
                document = tomllib.loads(path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{path}: not valid TOML: {exc}") from None
            username = document.get("partner")
            if not isinstance(username, str):
                raise ConfigError(f'{path}: name the partner (partner = "user-name")')
            try:
                terms = parse_terms(document.get("terms"))
                status = AgreementStatus(document.get("status", "active"))
                current = self.current_agreement(self._partner_account(username).id)
                same = (
                    current is not None
                    and current.status is status
                    and current.terms.model_dump(mode="json") == terms.model_dump(mode="json")
                )
                if not same:
                    changed.append(self.set_agreement(username, terms, admin=admin, status=status))
            except (ExchangeError, ValueError) as exc:
                raise ConfigError(f"{path}: {exc}") from None
        return changed

    def changes(self, entity: str | None = None, entity_id: str | None = None) -> list[Change]:
        """The record of administrative changes, oldest first."""
        return self._store.changes(entity, entity_id)
