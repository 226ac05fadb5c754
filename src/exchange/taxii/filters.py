"""Reading TAXII 2.1 query parameters (TAXII 2.1 section 3.4) into store queries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from exchange.errors import InvalidRequest
from exchange.stix.timestamps import parse_timestamp
from exchange.store.models import ObjectQuery, VersionSelector

__all__ = ["ReadParams", "parse_read_params", "parse_version_selector"]

_MATCH_FIELDS = {"id", "type", "version", "spec_version"}
_MAX_VALUES = 1000
_LIMIT = re.compile(r"[0-9]{1,9}")


@dataclass(frozen=True, slots=True)
class ReadParams:
    """What a GET on objects, manifest or versions asked for."""

    query: ObjectQuery
    limit: int | None
    next: str | None


def _values(pairs: Iterable[tuple[str, str]], name: str) -> list[str]:
    values = [v.strip() for key, raw in pairs if key == name for v in raw.split(",")]
    if len(values) > _MAX_VALUES:
        raise InvalidRequest(f"too many values for {name} (at most {_MAX_VALUES})")
    if any(not v for v in values):
        raise InvalidRequest(f"empty value in {name}")
    return values


def parse_version_selector(values: list[str], *, default: str) -> VersionSelector:
    """``match[version]``: ``last``, ``first``, ``all`` or timestamps, any combination."""
    if not values:
        values = [default]
    last = first = everything = False
    exact: set[int] = set()
    for value in values:
        if value == "last":
            last = True
        elif value == "first":
            first = True
        elif value == "all":
            everything = True
        else:
            micros = parse_timestamp(value)
            if micros is None:
                raise InvalidRequest(
                    f"match[version] takes last, first, all or STIX timestamps, not {value[:40]!r}"
                )
            exact.add(micros)
    return VersionSelector(last=last, first=first, all=everything, exact=frozenset(exact))


def parse_read_params(
    pairs: list[tuple[str, str]],
    *,
    allowed: frozenset[str],
    version_default: str = "last",
) -> ReadParams:
    """Check and read the parameters of a read endpoint; unknown ones are an error."""
    for key, _ in pairs:
        if key in {"added_after", "limit", "next"}:
            continue
        if key.startswith("match[") and key.endswith("]"):
            field = key[6:-1]
            if field not in _MATCH_FIELDS or field not in allowed:
                raise InvalidRequest(f"this endpoint does not filter on {key[:60]!r}")
            continue
        raise InvalidRequest(f"unknown query parameter {key[:60]!r}")

    added_after = None
    added = [value for key, value in pairs if key == "added_after"]
    if len(added) > 1:
        raise InvalidRequest("give added_after once")
    if added:
        added_after = parse_timestamp(added[0])
        if added_after is None:
            raise InvalidRequest("added_after must be a timestamp like 2024-01-31T12:00:00.000Z")

    limit = None
    limits = [value for key, value in pairs if key == "limit"]
    if len(limits) > 1:
        raise InvalidRequest("give limit once")
    if limits:
        if not _LIMIT.fullmatch(limits[0]) or int(limits[0]) < 1:
            raise InvalidRequest("limit must be a positive integer")
        limit = int(limits[0])

    nexts = [value for key, value in pairs if key == "next"]
    if len(nexts) > 1:
        raise InvalidRequest("give next once")

    query = ObjectQuery(
        ids=frozenset(_values(pairs, "match[id]")),
        types=frozenset(_values(pairs, "match[type]")),
        spec_versions=frozenset(_values(pairs, "match[spec_version]")),
        versions=parse_version_selector(_values(pairs, "match[version]"), default=version_default),
        added_after=added_after,
    )
    return ReadParams(query=query, limit=limit, next=nexts[0] if nexts else None)
