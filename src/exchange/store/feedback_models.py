"""Records of the feedback part of the store: sightings routed to partners, and their counts."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FeedbackSighting", "FeedbackSummary"]


@dataclass(frozen=True, slots=True)
class FeedbackSighting:
    """One sighting the hub placed in a partner's feedback collection, as counts need it.

    ``sighting_id`` is the id of the sighting in that collection, ``version`` its ``modified``
    (µs): a newer version of the same sighting replaces the older one in the counts.
    """

    partner_account: str
    sighting_id: str
    object_id: str  # the sighting's sighting_of_ref: one of the partner's objects
    version: int
    false_positive: bool
    count: int  # the sighting's `count` (how many times it was seen)
    sighted_at: int  # µs: last_seen, else first_seen, else created
    reported_at: int  # µs: when the hub routed it


@dataclass(frozen=True, slots=True)
class FeedbackSummary:
    """What analysts reported about one object of a partner."""

    object_id: str
    sightings: int  # sightings reported as seen
    times_seen: int  # their `count`s added up
    false_positives: int  # sightings reported as false positives
    last_sighted: int | None  # µs: the latest sighted_at of a "seen" sighting
    last_reported: int  # µs: when the latest sighting of either kind was routed
