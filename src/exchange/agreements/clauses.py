"""The clauses an agreement is made of: one small class per rule, each with one job.

Each clause accepts an item (returns it), transforms it (returns a new ``Item`` holding a new
dict, never changing the one it got), or refuses it (``Refuse`` with a snake_case code and a
message naming the agreement). Clauses only ever narrow an item's audience. ``policy_for`` in
``exchange.agreements.policy`` chooses and orders them from an agreement's terms.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from exchange.agreements.markings import (
    TLP2_MARKING,
    canonical_tlp_definition,
    highest_tlp,
    iep_of,
    tlp_of_definition,
    tlp_of_ref,
)
from exchange.agreements.policy import Context, Item, Refuse
from exchange.agreements.terms import TLP_ORDER, Category, Tlp
from exchange.agreements.transforms import anonymise, leaked_ids, redact_victim, replace_refs

__all__ = [
    "AcceptedCategories",
    "AcceptedTypes",
    "Anonymous",
    "IepNotEnded",
    "InForce",
    "Named",
    "Pseudonymous",
    "Recipients",
    "RedactVictimData",
    "RefuseVictimData",
    "TlpMarking",
    "Unknown",
    "VictimCountryOnly",
    "marking_refs",
]


def _refuse(ctx: Context, code: str, why: str) -> Refuse:
    return Refuse(code, f"{why} (agreement {ctx.agreement})")


def _inbox_only(item: Item, note: str, obj: Mapping[str, Any] | None = None) -> Item:
    return dataclasses.replace(
        item,
        obj=item.obj if obj is None else obj,
        audience=frozenset(),
        notes=(*item.notes, note),
    )


def _tlp_label(tlp: Tlp) -> str:
    return f"TLP:{tlp.value.upper()}"


def marking_refs(obj: Mapping[str, Any]) -> list[str] | None:
    """Every marking-definition id the object references (STIX 2.1 sections 7.2.2, 7.2.3).

    ``object_marking_refs`` and the ``marking_ref`` of each granular marking (language-only
    granular markings carry none). None when either property is malformed.
    """
    refs: list[str] = []
    object_refs = obj.get("object_marking_refs", [])
    if not isinstance(object_refs, list) or not all(isinstance(r, str) for r in object_refs):
        return None
    refs += object_refs
    granular = obj.get("granular_markings", [])
    if not isinstance(granular, list):
        return None
    for marking in granular:
        if not isinstance(marking, Mapping):
            return None
        ref = marking.get("marking_ref")
        if ref is None and "lang" in marking:
            continue
        if not isinstance(ref, str):
            return None
        refs.append(ref)
    return refs


# --- Whether to take the object at all ------------------------------------------------------
class InForce:
    """The agreement's validity window holds ``ctx.now`` (from inclusive, until exclusive)."""

    name = "in-force"

    def __init__(self, valid_from: datetime, valid_until: datetime | None) -> None:
        """Take the window from the terms."""
        self.valid_from = valid_from
        self.valid_until = valid_until

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``agreement_not_in_force`` outside the window."""
        if ctx.now < self.valid_from or (
            self.valid_until is not None and ctx.now >= self.valid_until
        ):
            return _refuse(ctx, "agreement_not_in_force", "the agreement is not in force now")
        return item


class AcceptedTypes:
    """Only the STIX types the agreement lists."""

    name = "accepted-types"

    def __init__(self, types: Iterable[str]) -> None:
        """Take the accepted types (an empty list accepts nothing)."""
        self.types = frozenset(types)

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``type_not_accepted`` for any other type."""
        stix_type = item.obj.get("type")
        if stix_type not in self.types:
            return _refuse(
                ctx, "type_not_accepted", f"objects of type {stix_type!r} are not accepted"
            )
        return item


