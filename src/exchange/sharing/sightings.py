"""Sightings analysts report, and the sightings partners receive as feedback (pure).

An analyst reports either a STIX 2.1 sighting (``{"sighting": {...}}``) or the short form
``{"object_id", "verdict": "seen" | "false_positive", "count"?, "first_seen"?, "last_seen"?,
"note"?}``, which becomes one. A false positive is a sighting labelled ``false-positive``
(``labels`` is a common property of every SRO, STIX 2.1 section 3.2, with an open vocabulary),
so ordinary STIX tools show it without a custom property.

The hub never forwards the analyst's object as sent. For each partner that delivered the
sighted object it re-issues the sighting (STIX 2.1 section 5.2) with an id of its own, keeping
only what describes the sighting: ``count``, ``first_seen``, ``last_seen``, ``summary``,
``description``, ``confidence``, ``labels``, ``lang``, ``created`` and ``modified``.
``created_by_ref``, ``where_sighted_refs``, ``observed_data_refs`` (objects the partner does not
have), external references, markings, custom properties and extensions are left out. Then
the partner's agreement decides attribution: ``named`` puts the member country's identity in
``created_by_ref`` and ``where_sighted_refs`` (and ships that identity); ``withheld`` names the
hub as creator and says nothing of where it was seen.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from exchange.agreements.policy import HUB_OBJECTS_CREATED
from exchange.agreements.terms import FeedbackAttribution
from exchange.countries import Country
from exchange.errors import InvalidRequest
from exchange.stix.objects import ObjectVersion, Refusal, check_object
from exchange.stix.timestamps import format_version, parse_timestamp
from exchange.stix.validation import validate_object

__all__ = [
    "FALSE_POSITIVE_LABEL",
    "ReportedSighting",
    "Verdict",
    "checked",
    "country_identity",
    "country_identity_id",
    "feedback_objects",
    "feedback_sighting_id",
    "parse_report",
]

FALSE_POSITIVE_LABEL = "false-positive"
MAX_NOTE = 4000

_NAMESPACE = uuid.UUID("a4c1f0de-5e3b-4f8a-b0a7-6d2e9c41f7b5")
# What of an analyst's sighting is passed on: what describes the sighting itself.
_KEPT = (
    "created",
    "modified",
    "count",
    "first_seen",
    "last_seen",
    "summary",
    "description",
    "confidence",
    "labels",
    "lang",
)


class Verdict(StrEnum):
    """What an analyst says of a sighted object."""

    SEEN = "seen"
    FALSE_POSITIVE = "false_positive"


@dataclass(frozen=True, slots=True)
class ReportedSighting:
    """An analyst's report, checked, ready to be re-issued to each partner concerned."""

    base_id: str  # the analyst's sighting id (full form) or a new one (short form)
    object_id: str  # sighting_of_ref
    verdict: Verdict
    properties: Mapping[str, Any]  # the kept properties, created and modified included
    version: int  # µs of `modified`
    count: int  # `count`, 1 when the sighting gives none
    sighted_at: int  # µs: last_seen, else first_seen, else created


