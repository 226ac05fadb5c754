"""Reading medallion's memory-backend data file (medallion 3.0, ``MemoryBackend``).

The file is one JSON object: ``"/discovery"``, then one key per API root, each with
``information`` (title, description...), ``status`` (TAXII status resources) and ``collections``.
A collection carries its TAXII attributes, its ``objects`` and a ``manifest`` with one entry per
object version (``id``, ``version``, ``date_added``, ``media_type``). This module turns that into
frozen records: every object version checked with :func:`exchange.stix.objects.check_object` and
paired with the ``date_added`` medallion gave it, so history survives the move.

Problems with single objects, manifest entries or status resources are reported, not fatal; a
file that is not JSON or not shaped like a medallion data file raises
:class:`InvalidMedallionData` with a message fit for the command line.

It also defines the records of an import's outcome (:class:`ImportReport`), which the service
layer fills in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from exchange.errors import InvalidRequest
from exchange.stix.objects import SINGLE_VERSION, ObjectVersion, check_object
from exchange.stix.timestamps import format_version, parse_timestamp
from exchange.store.models import Grant

__all__ = [
    "CollectionImport",
    "DatedObject",
    "ImportReport",
    "InvalidMedallionData",
    "MedallionApiRoot",
    "MedallionCollection",
    "MedallionData",
    "MedallionStatus",
    "Problem",
    "ProgressCallback",
    "StatusImport",
    "parse_medallion",
]

DISCOVERY_KEY = "/discovery"

# Called with the number of object versions just handled, for progress bars.
ProgressCallback = Callable[[int], None]


class InvalidMedallionData(InvalidRequest):
    """A file that is not JSON, or not shaped like a medallion memory-backend data file."""

    title = "Invalid medallion data file"


# Parsed records ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the file that was not imported, and why."""

    stix_id: str | None
    version: str | None
    reason: str

    @classmethod
    def of_version(cls, stix_id: str, version: int, reason: str) -> Problem:
        """A problem with an object version given as the store keeps it (µs)."""
        shown = None if version == SINGLE_VERSION else format_version(version)
        return cls(stix_id, shown, reason)


@dataclass(frozen=True, slots=True)
class DatedObject:
    """A checked object version and the ``date_added`` (µs) medallion recorded for it."""

    obj: ObjectVersion
    date_added: int


@dataclass(frozen=True, slots=True)
class MedallionCollection:
    """One medallion collection: its TAXII attributes and its importable history.

    ``refused`` are object versions that cannot be imported (not valid for this hub, or with no
    manifest entry to date them); ``warnings`` are manifest entries that cannot be used.
    """

    id: str
    title: str
    description: str
    can_read: bool
    can_write: bool
    media_types: tuple[str, ...]
    objects: tuple[DatedObject, ...]
    refused: tuple[Problem, ...]
    warnings: tuple[Problem, ...]

    def batches(self) -> list[tuple[int, list[ObjectVersion]]]:
        """The objects grouped by ``date_added``, earliest first; file order within a group."""
        groups: dict[int, list[ObjectVersion]] = {}
        for item in sorted(self.objects, key=lambda dated: dated.date_added):
            groups.setdefault(item.date_added, []).append(item.obj)
        return list(groups.items())


@dataclass(frozen=True, slots=True)
class MedallionStatus:
    """A TAXII status resource: its id and its original JSON, re-serialised."""

    id: str
    body: bytes


@dataclass(frozen=True, slots=True)
class MedallionApiRoot:
    """One API root of the file (``name`` is its key, e.g. ``trustgroup1``)."""

    name: str
    title: str
    description: str
    collections: tuple[MedallionCollection, ...]
    statuses: tuple[MedallionStatus, ...]
    problems: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class MedallionData:
    """A whole medallion data file."""

    api_roots: tuple[MedallionApiRoot, ...]

    def collections(self) -> Iterator[tuple[MedallionApiRoot, MedallionCollection]]:
        """Every collection with the API root it belongs to, in file order."""
        for root in self.api_roots:
            for collection in root.collections:
                yield root, collection

    @property
    def object_count(self) -> int:
        """How many object versions can be imported."""
        return sum(len(collection.objects) for _, collection in self.collections())

    @property
    def status_count(self) -> int:
        """How many status resources can be imported."""
        return sum(len(root.statuses) for root in self.api_roots)


