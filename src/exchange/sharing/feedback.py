"""Sightings back: analysts report sightings of objects in their country's collection; the hub
routes each to the feedback collection of every partner that delivered the object there, under
that partner's own agreement, and partners see per-object counts.

The order of a report: the caller must be an analyst; the report is parsed and checked (STIX
2.1); the sighted object must be visible in the analyst's country collection (else the same
``NotFound`` as a missing object); its contributors are the partners whose submissions placed
it there (or co-delivered it). For each contributor the sighting is re-issued as its agreement's
``feedback_attribution`` says (``exchange.sharing.sightings``), checked again, and placed in its
feedback collection; placements, counts and audit events are one commit. The analyst learns how
many partners it reached, never which.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exchange.agreements.terms import FeedbackAttribution
from exchange.countries import country_collection_id
from exchange.errors import Conflict, InvalidRequest, NotAllowed, NotFound
from exchange.sharing.access import access_to
from exchange.sharing.sightings import (
    ReportedSighting,
    Verdict,
    checked,
    feedback_objects,
    feedback_sighting_id,
    parse_report,
)
from exchange.sharing.submission import Submissions
from exchange.stix.objects import ObjectVersion, Refusal
from exchange.stix.timestamps import format_date_added
from exchange.store.feedback_models import FeedbackSighting
from exchange.store.models import Account, Collection, Role

__all__ = ["Feedback", "SightingReceipt"]

_MAX_SUMMARY_PAGE = 1000


@dataclass(frozen=True, slots=True)
class SightingReceipt:
    """What an analyst is told about a report: how many partners it reached, never which."""

    id: str
    object_id: str
    verdict: Verdict
    partners: int
    added: int  # partners whose feedback collection did not hold this sighting yet

    def to_json(self) -> dict[str, Any]:
        """The receipt as the HTTP answer shows it."""
        return {
            "id": self.id,
            "sighting_of_ref": self.object_id,
            "verdict": self.verdict.value,
            "partners": self.partners,
            "new": self.added > 0,
        }


@dataclass(frozen=True, slots=True)
class _Route:
    """One partner's copy of a report, decided before the commit."""

    partner: Account
    collection: Collection
    agreement: str | None  # the agreement version whose clause decided attribution
    attribution: FeedbackAttribution
    sighting_id: str
    objects: Sequence[ObjectVersion]  # the sighting last