class _ShortForm(BaseModel):
    """``{"object_id", "verdict", "count"?, "first_seen"?, "last_seen"?, "note"?}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object_id: str = Field(min_length=1, max_length=300)
    verdict: Verdict
    count: StrictInt = Field(default=1, ge=0, le=999_999_999)
    first_seen: str | None = Field(default=None, max_length=64)
    last_seen: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, min_length=1, max_length=MAX_NOTE)

    @field_validator("first_seen", "last_seen")
    @classmethod
    def _timestamp(cls, value: str | None) -> str | None:
        if value is not None and parse_timestamp(value) is None:
            raise ValueError("not a STIX timestamp (e.g. 2026-01-01T00:00:00Z)")
        return value


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        where = ".".join(str(part) for part in item.get("loc", ())) or "body"
        problems.append(f"{where}: {item.get('msg', 'invalid')}")
    return "; ".join(problems)


def checked(obj: Mapping[str, Any]) -> ObjectVersion | Refusal:
    """Structure first, then the STIX 2.1 rules (as every submitted object is checked)."""
    found = check_object(obj)
    if isinstance(found, Refusal):
        return found
    invalid = validate_object(obj)
    if invalid is not None:
        return Refusal(found.stix_id, found.version_text, f"{invalid.code}: {invalid.message}")
    return found


def _sighted_at(properties: Mapping[str, Any]) -> int:
    for name in ("last_seen", "first_seen", "created"):
        moment = parse_timestamp(properties.get(name))
        if moment is not None:
            return moment
    raise InvalidRequest("the sighting has no valid 'created'")  # checked before: unreachable


def _from_stix(sighting: Any) -> ReportedSighting:
    if not isinstance(sighting, dict) or sighting.get("type") != "sighting":
        raise InvalidRequest("'sighting' must be a STIX 2.1 sighting object (type 'sighting')")
    found = checked(sighting)
    if isinstance(found, Refusal):
        raise InvalidRequest(f"the sighting is not valid STIX 2.1: {found.reason}")
    properties = {name: sighting[name] for name in _KEPT if name in sighting}
    labels = properties.get("labels", ())
    verdict = Verdict.FALSE_POSITIVE if FALSE_POSITIVE_LABEL in labels else Verdict.SEEN
    return ReportedSighting(
        base_id=found.stix_id,
        object_id=str(sighting["sighting_of_ref"]),
        verdict=verdict,
        properties=properties,
        version=found.version,
        count=int(properties.get("count", 1)),
        sighted_at=_sighted_at(properties),
    )


def _from_short_form(document: Mapping[str, Any], now_us: int) -> ReportedSighting:
    try:
        form = _ShortForm.model_validate(document)
    except ValidationError as exc:
        raise InvalidRequest(f"invalid sighting: {_describe(exc)}") from None
    now = format_version(now_us - now_us % 1000)  # milliseconds, as STIX producers write
    properties: dict[str, Any] = {"created": now, "modified": now, "count": form.count}
    if form.first_seen is not None:
        properties["first_seen"] = form.first_seen
    if form.last_seen is not None:
        properties["last_seen"] = form.last_seen
    if form.note is not None:
        properties["description"] = form.note
    if form.verdict is Verdict.FALSE_POSITIVE:
        properties["labels"] = [FALSE_POSITIVE_LABEL]
    base_id = f"sighting--{uuid.uuid4()}"
    # The short form must make a valid sighting (first_seen after last_seen would not).
    found = checked(
        {
            "type": "sighting",
            "spec_version": "2.1",
            "id": base_id,
            "sighting_of_ref": form.object_id,
            **properties,
        }
    )
    if isinstance(found, Refusal):
        raise InvalidRequest(f"the sighting would not be valid STIX 2.1: {found.reason}")
    return ReportedSighting(
        base_id=base_id,
        object_id=form.object_id,
        verdict=form.verdict,
        properties=properties,
        version=found.version,
        count=form.count,
        sighted_at=_sighted_at(properties),
    )


def parse_report(document: Any, now_us: int) -> ReportedSighting:
    """An analyst's report from the request's JSON document, or ``InvalidRequest`` saying why
    it is not one. ``now_us`` stamps a short-form report's ``created``."""
    if not isinstance(document, dict):
        raise InvalidRequest(
            'send a JSON object: {"sighting": {...}} or {"object_id": ..., "verdict": ...}'
        )
    if "sighting" in document:
        if len(document) != 1:
            raise InvalidRequest('a STIX sighting comes alone: {"sighting": {...}}')
        return _from_stix(document["sighting"])
    return _from_short_form(document, now_us)


def country_identity_id(code: str) -> str:
    """The id of the identity that stands for a member country's police in feedback."""
    return f"identity--{uuid.uuid5(_NAMESPACE, f'country:{code}')}"


def country_identity(country: Country) -> dict[str, Any]:
    """The identity of a member country's police, as named feedback refers to it: the same
    object (id and content) wherever it is shipped."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": country_identity_id(country.code),
        "created": HUB_OBJECTS_CREATED,
        "modified": HUB_OBJECTS_CREATED,
        "name": country.name,
        "description": f"The police of {country.name}, a member country of the exchange.",
        "identity_class": "organization",
        "sectors": ["government"],
    }


def feedback_sighting_id(base_id: str, analyst_account: str, partner_account: str) -> str:
    """The id of the sighting a partner receives: its own for each partner (so copies cannot be
    linked across partners), stable for one report (so sending it again adds nothing)."""
    name = f"{base_id}/{analyst_account}/{partner_account}"
    return f"sighting--{uuid.uuid5(_NAMESPACE, name)}"


def feedback_objects(
    report: ReportedSighting,
    *,
    sighting_id: str,
    attribution: FeedbackAttribution,
    country: Country,
    hub_identity_id: str,
) -> list[dict[str, Any]]:
    """What a partner's feedback collection receives for one report, the sighting last: under
    ``named`` the country's identity and the sighting that names it; under ``withheld`` only
    the sighting, created by the hub, with no member country anywhere."""
    sighting: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": sighting_id,
        **report.properties,
        "sighting_of_ref": report.object_id,
    }
    if attribution is FeedbackAttribution.NAMED:
        identity = country_identity(country)
        sighting["created_by_ref"] = identity["id"]
        sighting["where_sighted_refs"] = [identity["id"]]
        return [identity, sighting]
    sighting["created_by_ref"] = hub_identity_id
    return [sighting]
