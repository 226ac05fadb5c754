"""Which objects an export may carry, and which indicators may feed automated tools.

Two decisions, each a :class:`Verdict` with the reason of a refusal:

- :func:`selected` applies the analyst's request to any object: a revoked object is never
  exported (its producer withdrew it, STIX 2.1 section 3.6.1); ``min_confidence`` leaves out
  objects below it and objects that state no confidence; ``max_tlp`` leaves out objects marked
  above it and objects whose TLP is unknown (no TLP marking and no IEP policy stating one).
  Both filters fail closed. Marking definitions are markings, not intelligence, and are kept.
- :func:`automated` decides whether an indicator may go to automated blocking (blocklists) or
  detection (IDS rules, MISP attributes flagged ``to_ids``): it must be valid now (``valid_from``
  reached, ``valid_until`` not), not TLP:RED (FIRST TLP 2.0: for the named recipients only, so
  never for a device that acts on it), its markings well formed and all known, and every IEP 2.0
  policy on it in force and permitting the action (FIRST IEP 2.0 permitted actions: blocking
  traffic is visible to the threat actor, an *externally visible indirect action*; an IDS alert
  stays inside, an *internally visible action*). Without an IEP marking the action is allowed.

An object's markings are its ``object_marking_refs`` and the ``marking_ref`` of its granular
markings (STIX 2.1 sections 7.2.2, 7.2.3): a granular TLP counts for the whole object, since an
export cannot carry half an indicator. :class:`Markings` reads them against the marking
definitions of the collection and the standard TLP 1.0 / 2.0 definitions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from exchange.agreements.clauses import marking_refs
from exchange.agreements.markings import (
    IEP_EXTENSION_ID,
    highest_tlp,
    iep_of,
    tlp_of_definition,
    tlp_of_ref,
)
from exchange.agreements.terms import TLP_ORDER, Tlp
from exchange.stix.timestamps import parse_timestamp

__all__ = [
    "Filters",
    "IepPolicy",
    "MarkingFacts",
    "Markings",
    "Use",
    "Verdict",
    "automated",
    "eligible",
    "selected",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Use(StrEnum):
    """What an automated tool does with an indicator's values."""

    BLOCKING = "blocking"  # blocklists: traffic to the value is stopped, visibly to its owner
    DETECTION = "detection"  # IDS rules, MISP to_ids: alerts inside the recipient's network