class Feedback(Submissions):
    """Analysts' sightings routed to partners, and partners' view of them."""

    def _analyst_country(self, account: Account, object_id: str) -> Collection:
        """The analyst's country collection, if it shows ``object_id``; else ``NotFound``."""
        code = account.country
        collection = None if code is None else self._store.collection(country_collection_id(code))
        visible = (
            collection is not None
            and access_to(account, collection, ()).can_read
            and self._store.holds(collection, object_id)
        )
        if collection is None or not visible:
            raise NotFound("no object with this id in your country's collection")
        return collection

    def _route(self, account: Account, report: ReportedSighting, partner: Account) -> _Route:
        agreement = self.current_agreement(partner.id)
        attribution = (
            FeedbackAttribution.WITHHELD
            if agreement is None
            else agreement.terms.feedback_attribution
        )
        country = self._countries.get(account.country or "")
        if country is None:
            raise NotFound("no object with this id in your country's collection")
        sighting_id = feedback_sighting_id(report.base_id, account.id, partner.id)
        objects: list[ObjectVersion] = []
        for obj in feedback_objects(
            report,
            sighting_id=sighting_id,
            attribution=attribution,
            country=country,
            hub_identity_id=self.hub_identity_id(),
        ):
            found = checked(obj)
            if isinstance(found, Refusal):
                raise InvalidRequest(f"the sighting would not be valid STIX 2.1: {found.reason}")
            objects.append(found)
        return _Route(
            partner=partner,
            collection=self.ensure_feedback_collection(partner),
            agreement=None if agreement is None else agreement.ref,
            attribution=attribution,
            sighting_id=sighting_id,
            objects=objects,
        )

    def report_sighting(self, account: Account, document: Any) -> SightingReceipt:
        """Route an analyst's sighting (a JSON document, see ``exchange.sharing.sightings``) to
        the feedback collection of every partner that delivered the sighted object to the
        analyst's country, each under its own agreement; one commit with the audit events."""
        if account.role is not Role.ANALYST:
            raise NotAllowed("sightings are reported by analysts")
        report = parse_report(document, self._now_us())
        country = self._analyst_country(account, report.object_id)
        routes = [
            self._route(account, report, partner)
            for partner_id in self._store.contributors_of(report.object_id, country)
            if (partner := self._store.account(partner_id)) is not None
        ]
        added = 0
        with self._store.transaction() as tx:
            outcomes: list[dict[str, Any]] = []
            for route in routes:
                placed = tx.place([route.collection], route.objects, target=route.collection)
                sighting = placed[-1]
                if sighting.refused is not None:
                    raise Conflict(
                        f"a different sighting {report.base_id} of this version was reported "
                        "before: send a new version (a later 'modified')"
                    )
                if sighting.stored:
                    added += 1
                    tx.record_sighting(
                        FeedbackSighting(
                            partner_account=route.partner.id,
                            sighting_id=route.sighting_id,
                            object_id=report.object_id,
                            version=report.version,
                            false_positive=report.verdict is Verdict.FALSE_POSITIVE,
                            count=report.count,
                            sighted_at=report.sighted_at,
                            reported_at=sighting.date_added or self._now_us(),
                        )
                    )
                outcome = "added" if sighting.stored else "already_present"
                routed = {
                    "object": report.object_id,
                    "sighting": route.sighting_id,
                    "verdict": report.verdict.value,
                    "agreement": route.agreement,
                    "attribution": route.attribution.value,
                    "outcome": outcome,
                }
                if route.attribution is FeedbackAttribution.NAMED:
                    routed["country"] = account.country
                # The partner's own event (it reads it with its proof): the actor is the hub, and
                # under "withheld" nothing in it names the country or the analyst.
                self._audit(
                    tx, "feedback", "hub", f"sighting:{route.sighting_id}", routed, route.partner.id
                )
                outcomes.append({**routed, "partner": route.partner.id})
            self._audit(
                tx,
                "sighting",
                account.username,
                f"sighting:{report.base_id}",
                {
                    "analyst": account.id,
                    "country": account.country,
                    "object": report.object_id,
                    "verdict": report.verdict.value,
                    "count": report.count,
                    "routes": outcomes,
                },
            )
        return SightingReceipt(
            id=report.base_id,
            object_id=report.object_id,
            verdict=report.verdict,
            partners=len(routes),
            added=added,
        )

    def partner_feedback(
        self, account: Account, *, after: str | None = None, limit: int = _MAX_SUMMARY_PAGE
    ) -> dict[str, Any]:
        """Per object of the partner that analysts reported on (by id, after ``after``): how
        many sightings said seen (and their counts added up), how many false positive, when it
        was last sighted and last reported; and the partner's feedback collection."""
        if account.role is not Role.PARTNER:
            raise NotAllowed("feedback is for partners")
        if not 1 <= limit <= _MAX_SUMMARY_PAGE:
            raise InvalidRequest(f"'limit' is between 1 and {_MAX_SUMMARY_PAGE}")
        collection = self.ensure_feedback_collection(account)
        rows = self._store.feedback_summary(account.id, after=after, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return {
            "collection": collection.id,
            "objects": [
                {
                    "object_id": row.object_id,
                    "sightings": row.sightings,
                    "times_seen": row.times_seen,
                    "false_positives": row.false_positives,
                    "last_sighted": (
                        None if row.last_sighted is None else format_date_added(row.last_sighted)
                    ),
                    "last_reported": format_date_added(row.last_reported),
                }
                for row in rows
            ],
            "more": more,
            "next_after": rows[-1].object_id if more else None,
        }
