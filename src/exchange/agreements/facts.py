"""Facts about one submitted envelope, computed once before its objects are judged.

Clauses judge one object at a time but some questions need the whole envelope: who produced
it (every ``created_by_ref`` target, STIX 2.1 section 3.2), which objects are about victims,
which countries those victims are in, and which marking definitions the envelope carries (for
IEP 2.0 and for statement markings the partner made, STIX 2.1 section 7.2).

Victims, as the agreements mean them (the envelope alone decides; nothing is looked up):

- every ``incident`` (STIX 2.1 section 4.6), and every reference to an ``incident--`` id;
- identities (section 4.5) that are the ``target_ref`` of a ``targets`` relationship, or whose
  ``identity_class`` is ``individual`` — unless they are producers, their class is ``class``
  (a whole sector or group, not a victim), or the envelope names them as perpetrators (the
  ``target_ref`` of ``attributed-to``, or the ``source_ref`` of ``impersonates`` or
  ``targets``: a threat actor's persona is threat data). A targeted identity that is not in the
  envelope is a victim too: nothing says it is a producer or a class;
- locations a victim is ``located-at`` (they can hold the victim's address);
- relationships (section 5.1) whose ``source_ref`` or ``target_ref`` is a victim, and sightings
  (section 5.2) whose ``sighting_of_ref``, ``observed_data_refs`` or ``where_sighted_refs``
  name one.

A victim's countries come from ``located-at`` relationships to locations in the envelope that
give an ISO 3166-1 alpha-2 ``country`` (section 4.9); values that are not two letters are
ignored, so the country stays unknown rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from exchange.agreements.terms import Category
from exchange.stix.types import META_TYPES, SCO_TYPES, SDO_TYPES, SRO_TYPES

__all__ = ["ATTACK_TYPES", "SCO_TYPES", "EnvelopeFacts", "category_of", "gather_facts"]

# Evidence of attacks: sightings (5.2), observed data (4.14) and every SCO.
ATTACK_TYPES = SCO_TYPES | {"sighting", "observed-data"}
# The STIX 2.1 types that are not SCOs (sections 4, 5, 7); a custom type that is not one of
# these and has no `created` is a custom SCO (SCOs carry no `created`, section 6.1).
_NON_SCO_TYPES = SDO_TYPES | SRO_TYPES | META_TYPES
_COUNTRY = re.compile(r"[A-Za-z]{2}")
_SIGHTING_REFS = ("sighting_of_ref", "observed_data_refs", "where_sighted_refs")


def _frozen_countries() -> Mapping[str, frozenset[str]]:
    return MappingProxyType({})


def _frozen_markings() -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class EnvelopeFacts:
    """What the whole envelope says, for clauses that judge one object at a time."""

    producer_ids: frozenset[str] = frozenset()
    """Every ``created_by_ref`` target in the envelope."""
    victim_ids: frozenset[str] = frozenset()
    """Ids of victim objects (see the module docstring)."""
    victim_countries: Mapping[str, frozenset[str]] = field(default_factory=_frozen_countries)
    """Victim object id → upper-case ISO 3166-1 alpha-2 codes it is tied to."""
    marking_definitions: Mapping[str, Mapping[str, Any]] = field(default_factory=_frozen_markings)
    """The envelope's marking-definition objects by id."""

    def countries_of(self, stix_id: str) -> frozenset[str]:
        """The countries a victim object is tied to; empty when unknown."""
        return self.victim_countries.get(stix_id, frozenset())


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _refs(obj: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    found: list[str] = []
    for name in names:
        value = obj.get(name)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, str))
    return found


def _country(location: Mapping[str, Any]) -> str | None:
    value = location.get("country")
    if isinstance(value, str) and _COUNTRY.fullmatch(value.strip()):
        return value.strip().upper()
    return None