class AcceptedCategories:
    """Only the data categories (threat, attack, victim) the agreement lists."""

    name = "accepted-categories"

    def __init__(self, categories: Iterable[Category]) -> None:
        """Take the accepted categories (none accepts nothing)."""
        self.categories = frozenset(categories)

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``category_not_accepted`` for any other category."""
        if item.category not in self.categories:
            return _refuse(
                ctx,
                "category_not_accepted",
                f"{item.category.value} data is not among the categories the agreement accepts",
            )
        return item


class Recipients:
    """The audience never leaves the countries the agreement's recipients resolve to."""

    name = "recipients"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Narrow the audience to ``ctx.audience``."""
        if item.audience is ctx.audience:  # as decide() starts every object: nothing to narrow
            return item
        audience = item.audience & ctx.audience
        if audience == item.audience:
            return item
        return dataclasses.replace(item, audience=audience)


class IepNotEnded:
    """IEP 2.0: an object marked with a policy whose ``end_date`` has passed is refused."""

    name = "iep-not-ended"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``iep_expired`` when an IEP marking in the envelope has ended by ``ctx.now``."""
        refs = marking_refs(item.obj)
        if refs is None:
            return _refuse(ctx, "markings_invalid", "the object's markings are malformed")
        for ref in refs:
            definition = ctx.facts.marking_definitions.get(ref)
            iep = iep_of(definition) if definition is not None else None
            # IEP 2.0: end_date "states the UTC date that an IEP is effective until".
            if iep is not None and iep.end_date is not None and iep.end_date <= ctx.now:
                return _refuse(
                    ctx,
                    "iep_expired",
                    f"the IEP policy {ref} ended at {iep.end_date.isoformat()}",
                )
        return item


# --- TLP --------------------------------------------------------------------------------------
class TlpMarking:
    """TLP (FIRST TLP 2.0; STIX 2.1 section 7.2.1.4): refuse, default, or keep in the inbox.

    The effective TLP is the highest of the object's TLP 1.0 / 2.0 object and granular
    markings and, when IEP is honoured, the ``tlp`` of IEP markings it references that are in
    the envelope. Without any, it is the agreement's default (when the default is none, an
    unmarked object passes unchanged). Above the highest accepted the
    object is refused (``tlp_too_high``). Unless an object marking of that level is already
    there, the TLP 2.0 marking for the effective level is added to ``object_marking_refs``, so
    recipients always see the level the hub applied. Levels that are never redistributed, and
    TLP:RED whatever the terms say (TLP 2.0: "not for disclosure, restricted to participants
    only"), empty the audience. Marking definitions are not marked; standard TLP ones are
    replaced by their canonical form.
    """

    name = "tlp"

    def __init__(
        self,
        *,
        default: Tlp | None,
        highest_accepted: Tlp,
        never_redistribute: frozenset[Tlp],
        honour_iep: bool,
    ) -> None:
        """Take the agreement's TLP and IEP settings."""
        self.default = default
        self.highest_accepted = highest_accepted
        self.never_redistribute = never_redistribute | {Tlp.RED}
        self.honour_iep = honour_iep

    def effective(self, obj: Mapping[str, Any], ctx: Context) -> Tlp | None:
        """The highest TLP the object's markings state, or None when they state none."""
        refs = marking_refs(obj)
        if refs is None:
            raise ValueError("malformed markings")
        levels: list[Tlp] = []
        for ref in refs:
            level = tlp_of_ref(ref)
            definition = ctx.facts.marking_definitions.get(ref)
            if level is None and definition is not None:
                level = tlp_of_definition(definition)
                iep = iep_of(definition) if self.honour_iep else None
                if level is None and iep is not None:
                    level = iep.tlp
            if level is not None:
                levels.append(level)
        return highest_tlp(levels)

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Apply the agreement's TLP handling to one item."""
        obj = item.obj
        if marking_refs(obj) is None:
            return _refuse(ctx, "markings_invalid", "the object's markings are malformed")
        level = self.effective(obj, ctx) or self.default
        if level is None:
            # The terms say to leave unmarked objects unmarked (`default = none`).
            return item
        if TLP_ORDER[level] > TLP_ORDER[self.highest_accepted]:
            return _refuse(
                ctx,
                "tlp_too_high",
                f"{_tlp_label(level)} is above the highest accepted, "
                f"{_tlp_label(self.highest_accepted)}",
            )
        if obj.get("type") == "marking-definition":
            canonical = canonical_tlp_definition(str(obj.get("id")))
            if canonical is not None and canonical != obj:
                obj = canonical
        else:
            present = obj.get("object_marking_refs", [])
            if not any(tlp_of_ref(ref) == level for ref in present):
                obj = {**obj, "object_marking_refs": [*present, TLP2_MARKING[level]]}
        if level in self.never_redistribute and item.audience:
            return _inbox_only(item, f"{_tlp_label(level)} is never redistributed", obj)
        return item if obj is item.obj else dataclasses.replace(item, obj=obj)


