"""The terms of a sharing agreement: a validated, versioned document (pure data).

An agreement binds one partner. Its terms say what the hub accepts from the partner and what
it does with it: which object types and data categories, how TLP 2.0 / IEP 2.0 markings are
handled, which member countries receive it, how the partner is attributed, how victim data is
treated, and the embargo, retention and quotas. Terms are written in TOML or JSON (declarative
files in ``config/agreements/``, the admin API, the command line) and checked here with clear
errors; a change never edits a version, it makes the next one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "TLP_ORDER",
    "AgreementTerms",
    "Attribution",
    "Category",
    "FeedbackAttribution",
    "IepClause",
    "PastObjects",
    "QuotaClause",
    "RecipientsClause",
    "Tlp",
    "TlpClause",
    "VictimHandling",
]


class Tlp(StrEnum):
    """TLP 2.0 levels (FIRST, Traffic Light Protocol 2.0); TLP 1.0 WHITE reads as CLEAR."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


TLP_ORDER: dict[Tlp, int] = {tlp: rank for rank, tlp in enumerate(Tlp)}


class Category(StrEnum):
    """What an object is about, for the agreement's accepted data categories."""

    THREAT = "threat"  # actors, malware, tools, indicators, TTPs, reports about them
    ATTACK = "attack"  # evidence of attacks: sightings, observed data, observables
    VICTIM = "victim"  # victims: incidents, victim identities, what links to them


class Attribution(StrEnum):
    """How recipients see who contributed an object."""

    NAMED = "named"  # the partner's own identity stays
    PSEUDONYMOUS = "pseudonymous"  # a stable identity the hub makes for the partner
    ANONYMOUS = "anonymous"  # the hub's identity; partner-identifying properties removed


class FeedbackAttribution(StrEnum):
    """Whether the sightings police analysts send back to the partner name their country."""

    NAMED = "named"  # the analyst's member country is named (where_sighted_refs, created_by_ref)
    WITHHELD = "withheld"  # the hub's identity; no member country anywhere in the feedback


class VictimHandling(StrEnum):
    """What happens to victim data (identities of victims, incidents)."""

    REDACT = "redact"  # names and contact details removed, sector and country kept
    VICTIM_COUNTRY = "victim-country"  # only the victim's own country receives it
    REFUSE = "refuse"  # not accepted


class PastObjects(StrEnum):
    """Whether objects already redistributed stay visible when sharing narrows or ends."""

    KEEP = "keep"
    WITHDRAW = "withdraw"


class _Clause(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TlpClause(_Clause):
    """TLP 2.0 handling."""

    default: Tlp | None = Field(
        default=Tlp.AMBER,
        description="Marking applied to objects that carry no TLP marking (none: leave them).",
    )
    highest_accepted: Tlp = Field(
        default=Tlp.AMBER_STRICT, description="Objects marked above this are refused."
    )
    never_redistribute: tuple[Tlp, ...] = Field(
        default=(Tlp.RED,),
        description="Accepted into the partner's inbox, never redistributed to countries.",
    )

    @model_validator(mode="after")
    def _default_is_accepted(self) -> TlpClause:
        if self.default is not None and TLP_ORDER[self.default] > TLP_ORDER[self.highest_accepted]:
            raise ValueError("the default TLP is higher than the highest accepted")
        return self


class IepClause(_Clause):
    """IEP 2.0 handling, where objects carry an IEP marking."""

    honour: bool = Field(
        default=True,
        description="Apply an IEP marking's TLP and refuse objects whose IEP has ended.",
    )


class RecipientsClause(_Clause):
    """Which member countries receive accepted objects: all, lists and regions, less exclusions."""

    all_members: bool = False
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    @field_validator("countries", "exclude")
    @classmethod
    def _codes(cls, codes: tuple[str, ...]) -> tuple[str, ...]:
        for code in codes:
            if len(code) != 2 or not code.isascii() or not code.isupper():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code (e.g. FR)")
        return codes


class QuotaClause(_Clause):
    """Volume limits for the partner."""

    objects_per_day: int | None = Field(default=None, ge=1)
    max_envelope_bytes: int | None = Field(default=None, ge=1024)


class AgreementTerms(_Clause):
    """Everything an agreement version says."""

    valid_from: datetime
    valid_until: datetime | None = None
    legal_basis: str = Field(min_length=3, max_length=2000)
    purpose: str = Field(min_length=3, max_length=2000)
    accepted_types: tuple[str, ...] | None = Field(
        default=None, description="STIX types accepted; absent means every type."
    )
    categories: tuple[Category, ...] = (Category.THREAT, Category.ATTACK)
    tlp: TlpClause = TlpClause()
    iep: IepClause = IepClause()
    recipients: RecipientsClause
    attribution: Attribution = Attribution.NAMED
    victim_data: VictimHandling = VictimHandling.REFUSE
    embargo_hours: float = Field(default=0, ge=0, le=24 * 365)
    retention_days: int | None = Field(default=None, ge=1)
    quotas: QuotaClause = QuotaClause()
    past_objects: PastObjects = Field(
        default=PastObjects.KEEP,
        description="On suspension, end or narrowing: keep or withdraw what was redistributed.",
    )
    feedback_attribution: FeedbackAttribution = Field(
        default=FeedbackAttribution.WITHHELD,
        description=(
            "Sightings analysts report about the partner's objects name the analyst's member "
            "country (named) or only the hub (withheld, the default)."
        ),
    )
    signatures_required: bool = Field(
        default=True,
        description=(
            "Every envelope must carry an HTTP message signature (RFC 9421) by one of the "
            "partner's registered keys; the signed bytes are kept as evidence."
        ),
    )

    @field_validator("valid_from", "valid_until")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-01-01T00:00:00Z")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AgreementTerms:
        if self.valid_until is not None and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        if not self.categories:
            raise ValueError("accept at least one data category")
        if self.accepted_types is not None and not self.accepted_types:
            raise ValueError("accepted_types, when given, lists at least one type")
        return self
