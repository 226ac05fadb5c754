"""The contribution report: what a partner sent, what became of it and where it went.

Built from the audit log, which records every decision of every submission (outcome, refusal
code, agreement version, the countries each object went to), every recall and every sighting
routed back to the partner (with the country only where its agreement names it): the report is
a summary of the signed record, not a second bookkeeping that could disagree with it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchange.audit.events import AuditEvent
from exchange.errors import InvalidRequest, NotFound
from exchange.sharing.audit import AuditLog
from exchange.stix.timestamps import format_date_added, parse_timestamp
from exchange.store.models import Account, Role

__all__ = ["ContributionReport", "Reports", "summarise"]


@dataclass
class ContributionReport:
    """A partner's contributions between two times (either may be open)."""

    partner: str
    since: str | None
    until: str | None
    submissions: int = 0
    objects: int = 0
    accepted: int = 0
    already_stored: int = 0
    refused: Counter[str] = field(default_factory=Counter)  # refusal code -> objects
    by_agreement: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    countries_by_agreement: dict[str, Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    by_country: Counter[str] = field(default_factory=Counter)  # objects sent to each country
    held: int = 0  # accepted objects whose redistribution waited for an embargo
    recalls: int = 0
    recalled_in: Counter[str] = field(default_factory=Counter)
    sightings: Counter[str] = field(default_factory=Counter)  # verdict -> sightings received
    sighted_objects: set[str] = field(default_factory=set)
    sightings_by_country: Counter[str] = field(default_factory=Counter)  # where named

    def to_json(self) -> dict[str, Any]:
        """The report as the API answers it."""
        return {
            "partner": self.partner,
            "since": self.since,
            "until": self.until,
            "submissions": self.submissions,
            "objects": self.objects,
            "accepted": self.accepted,
            "already_stored": self.already_stored,
            "refused": dict(sorted(self.refused.items())),
            "by_agreement": {
                ref: {
                    "outcomes": dict(sorted(counts.items())),
                    "countries": dict(sorted(self.countries_by_agreement[ref].items())),
                }
                for ref, counts in sorted(self.by_agreement.items())
            },
            "by_country": dict(sorted(self.by_country.items())),
            "held_for_embargo": self.held,
            "recalls": self.recalls,
            "recalled_in": dict(sorted(self.recalled_in.items())),
            "feedback": {
                "sightings": dict(sorted(self.sightings.items())),
                "objects_sighted": len(self.sighted_objects),
                "by_country": dict(sorted(self.sightings_by_country.items())),
                "withheld_country": sum(self.sightings.values())
                - sum(self.sightings_by_country.values()),
            },
        }


def _within(event: AuditEvent, since: str | None, until: str | None) -> bool:
    return (since is None or event.at >= since) and (until is None or event.at < until)


def decision_countries(decision: Mapping[str, Any], audiences: Sequence[Any]) -> list[str]:
    """The countries one decision of a ``decision`` event sent the object to: its audience,
    by index into the event's ``audiences`` (or, in events written before audiences were
    listed once per event, its own ``countries``)."""
    if "countries" in decision:
        return list(decision["countries"])
    index = decision.get("audience")
    if isinstance(index, int) and 0 <= index < len(audiences):
        return list(audiences[index])
    return []


def summarise(
    partner: str, events: Iterable[AuditEvent], since: str | None = None, until: str | None = None
) -> ContributionReport:
    """The report of one partner from the audit events about it (``since``/``until``: RFC 3339
    UTC bounds, compared as the log writes them)."""
    report = ContributionReport(partner, since, until)
    for event in events:
        if not _within(event, since, until):
            continue
        if event.kind == "submission":
            report.submissions += 1
        elif event.kind == "decision":
            agreement = str(event.data.get("agreement", "?"))
            audiences = event.data.get("audiences", ())
            for decision in event.data.get("objects", ()):
                outcome = str(decision.get("outcome", "refused"))
                report.objects += 1
                if outcome == "accepted":
                    report.accepted += 1
                    routed = decision_countries(decision, audiences)
                    report.by_country.update(routed)
                    report.countries_by_agreement[agreement].update(routed)
                    report.held += bool(decision.get("held"))
                elif outcome == "already_stored":
                    report.already_stored += 1
                else:
                    code = outcome.split(":", 1)[1] if ":" in outcome else outcome
                    report.refused[code] += 1
                report.by_agreement[agreement][outcome.split(":", 1)[0]] += 1
        elif event.kind == "recall":
            report.recalls += 1
            report.recalled_in.update(event.data.get("revoked_in", ()))
        elif event.kind == "feedback" and event.data.get("outcome") == "added":
            report.sightings[str(event.data.get("verdict", "seen"))] += 1
            report.sighted_objects.add(str(event.data.get("object", "")))
            if event.data.get("country"):
                report.sightings_by_country[str(event.data["country"])] += 1
    return report


def _bound(text: str | None, name: str) -> str | None:
    """A bound as the log writes times (six fraction digits, Z); dates mean midnight UTC."""
    if text is None or not text.strip():
        return None
    value = text.strip()
    micros = parse_timestamp(value + "T00:00:00Z" if len(value) == 10 else value)
    if micros is None:
        raise InvalidRequest(f"'{name}' must be a date (2026-01-31) or an RFC 3339 UTC time")
    return format_date_added(micros)


class Reports(AuditLog):
    """Contribution reports for partners (their own) and admins (any partner's)."""

    def contribution_report(
        self, account: Account, since: str | None = None, until: str | None = None
    ) -> ContributionReport:
        """What ``account`` (a partner) contributed from ``since`` (included) to ``until``
        (excluded); either may be a date or an RFC 3339 UTC time."""
        start, end = _bound(since, "since"), _bound(until, "until")
        return summarise(account.username, self.iter_audit_events(account.id), start, end)

    def partner_report(
        self, username: str, since: str | None = None, until: str | None = None
    ) -> ContributionReport:
        """An admin's view of a partner's contribution report."""
        account = self._store.account_by_username(username)
        if account is None or account.role is not Role.PARTNER:
            raise NotFound(f"no partner {username!r}")
        return self.contribution_report(account, since, until)