def gather_facts(objects: Sequence[Mapping[str, Any]]) -> EnvelopeFacts:
    """Compute the envelope facts once; members that are not JSON objects are ignored."""
    members = [obj for obj in objects if isinstance(obj, Mapping)]
    by_id: dict[str, Mapping[str, Any]] = {}
    for obj in members:
        stix_id = _str(obj.get("id"))
        if stix_id is not None:
            by_id[stix_id] = obj

    producers = {ref for obj in members if (ref := _str(obj.get("created_by_ref")))}
    class_identities = {
        stix_id
        for stix_id, obj in by_id.items()
        if obj.get("type") == "identity" and obj.get("identity_class") == "class"
    }
    relationships = [obj for obj in members if obj.get("type") == "relationship"]
    sightings = [obj for obj in members if obj.get("type") == "sighting"]

    # Identities the envelope itself presents as perpetrators (STIX 2.1 section 4.17:
    # threat-actor attributed-to identity; identity impersonates/targets ...).
    perpetrators = {
        ref
        for rel in relationships
        for kind, ref in (
            (rel.get("relationship_type"), _str(rel.get("target_ref"))),
            (f"from:{rel.get('relationship_type')}", _str(rel.get("source_ref"))),
        )
        if ref and kind in {"attributed-to", "from:impersonates", "from:targets"}
    }

    def may_be_victim_identity(ref: str) -> bool:
        return (
            ref.startswith("identity--")
            and ref not in producers
            and ref not in class_identities
            and ref not in perpetrators
        )

    # 1. Incidents and victim identities.
    core: set[str] = set()
    for stix_id, obj in by_id.items():
        if obj.get("type") == "incident" or (
            obj.get("type") == "identity"
            and obj.get("identity_class") == "individual"
            and may_be_victim_identity(stix_id)
        ):
            core.add(stix_id)
    for rel in relationships:
        target = _str(rel.get("target_ref"))
        if rel.get("relationship_type") == "targets" and target and may_be_victim_identity(target):
            core.add(target)

    def is_core(ref: str) -> bool:
        return ref in core or ref.startswith("incident--")

    # 2. Where victims are: located-at relationships to locations in the envelope.
    countries: dict[str, set[str]] = {}
    victim_locations: set[str] = set()
    for rel in relationships:
        source, target = _str(rel.get("source_ref")), _str(rel.get("target_ref"))
        if rel.get("relationship_type") != "located-at" or not source or not target:
            continue
        if is_core(source) and target.startswith("location--"):
            victim_locations.add(target)
            location = by_id.get(target)
            code = _country(location) if location is not None else None
            if code is not None:
                countries.setdefault(source, set()).add(code)
    for location_id in victim_locations:
        location = by_id.get(location_id)
        code = _country(location) if location is not None else None
        if code is not None:
            countries.setdefault(location_id, set()).add(code)
    # An incident is where the victims it is related to are (any relationship, either way).
    for rel in relationships:
        source, target = _str(rel.get("source_ref")), _str(rel.get("target_ref"))
        if not source or not target:
            continue
        for incident, other in ((source, target), (target, source)):
            if incident.startswith("incident--") and other in core:
                countries.setdefault(incident, set()).update(countries.get(other, ()))

    victims = core | victim_locations

    # 3. The relationships and sightings that name a victim.
    linked: set[str] = set()
    for rel in relationships:
        ends = _refs(rel, ("source_ref", "target_ref"))
        if any(ref in victims or is_core(ref) for ref in ends):
            stix_id = _str(rel.get("id"))
            if stix_id is not None:
                linked.add(stix_id)
                for ref in ends:
                    countries.setdefault(stix_id, set()).update(countries.get(ref, ()))
    for sighting in sightings:
        refs = _refs(sighting, _SIGHTING_REFS)
        if any(ref in victims or is_core(ref) for ref in refs):
            stix_id = _str(sighting.get("id"))
            if stix_id is not None:
                linked.add(stix_id)
                for ref in refs:
                    countries.setdefault(stix_id, set()).update(countries.get(ref, ()))

    markings = {
        stix_id: obj for stix_id, obj in by_id.items() if obj.get("type") == "marking-definition"
    }
    return EnvelopeFacts(
        producer_ids=frozenset(producers),
        victim_ids=frozenset(victims | linked),
        victim_countries=MappingProxyType(
            {key: frozenset(codes) for key, codes in countries.items() if codes}
        ),
        marking_definitions=MappingProxyType(markings),
    )


def category_of(obj: Mapping[str, Any], facts: EnvelopeFacts) -> Category:
    """The data category of one object: victim, attack or threat (see the module docstring)."""
    stix_id = obj.get("id")
    if isinstance(stix_id, str) and stix_id in facts.victim_ids:
        return Category.VICTIM
    stix_type = obj.get("type")
    if stix_type in ATTACK_TYPES:
        return Category.ATTACK
    if isinstance(stix_type, str) and stix_type not in _NON_SCO_TYPES and "created" not in obj:
        return Category.ATTACK  # a custom SCO
    return Category.THREAT