# Import outcome ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CollectionImport:
    """What became of one medallion collection in the hub."""

    api_root: str
    original_id: str
    id: str
    title: str
    created: bool
    imported: int
    already_present: int
    refused: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    grant: Grant | None


@dataclass(frozen=True, slots=True)
class StatusImport:
    """What became of the status resources."""

    imported: int
    already_present: int
    skipped: tuple[Problem, ...]


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The outcome of one import: per collection, and for the status resources."""

    account: str
    collections: tuple[CollectionImport, ...]
    statuses: StatusImport


# Parsing -----------------------------------------------------------------------------------
def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _not_medallion(where: str, what: str) -> InvalidMedallionData:
    return InvalidMedallionData(
        f"{where}: {what} (expected a medallion memory-backend data file: "
        "'/discovery' and one object per API root with 'information', 'status' and "
        "'collections')"
    )


@dataclass(frozen=True, slots=True)
class _Entry:
    position: int
    stix_id: str
    version: int
    date_added: int


def _manifest(entries: list[Any]) -> tuple[list[_Entry], list[Problem]]:
    """The usable manifest entries, and a problem for each unusable one."""
    usable: list[_Entry] = []
    problems: list[Problem] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            problems.append(Problem(None, None, f"manifest[{position}] is not a JSON object"))
            continue
        stix_id = entry.get("id")
        version_text = entry.get("version")
        shown_version = version_text if isinstance(version_text, str) else None
        if not isinstance(stix_id, str):
            problems.append(Problem(None, shown_version, f"manifest[{position}] has no 'id'"))
            continue
        date_added = parse_timestamp(entry.get("date_added"))
        if date_added is None:
            reason = (
                f"manifest entry with an invalid 'date_added': {_short(entry.get('date_added'))}"
            )
            problems.append(Problem(stix_id, shown_version, reason))
            continue
        version = parse_timestamp(version_text)
        if version is None:
            reason = f"manifest entry with an invalid 'version': {_short(version_text)}"
            problems.append(Problem(stix_id, shown_version, reason))
            continue
        usable.append(_Entry(position, stix_id, version, date_added))
    return usable, problems


def _matching(item: Any, entries: list[_Entry]) -> list[_Entry]:
    """The manifest entries of one object version: same id and version (TAXII 2.1 3.4.2).

    The version is ``modified``, else ``created``; an object with neither (an SCO) got the time
    medallion stored it as its version, so its entries are those whose version is their
    ``date_added``.
    """
    if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
        return []
    stix_id = item["id"]
    raw = item.get("modified")
    if raw is None:
        raw = item.get("created")
    if raw is None:
        return [e for e in entries if e.stix_id == stix_id and e.version == e.date_added]
    version = parse_timestamp(raw)
    return [e for e in entries if e.stix_id == stix_id and e.version == version]


def _shown(item: Any) -> tuple[str | None, str | None]:
    if not isinstance(item, Mapping):
        return None, None
    stix_id = item.get("id")
    raw = item.get("modified")
    if raw is None:
        raw = item.get("created")
    return (
        stix_id if isinstance(stix_id, str) else None,
        raw if isinstance(raw, str) else None,
    )


def _text(where: str, value: Mapping[str, Any], key: str, default: str) -> str:
    found = value.get(key, default)
    if found is None:
        return default
    if not isinstance(found, str):
        raise _not_medallion(where, f"{key!r} is not a string")
    return found


def _flag(where: str, value: Mapping[str, Any], key: str) -> bool:
    found = value.get(key, False)
    if not isinstance(found, bool):
        raise _not_medallion(where, f"{key!r} is not true or false")
    return found


def _list(where: str, value: Mapping[str, Any], key: str) -> list[Any]:
    found = value.get(key)
    if found is None:
        return []
    if not isinstance(found, list):
        raise _not_medallion(where, f"{key!r} is not a list")
    return found


def _collection(where: str, value: Any) -> MedallionCollection:
    if not isinstance(value, Mapping):
        raise _not_medallion(where, "a collection is not a JSON object")
    collection_id = value.get("id")
    if not isinstance(collection_id, str) or not collection_id.strip():
        raise _not_medallion(where, "a collection has no 'id'")
    where = f"{where} (collection {collection_id!r})"
    media_types = _list(where, value, "media_types")
    entries, warnings = _manifest(_list(where, value, "manifest"))
    used: set[int] = set()
    objects: list[DatedObject] = []
    refused: list[Problem] = []
    for item in _list(where, value, "objects"):
        matches = _matching(item, entries)
        used.update(entry.position for entry in matches)
        checked = check_object(item)
        if not isinstance(checked, ObjectVersion):
            refused.append(Problem(checked.stix_id, checked.version, checked.reason))
        elif not matches:
            stix_id, version = _shown(item)
            reason = "no manifest entry with this id and version, so no date_added: not imported"
            refused.append(Problem(stix_id, version, reason))
        else:
            # Entries repeat only if medallion stored the same version twice: keep the first.
            objects.append(DatedObject(checked, min(entry.date_added for entry in matches)))
    for entry in entries:
        if entry.position not in used:
            reason = "manifest entry without a matching object: nothing to import"
            warnings.append(Problem(entry.stix_id, format_version(entry.version), reason))
    return MedallionCollection(
        id=collection_id,
        title=_text(where, value, "title", collection_id),
        description=_text(where, value, "description", ""),
        can_read=_flag(where, value, "can_read"),
        can_write=_flag(where, value, "can_write"),
        media_types=tuple(str(media_type) for media_type in media_types),
        objects=tuple(objects),
        refused=tuple(refused),
        warnings=tuple(warnings),
    )


def _statuses(where: str, value: list[Any]) -> tuple[list[MedallionStatus], list[Problem]]:
    statuses: list[MedallionStatus] = []
    problems: list[Problem] = []
    for position, status in enumerate(value):
        status_id = status.get("id") if isinstance(status, Mapping) else None
        if not isinstance(status_id, str) or not status_id.strip() or "/" in status_id:
            reason = f"{where}: status[{position}] has no usable 'id': not imported"
            problems.append(Problem(None, None, reason))
            continue
        statuses.append(MedallionStatus(status_id, orjson.dumps(status)))
    return statuses, problems


def _api_root(name: str, value: Any) -> MedallionApiRoot:
    where = f"API root {name!r}"
    if not isinstance(value, Mapping):
        raise _not_medallion(where, "not a JSON object")
    if not isinstance(value.get("collections"), list):
        raise _not_medallion(where, "no 'collections' list")
    information = value.get("information") or {}
    if not isinstance(information, Mapping):
        raise _not_medallion(where, "'information' is not a JSON object")
    collections = [
        _collection(f"{where}, collections[{position}]", collection)
        for position, collection in enumerate(value["collections"])
    ]
    statuses, problems = _statuses(where, _list(where, value, "status"))
    title = _text(where, information, "title", "") or name
    return MedallionApiRoot(
        name=name,
        title=title,
        description=_text(where, information, "description", ""),
        collections=tuple(collections),
        statuses=tuple(statuses),
        problems=tuple(problems),
    )


def parse_medallion(raw: bytes) -> MedallionData:
    """Parse a medallion memory-backend data file; raise ``InvalidMedallionData`` if it is not one.

    Object versions that fail :func:`check_object` or have no manifest entry, unusable manifest
    entries and status resources without an id are reported on their collection or API root.
    """
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidMedallionData(f"the file is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise _not_medallion("the file", "its top level is not a JSON object")
    roots = [_api_root(name, value) for name, value in document.items() if name != DISCOVERY_KEY]
    if not roots and DISCOVERY_KEY not in document:
        raise _not_medallion("the file", "it has neither '/discovery' nor any API root")
    return MedallionData(api_roots=tuple(roots))