# --- Victim data --------------------------------------------------------------------------------
class RefuseVictimData:
    """Victim data is not accepted."""

    name = "victim-data-refuse"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``victim_data_refused`` for victim-category objects."""
        if item.category is Category.VICTIM:
            return _refuse(ctx, "victim_data_refused", "the agreement does not accept victim data")
        return item


class RedactVictimData:
    """Victim data is redistributed without names and contact details (see ``REDACTION_KEEPS``
    in ``exchange.agreements.transforms`` for exactly what is kept)."""

    name = "victim-data-redact"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Redact victim-category objects; keep in the inbox those that cannot be redacted."""
        if item.category is not Category.VICTIM:
            return item
        redacted = redact_victim(item.obj)
        if redacted is None:
            return _inbox_only(item, "this victim object cannot be redacted safely")
        return dataclasses.replace(item, obj=redacted)


class VictimCountryOnly:
    """Victim data goes only to the victim's own country, when the agreement reaches it."""

    name = "victim-data-victim-country"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Narrow to the victim's countries; refuse ``victim_country_unknown`` without any."""
        if item.category is not Category.VICTIM:
            return item
        countries = ctx.facts.countries_of(str(item.obj.get("id")))
        if not countries:
            return _refuse(
                ctx,
                "victim_country_unknown",
                "the victim's country is not stated in the envelope "
                "(a located-at relationship to a location with a country)",
            )
        audience = item.audience & countries
        if item.audience and not audience:
            where = ", ".join(sorted(countries))
            return _inbox_only(item, f"the victim's country ({where}) is not a recipient")
        return dataclasses.replace(item, audience=audience)


# --- Attribution ----------------------------------------------------------------------------------
class Named:
    """The partner's own identity stays on what it shares."""

    name = "attribution-named"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Accept unchanged."""
        return item


def _rewrite(obj: Mapping[str, Any], producers: frozenset[str], replacement: str) -> Any:
    body = {key: value for key, value in obj.items() if key != "id"}
    rewritten = replace_refs(body, producers, replacement)
    return obj if rewritten == body else {"id": obj.get("id"), **rewritten}


class Pseudonymous:
    """Recipients see a stable pseudonym (``ctx.pseudonym_id``) instead of the partner."""

    name = "attribution-pseudonymous"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Keep producer identities in the inbox; point every producer ref at the pseudonym."""
        producers = ctx.facts.producer_ids
        if item.obj.get("id") in producers:
            return _inbox_only(item, "the partner's own identity is not redistributed")
        obj = _rewrite(item.obj, producers, ctx.pseudonym_id)
        return item if obj is item.obj else dataclasses.replace(item, obj=obj)


class Anonymous:
    """Recipients see the hub (``ctx.hub_identity_id``) and nothing that identifies the partner.

    Producer identities stay in the inbox; other objects are anonymised
    (``exchange.agreements.transforms.anonymise``); those that cannot be (custom types,
    extension definitions, statement markings) stay in the inbox. An object that would still
    carry a producer id after that (in free text, say) is refused: ``attribution_leak``.
    """

    name = "attribution-anonymous"

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Anonymise one item."""
        if item.obj.get("id") in ctx.facts.producer_ids:
            return _inbox_only(item, "the partner's own identity is not redistributed")
        anonymous = anonymise(item.obj, ctx.facts, ctx.hub_identity_id)
        if anonymous is None:
            return _inbox_only(item, "this object cannot be redistributed anonymously")
        if item.audience and leaked_ids(anonymous, ctx.facts):
            return _refuse(
                ctx,
                "attribution_leak",
                "the object names the partner's identity in a way anonymisation cannot remove",
            )
        return dataclasses.replace(item, obj=anonymous)


class Unknown:
    """A clause the engine does not know: it refuses everything (fail closed)."""

    name = "unknown"

    def __init__(self, what: str) -> None:
        """Name what was not understood, for the message."""
        self.what = what

    def apply(self, item: Item, ctx: Context) -> Item | Refuse:
        """Refuse ``unknown_clause``."""
        return _refuse(ctx, "unknown_clause", f"the hub does not know the clause {self.what}")