# FIRST IEP 2.0 permitted actions (iep-permitted-actions-enum of the STIX extension), weakest
# first; each allows everything below it.
_ACTIONS = (
    "none",
    "contact-for-instruction",
    "internally-visible-actions",
    "externally-visible-indirect-actions",
    "externally-visible-direct-actions",
)
_ACTION_RANK = {action: rank for rank, action in enumerate(_ACTIONS)}
_NEEDED: dict[Use, str] = {
    Use.BLOCKING: "externally-visible-indirect-actions",
    Use.DETECTION: "internally-visible-actions",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """What the analyst asked for beyond TAXII's filters."""

    min_confidence: int | None = None
    max_tlp: Tlp | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether an object goes into the export, and why not."""

    allowed: bool
    reason: str = ""


_YES = Verdict(True)


def _no(reason: str) -> Verdict:
    return Verdict(False, reason)


@dataclass(frozen=True, slots=True)
class IepPolicy:
    """An IEP 2.0 policy as far as automated use goes."""

    marking_id: str
    permitted_actions: str | None
    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class MarkingFacts:
    """What an object's markings say: its TLP, its IEP policies, and what cannot be read."""

    tlp: Tlp | None
    policies: tuple[IepPolicy, ...] = ()
    unknown: tuple[str, ...] = ()
    malformed: bool = False


class Markings:
    """The marking definitions a collection holds, to read objects' markings against."""

    def __init__(self, definitions: Iterable[Mapping[str, Any]] = ()) -> None:
        """Take marking-definition objects (others are ignored)."""
        self._by_id: dict[str, Mapping[str, Any]] = {}
        for definition in definitions:
            self.add(definition)

    def add(self, definition: Mapping[str, Any]) -> None:
        """Know one more marking definition."""
        stix_id = definition.get("id")
        if definition.get("type") == "marking-definition" and isinstance(stix_id, str):
            self._by_id[stix_id] = definition

    def read(self, obj: Mapping[str, Any]) -> MarkingFacts:
        """The facts of ``obj``'s markings."""
        refs = marking_refs(obj)
        if refs is None:
            return MarkingFacts(tlp=None, malformed=True)
        levels: list[Tlp] = []
        policies: list[IepPolicy] = []
        unknown: list[str] = []
        for ref in dict.fromkeys(refs):
            standard = tlp_of_ref(ref)
            if standard is not None:
                levels.append(standard)
                continue
            definition = self._by_id.get(ref)
            if definition is None:
                unknown.append(ref)
                continue
            level = tlp_of_definition(definition)
            iep = iep_of(definition)
            if iep is not None:
                level = level or iep.tlp
                policies.append(
                    IepPolicy(ref, _permitted_actions(definition), iep.start_date, iep.end_date)
                )
            if level is not None:
                levels.append(level)
        return MarkingFacts(highest_tlp(levels), tuple(policies), tuple(unknown))

    def tlp(self, obj: Mapping[str, Any]) -> Tlp | None:
        """The object's TLP (the highest its markings state), or None when they state none."""
        return self.read(obj).tlp


def _permitted_actions(definition: Mapping[str, Any]) -> str | None:
    extensions = definition.get("extensions")
    body = extensions.get(IEP_EXTENSION_ID) if isinstance(extensions, Mapping) else None
    value = body.get("permitted_actions") if isinstance(body, Mapping) else None
    return value.strip().lower() if isinstance(value, str) else None


def _label(tlp: Tlp) -> str:
    return f"TLP:{tlp.value.upper()}"


def _moment(text: object) -> datetime | None:
    micros = parse_timestamp(text)
    if micros is None:
        return None
    return _EPOCH + timedelta(microseconds=micros)


def selected(obj: Mapping[str, Any], facts: MarkingFacts, filters: Filters) -> Verdict:
    """Whether the analyst's request (and revocation) lets ``obj`` into any export."""
    if obj.get("revoked") is True:
        return _no("revoked")
    if obj.get("type") == "marking-definition":
        return _YES
    if filters.min_confidence is not None:
        confidence = obj.get("confidence")
        if not isinstance(confidence, int) or isinstance(confidence, bool):
            return _no("states no confidence")
        if confidence < filters.min_confidence:
            return _no(f"confidence {confidence} is below {filters.min_confidence}")
    if filters.max_tlp is not None:
        if facts.malformed:
            return _no("its markings are malformed")
        if facts.tlp is None:
            return _no("its TLP is unknown")
        if TLP_ORDER[facts.tlp] > TLP_ORDER[filters.max_tlp]:
            return _no(f"{_label(facts.tlp)} is above {_label(filters.max_tlp)}")
    return _YES


def automated(obj: Mapping[str, Any], facts: MarkingFacts, use: Use, now: datetime) -> Verdict:
    """Whether an indicator may feed automated ``use`` at ``now``."""
    if obj.get("revoked") is True:
        return _no("revoked")
    if "valid_until" in obj:
        until = _moment(obj["valid_until"])
        if until is None:
            return _no("valid_until is not a timestamp")
        if until <= now:
            return _no(f"expired at {obj['valid_until']}")
    if "valid_from" in obj:
        start = _moment(obj["valid_from"])
        if start is None:
            return _no("valid_from is not a timestamp")
        if start > now:
            return _no(f"not valid before {obj['valid_from']}")
    if facts.malformed:
        return _no("its markings are malformed")
    if facts.tlp is Tlp.RED:
        return _no("TLP:RED is for its named recipients only, never for automated use")
    if facts.unknown:
        return _no(f"marking {facts.unknown[0]} is not in the collection: its terms are unknown")
    needed = _NEEDED[use]
    for policy in facts.policies:
        if policy.end is not None and policy.end <= now:
            return _no(f"the IEP policy {policy.marking_id} has ended")
        if policy.start is not None and policy.start > now:
            return _no(f"the IEP policy {policy.marking_id} is not in force yet")
        permitted = policy.permitted_actions
        if permitted not in _ACTION_RANK:
            return _no(f"the IEP policy {policy.marking_id} states no known permitted actions")
        if _ACTION_RANK[permitted] < _ACTION_RANK[needed]:
            return _no(
                f"the IEP policy {policy.marking_id} permits {permitted}; "
                f"{use.value} needs {needed}"
            )
    return _YES


def eligible(
    obj: Mapping[str, Any],
    markings: Markings,
    filters: Filters,
    use: Use | None,
    now: datetime,
) -> Verdict:
    """:func:`selected`, then (for an automated ``use``) :func:`automated`."""
    facts = markings.read(obj)
    verdict = selected(obj, facts, filters)
    if verdict.allowed and use is not None:
        verdict = automated(obj, facts, use, now)
    return verdict
