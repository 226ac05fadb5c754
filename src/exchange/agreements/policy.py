"""The policy engine: an agreement's clauses judge each submitted object (pure).

An agreement's terms become a fixed list of small clauses (``policy_for``). Each clause takes an
``Item`` — the object as it will be redistributed, the member countries that will receive it,
and its data category — and accepts it, transforms it (a new dict, never a change in place), or
refuses it with a reason. ``AllOf`` applies them in order and stops at the first refusal; it
fails closed: with no clauses it refuses, and a clause that returns anything but an ``Item`` or
a ``Refuse``, widens the audience or changes the object's identity makes it refuse.
``decide`` wraps one object's run into a ``Decision`` and turns any exception into a refusal.

Refusal codes: ``no_clauses``, ``policy_error``, ``unknown_clause`` (here), and from the
clauses ``agreement_not_in_force``, ``type_not_accepted``, ``category_not_accepted``,
``markings_invalid``, ``iep_expired``, ``tlp_too_high``, ``victim_data_refused``,
``victim_country_unknown``, ``attribution_leak``. Accepted objects are ``accepted``, or
``accepted_not_redistributed`` when no country is left to receive them.

Like sigstore-python's verification policies (``sigstore/verify/policy.py``), nothing here
reads a clock or does I/O: the time and the envelope's facts come in the ``Context``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from exchange.agreements.facts import EnvelopeFacts, category_of
from exchange.agreements.markings import TLP2_MARKING, tlp2_marking_definition
from exchange.agreements.terms import (
    TLP_ORDER,
    AgreementTerms,
    Attribution,
    Category,
    Tlp,
    VictimHandling,
)

__all__ = [
    "HUB_IDENTITY_NAME",
    "HUB_OBJECTS_CREATED",
    "AllOf",
    "Clause",
    "Context",
    "Decision",
    "Item",
    "Refuse",
    "decide",
    "hub_objects",
    "policy_for",
    "pseudonym_name",
]

# Fixed timestamps for the objects the hub makes, so the same object is byte-identical every
# time it is shipped and dedupes in the store (STIX 2.1 section 3.6: same id and `modified`
# is the same version).
HUB_OBJECTS_CREATED = "2024-01-01T00:00:00.000Z"
HUB_IDENTITY_NAME = "Information exchange hub"


@dataclass(frozen=True, slots=True)
class Context:
    """Everything a clause may know besides the object: who, under what, when, for whom."""

    partner_id: str
    """Account id of the submitting partner."""
    agreement: str
    """``AGREEMENT_ID@vVERSION``, named in every decision message."""
    terms: AgreementTerms
    now: datetime
    """Aware UTC; the engine never reads a clock."""
    audience: frozenset[str]
    """Member-country codes the agreement's recipients resolve to."""
    facts: EnvelopeFacts
    pseudonym_id: str
    """Identity id the hub uses for this partner when attribution is pseudonymous."""
    hub_identity_id: str
    """The hub's own identity id, used when attribution is anonymous."""


@dataclass(frozen=True, slots=True)
class Item:
    """One object on its way through the clauses."""

    obj: Mapping[str, Any]
    """The object as it will be redistributed; transforms make a new dict, never mutate."""
    audience: frozenset[str]
    """Countries that receive it; empty means it is kept in the partner's inbox only."""
    category: Category
    notes: tuple[str, ...] = ()
    """Why the audience was narrowed or emptied, for the decision message."""


@dataclass(frozen=True, slots=True)
class Refuse:
    """A clause's refusal: the object is not stored at all."""

    code: str
    """snake_case reason code, e.g. ``tlp_too_high``."""
    message: str
    """For people; names the agreement."""


class Clause(Protocol):
    """One small check: accept (the item back), transform (a new item) or refuse."""

    name: str

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Judge one item."""
        ...


def _policy_error(ctx: Context) -> Refuse:
    # Generic on purpose: what went wrong is for the hub's log, not for the partner.
    return Refuse(
        "policy_error",
        f"the policy of agreement {ctx.agreement} could not judge this object, so it was refused",
    )


class AllOf:
    """Every clause, in order; the first refusal wins; no clauses at all refuses."""

    name = "all-of"

    def __init__(self, clauses: Sequence[Clause]) -> None:
        """Compose ``clauses``, applied in the order given."""
        self.clauses: tuple[Clause, ...] = tuple(clauses)

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Run the clauses; refuse when there are none or one misbehaves (fail closed)."""
        if not self.clauses:
            return Refuse(
                "no_clauses",
                f"agreement {ctx.agreement} has no policy clauses, so nothing is accepted",
            )
        for clause in self.clauses:
            result = clause.apply(item, ctx)
            if isinstance(result, Refuse):
                return result
            if (
                not isinstance(result, Item)
                # Most clauses hand the audience on as it is: the subset test (one look-up per
                # member country, for every clause and object) only for one they narrowed.
                or (result.audience is not item.audience and not result.audience <= item.audience)
                or result.obj.get("id") != item.obj.get("id")
                or result.obj.get("type") != item.obj.get("type")
            ):
                return _policy_error(ctx)
            item = result
        return item


def policy_for(terms: AgreementTerms) -> AllOf:
    """The clauses for these terms, in a fixed order.

    1. the agreement is in force at ``ctx.now``; 2. accepted types; 3. accepted categories;
    4. recipients (the audience never leaves ``ctx.audience``); 5. IEP 2.0 end dates (when
    honoured); 6. TLP (refuse above the highest accepted, apply the default, keep what is never
    redistributed in the inbox); 7. victim data; 8. attribution. Refusals that need no
    transform come first; attribution comes last so it sees the final object.
    """
    from exchange.agreements import clauses as c

    victim: dict[VictimHandling, Clause] = {
        VictimHandling.REFUSE: c.RefuseVictimData(),
        VictimHandling.REDACT: c.RedactVictimData(),
        VictimHandling.VICTIM_COUNTRY: c.VictimCountryOnly(),
    }
    attribution: dict[Attribution, Clause] = {
        Attribution.NAMED: c.Named(),
        Attribution.PSEUDONYMOUS: c.Pseudonymous(),
        Attribution.ANONYMOUS: c.Anonymous(),
    }
    chosen: list[Clause] = [c.InForce(terms.valid_from, terms.valid_until)]
    if terms.accepted_types is not None:
        chosen.append(c.AcceptedTypes(terms.accepted_types))
    chosen += [c.AcceptedCategories(terms.categories), c.Recipients()]
    if terms.iep.honour:
        chosen.append(c.IepNotEnded())
    chosen.append(
        c.TlpMarking(
            default=terms.tlp.default,
            highest_accepted=terms.tlp.highest_accepted,
            never_redistribute=frozenset(terms.tlp.never_redistribute),
            honour_iep=terms.iep.honour,
        )
    )
    # A value with no clause (an enum grown without the engine) refuses: fail closed.
    chosen.append(victim.get(terms.victim_data, c.Unknown(f"victim_data={terms.victim_data}")))
    chosen.append(attribution.get(terms.attribution, c.Unknown(f"attribution={terms.attribution}")))
    return AllOf(chosen)


@dataclass(frozen=True, slots=True)
class Decision:
    """What happened to one submitted object, as recorded and reported to the partner."""

    stix_id: str
    accepted: bool
    """False: refused, not stored at all."""
    code: str
    """``accepted``, ``accepted_not_redistributed``, or the refusal code."""
    message: str
    redistributed: Item | None
    """What the countries get; None when refused or when the audience is empty."""


def decide(obj: Mapping[str, Any], ctx: Context, policy: AllOf) -> Decision:
    """Judge one object under ``policy``; any exception becomes a ``policy_error`` refusal."""
    raw_id = obj.get("id") if isinstance(obj, Mapping) else None
    stix_id = raw_id if isinstance(raw_id, str) else ""
    try:
        start = Item(obj=obj, audience=ctx.audience, category=category_of(obj, ctx.facts))
        result = policy.apply(start, ctx)
        if not isinstance(result, Item | Refuse):
            result = _policy_error(ctx)
    except Exception:
        # Fail closed, and say nothing about the failure to the partner (the service logs it).
        result = _policy_error(ctx)
    if isinstance(result, Refuse):
        return Decision(stix_id, False, result.code, result.message, None)
    if not result.audience:
        why = "; ".join(result.notes) or "the agreement names no receiving country"
        return Decision(
            stix_id,
            True,
            "accepted_not_redistributed",
            f"accepted under agreement {ctx.agreement} and kept in the partner's inbox only: {why}",
            None,
        )
    count = len(result.audience)
    countries = "member country" if count == 1 else "member countries"
    return Decision(
        stix_id,
        True,
        "accepted",
        f"accepted under agreement {ctx.agreement}; redistributed to {count} {countries}",
        result,
    )


def _identity(stix_id: str, name: str, description: str) -> dict[str, Any]:
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stix_id,
        "created": HUB_OBJECTS_CREATED,
        "modified": HUB_OBJECTS_CREATED,
        "name": name,
        "description": description,
        "identity_class": "organization",
        "object_marking_refs": [TLP2_MARKING[Tlp.CLEAR]],
    }


def pseudonym_name(pseudonym_id: str) -> str:
    """The display name of a pseudonym identity: derived from its id, so always the same."""
    return "Exchange partner " + pseudonym_id.rpartition("--")[2][:8]


def hub_objects(ctx: Context) -> list[dict[str, Any]]:
    """The objects the hub ships with what it redistributes under ``ctx``.

    The identity that ``created_by_ref`` now points at (the pseudonym when attribution is
    pseudonymous, the hub when anonymous; none when named), marked TLP:CLEAR, and the TLP 2.0
    marking definitions of every level that can be redistributed under the terms (the hub adds
    the default, partners may reference any of them without shipping it). Content is fixed for
    a given context, so repeated shipments dedupe.
    """
    shipped: list[dict[str, Any]] = []
    terms = ctx.terms
    if terms.attribution is Attribution.PSEUDONYMOUS:
        shipped.append(
            _identity(
                ctx.pseudonym_id,
                pseudonym_name(ctx.pseudonym_id),
                "A stable pseudonym the exchange hub gives one partner.",
            )
        )
    elif terms.attribution is Attribution.ANONYMOUS:
        shipped.append(
            _identity(
                ctx.hub_identity_id,
                HUB_IDENTITY_NAME,
                "Objects attributed to this identity come from a vetted partner who shares "
                "anonymously.",
            )
        )
    never = set(terms.tlp.never_redistribute) | {Tlp.RED}
    ceiling = TLP_ORDER[terms.tlp.highest_accepted]
    levels = [tlp for tlp in Tlp if TLP_ORDER[tlp] <= ceiling and tlp not in never]
    if shipped and Tlp.CLEAR not in levels:
        levels.insert(0, Tlp.CLEAR)
    shipped += [tlp2_marking_definition(tlp) for tlp in levels]
    return shipped
