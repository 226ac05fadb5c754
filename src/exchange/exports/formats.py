"""The export formats: writers that take STIX objects and yield the export's bytes in chunks.

The objects given to a writer are already chosen (``exchange.exports.eligibility``); a writer
only renders them:

- ``bundle``: a STIX 2.1 bundle (STIX 2.1 section 8): ``{"type": "bundle", "id":
  "bundle--<uuid4>", "objects": [...]}``, one object at a time;
- ``csv``: one row per indicator (RFC 4180, UTF-8): ``id, name, pattern, pattern_type,
  valid_from, valid_until, confidence, labels, revoked, tlp``; labels are joined by ``;``; a
  text cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
  tab or carriage return) is prefixed with ``'`` (OWASP, CSV injection);
- ``ipv4``, ``ipv6``, ``domains``, ``urls``, ``hashes``: one value a line, without repeats,
  sorted (addresses in address order), from the indicators' simple patterns
  (``exchange.exports.observables``); ``hashes`` holds SHA-256, SHA-1 and MD5 values;
- ``suricata``: one rule per network value: addresses as ``alert ip``, domains on ``dns.query``
  (the name and its subdomains), ``http://`` URLs (and URLs without a scheme) on ``http.host``
  and ``http.uri`` (``http.uri.raw`` when the URL holds percent-escapes). ``https://`` and other
  URLs get no rule: the path is not visible on the wire. The ``msg`` names the indicator; the
  ``sid`` is derived from the value (stable from one export to the next) in
  2,000,000,000-2,999,999,999, unique in the file;
- ``misp``: one MISP event (MISP core format, JSON) whose attributes are the values (``ip-dst``,
  ``domain``, ``url``, ``sha256``, ``sha1``, ``md5``), ``to_ids`` true, the indicator ids as
  comment, a ``tlp:`` tag each (and the highest on the event); a value appears once per event
  (MISP refuses duplicates), with a UUID derived from it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import orjson

from exchange.agreements.markings import highest_tlp
from exchange.agreements.terms import Tlp
from exchange.exports.eligibility import Use
from exchange.exports.observables import HASH_KINDS, Kind, Observable, observables

__all__ = [
    "SID_BASE",
    "SID_SPAN",
    "ExportContext",
    "ExportFormat",
    "contributes",
    "indicator_observables",
    "suricata_rules",
    "write",
    "write_blocklist",
    "write_bundle",
    "write_csv",
    "write_misp",
    "write_suricata",
]

CSV_HEADER = (
    "id",
    "name",
    "pattern",
    "pattern_type",
    "valid_from",
    "valid_until",
    "confidence",
    "labels",
    "revoked",
    "tlp",
)
SID_BASE = 2_000_000_000
SID_SPAN = 1_000_000_000
# Stable attribute UUIDs, so a MISP instance that imports two exports sees the same attribute.
_MISP_NAMESPACE = uuid.UUID("6f0d6c38-5a0b-4d0e-9f6e-2a2f4f8b9c11")
_BATCH = 500


class ExportFormat(StrEnum):
    """The formats an analyst may export a collection in."""

    BUNDLE = "bundle"
    CSV = "csv"
    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DOMAINS = "domains"
    URLS = "urls"
    HASHES = "hashes"
    SURICATA = "suricata"
    MISP = "misp"

    @property
    def use(self) -> Use | None:
        """The automated use the format feeds, whose rules its indicators must meet."""
        if self in _BLOCKLISTS:
            return Use.BLOCKING
        if self in (ExportFormat.SURICATA, ExportFormat.MISP):
            return Use.DETECTION
        return None

    @property
    def indicators_only(self) -> bool:
        """Whether only indicators can contribute (all formats but the bundle)."""
        return self is not ExportFormat.BUNDLE


_BLOCKLISTS: dict[ExportFormat, frozenset[Kind]] = {
    ExportFormat.IPV4: frozenset({Kind.IPV4}),
    ExportFormat.IPV6: frozenset({Kind.IPV6}),
    ExportFormat.DOMAINS: frozenset({Kind.DOMAIN}),
    ExportFormat.URLS: frozenset({Kind.URL}),
    ExportFormat.HASHES: HASH_KINDS,
}


def _no_tlp(_: Mapping[str, Any]) -> Tlp | None:
    return None


@dataclass(frozen=True, slots=True)
class ExportContext:
    """What writers need besides the objects: a title, the time, and objects' TLP."""

    title: str
    now: datetime
    tlp_of: Callable[[Mapping[str, Any]], Tlp | None] = _no_tlp


def indicator_observables(obj: Mapping[str, Any]) -> tuple[Observable, ...]:
    """The observables of an indicator with a simple STIX pattern (nothing for other objects
    and other pattern languages)."""
    if obj.get("type") != "indicator" or obj.get("pattern_type") != "stix":
        return ()
    return observables(obj.get("pattern"))


def contributes(fmt: ExportFormat, obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` (already chosen) puts anything into an export of ``fmt``."""
    if fmt is ExportFormat.BUNDLE:
        return True
    if fmt is ExportFormat.CSV:
        return obj.get("type") == "indicator"
    if fmt is ExportFormat.SURICATA:
        return bool(suricata_rules(obj))
    found = indicator_observables(obj)
    kinds = _BLOCKLISTS.get(fmt)
    if kinds is None:  # MISP: any value
        return bool(found)
    return any(observable.kind in kinds for observable in found)


def _batched(parts: Iterable[bytes]) -> Iterator[bytes]:
    batch: list[bytes] = []
    for part in parts:
        batch.append(part)
        if len(batch) >= _BATCH:
            yield b"".join(batch)
            batch = []
    if batch:
        yield b"".join(batch)


# Bundle ---------------------------------------------------------------------------------------
def write_bundle(objects: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """A STIX 2.1 bundle of ``objects`` (STIX 2.1 section 8)."""
    yield b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":['

    def members() -> Iterator[bytes]:
        separator = b""
        for obj in objects:
            yield separator + orjson.dumps(obj)
            separator = b","

    yield from _batched(members())
    yield b"]}"


# CSV ------------------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(_cell(item) for item in value)
    text = value if isinstance(value, str) else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def write_csv(objects: Iterable[Mapping[str, Any]], context: ExportContext) -> Iterator[bytes]:
    """One CSV row per indicator (RFC 4180 quoting, CRLF line ends, UTF-8), after a header."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def rows() -> Iterator[bytes]:
        writer.writerow(CSV_HEADER)
        for obj in objects:
            if obj.get("type") != "indicator":
                continue
            tlp = context.tlp_of(obj)
            writer.writerow(
                [
                    _cell(obj.get("id")),
                    _cell(obj.get("name")),
                    _cell(obj.get("pattern")),
                    _cell(obj.get("pattern_type")),
                    _cell(obj.get("valid_from")),
                    _cell(obj.get("valid_until")),
                    _cell(obj.get("confidence")),
                    _cell(obj.get("labels")),
                    _cell(obj.get("revoked", False)),
                    "" if tlp is None else tlp.value,
                ]
            )
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()

    # The header goes out with the first row (or alone, when there is none).
    first = True
    for chunk in _batched(rows()):
        first = False
        yield chunk
    if first:
        yield buffer.getvalue().encode("utf-8")


# Blocklists -----------------------------------------------------------------------------------
def _order(observable: Observable) -> tuple[Any, ...]:
    if observable.kind in (Kind.IPV4, Kind.IPV6):
        network = ipaddress.ip_network(observable.value)
        return (network.version, int(network.network_address), network.prefixlen, "")
    if observable.kind in HASH_KINDS:  # by algorithm, then value
        return (0, len(observable.value), 0, observable.value)
    return (0, 0, 0, observable.value)


def write_blocklist(
    objects: Iterable[Mapping[str, Any]], kinds: frozenset[Kind]
) -> Iterator[bytes]:
    """The values of ``kinds`` the indicators name, one a line, without repeats, sorted."""
    values = {
        observable
        for obj in objects
        for observable in indicator_observables(obj)
        if observable.kind in kinds
    }
    yield from _batched(
        observable.value.encode("utf-8") + b"\n" for observable in sorted(values, key=_order)
    )


# Suricata -------------------------------------------------------------------------------------
_MSG_UNSAFE = re.compile(r"[^A-Za-z0-9 ._:+-]")
_CONTENT_SAFE = frozenset(range(0x21, 0x7F)) - {ord(c) for c in '";\\|'}
_HOST = re.compile(r"[a-z0-9_.-]+")


def _content(text: str) -> str:
    """A Suricata ``content`` string: ``"``, ``;``, ``\\``, ``|``, space and non-ASCII bytes
    as ``|XX|`` hex."""
    return "".join(
        chr(byte) if byte in _CONTENT_SAFE else f"|{byte:02X}|" for byte in text.encode("utf-8")
    )


def _http_parts(url: str) -> tuple[str, str] | None:
    """The host and the request target of an ``http://`` URL (or one without a scheme)."""
    target = url if "://" in url else "http://" + url
    try:
        parts = urlsplit(target)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() != "http" or not host or not _HOST.fullmatch(host):
        return None
    path = parts.path or "/"
    return host, path + (f"?{parts.query}" if parts.query else "")


def _rule_parts(observable: Observable) -> tuple[str, str] | None:
    """The header and the detection options of a rule for one value (no msg, sid, rev)."""
    value = observable.value
    if observable.kind in (Kind.IPV4, Kind.IPV6):
        return f"alert ip any any <> [{value}] any", ""
    if observable.kind is Kind.DOMAIN:
        content = _content("." + value)
        return "alert dns any any -> any any", (
            f'dns.query; dotprefix; content:"{content}"; nocase; endswith; '
        )
    if observable.kind is Kind.URL:
        parts = _http_parts(value)
        if parts is None:
            return None
        host, target = parts
        options = (
            "flow:established,to_server; "
            f'http.host; content:"{_content(host)}"; bsize:{len(host.encode())}; '
        )
        if target != "/":
            buffer = "http.uri.raw" if "%" in target else "http.uri"
            options += f'{buffer}; content:"{_content(target)}"; bsize:{len(target.encode())}; '
        return "alert http any any -> any any", options
    return None


def suricata_rules(obj: Mapping[str, Any]) -> list[tuple[Observable, tuple[str, str]]]:
    """The values of an indicator that make Suricata rules, with each rule's header and
    detection options."""
    rules: list[tuple[Observable, tuple[str, str]]] = []
    for observable in indicator_observables(obj):
        parts = _rule_parts(observable)
        if parts is not None:
            rules.append((observable, parts))
    return rules


def _sid(observable: Observable, used: set[int]) -> int:
    digest = hashlib.sha256(f"{observable.kind}:{observable.value}".encode()).digest()
    offset = int.from_bytes(digest[:8], "big") % SID_SPAN
    while SID_BASE + offset in used:
        offset = (offset + 1) % SID_SPAN
    used.add(SID_BASE + offset)
    return SID_BASE + offset


def write_suricata(objects: Iterable[Mapping[str, Any]]) -> Iterator[bytes]:
    """One Suricata rule per network value, naming the (first) indicator that gives it."""
    found: dict[Observable, tuple[tuple[str, str], str]] = {}
    for obj in objects:
        stix_id = str(obj.get("id", ""))
        for observable, parts in suricata_rules(obj):
            known = found.get(observable)
            if known is None or stix_id < known[1]:
                found[observable] = (parts, stix_id)
    used: set[int] = set()

    def rules() -> Iterator[bytes]:
        for observable in sorted(found, key=lambda o: (o.kind, _order(o))):
            (header, options), stix_id = found[observable]
            msg = _MSG_UNSAFE.sub("", f"exchange {observable.kind} {stix_id}")
            sid = _sid(observable, used)
            yield f'{header} (msg:"{msg}"; {options}sid:{sid}; rev:1;)\n'.encode()

    yield from _batched(rules())


# MISP -----------------------------------------------------------------------------------------
_MISP_TYPE: dict[Kind, tuple[str, str]] = {
    Kind.IPV4: ("ip-dst", "Network activity"),
    Kind.IPV6: ("ip-dst", "Network activity"),
    Kind.DOMAIN: ("domain", "Network activity"),
    Kind.URL: ("url", "Network activity"),
    Kind.SHA256: ("sha256", "Payload delivery"),
    Kind.SHA1: ("sha1", "Payload delivery"),
    Kind.MD5: ("md5", "Payload delivery"),
}


def _tags(levels: Iterable[Tlp]) -> list[dict[str, str]]:
    level = highest_tlp(list(levels))
    return [] if level is None else [{"name": f"tlp:{level.value}"}]


def write_misp(objects: Iterable[Mapping[str, Any]], context: ExportContext) -> Iterator[bytes]:
    """One MISP event whose attributes are the indicators' values (MISP core format)."""
    ids: dict[tuple[str, str], set[str]] = {}
    levels: dict[tuple[str, str], set[Tlp]] = {}
    for obj in objects:
        tlp = context.tlp_of(obj)
        for observable in indicator_observables(obj):
            key = (_MISP_TYPE[observable.kind][0], observable.value)
            ids.setdefault(key, set()).add(str(obj.get("id", "")))
            if tlp is not None:
                levels.setdefault(key, set()).add(tlp)
    timestamp = str(int(context.now.timestamp()))
    event = {
        "uuid": str(uuid.uuid4()),
        "info": context.title,
        "date": context.now.date().isoformat(),
        "timestamp": timestamp,
        "threat_level_id": "4",  # undefined: the hub does not judge the threat
        "analysis": "2",  # completed: the indicators are as their producers published them
        "distribution": "0",  # this organisation only: sharing further is the analyst's call
        "published": False,
        "Tag": _tags(level for found in levels.values() for level in found),
    }
    head = orjson.dumps({"Event": event})
    yield head[:-2] + b',"Attribute":['

    def attributes() -> Iterator[bytes]:
        separator = b""
        for kind_name, value in sorted(ids):
            category = next(c for t, c in _MISP_TYPE.values() if t == kind_name)
            attribute = {
                "uuid": str(uuid.uuid5(_MISP_NAMESPACE, f"{kind_name}:{value}")),
                "type": kind_name,
                "category": category,
                "value": value,
                "to_ids": True,
                "distribution": "5",  # as the event
                "comment": " ".join(sorted(ids[(kind_name, value)])),
                "timestamp": timestamp,
                "Tag": _tags(levels.get((kind_name, value), ())),
            }
            yield separator + orjson.dumps(attribute)
            separator = b","

    yield from _batched(attributes())
    yield b"]}}"


# Dispatch -------------------------------------------------------------------------------------
def write(
    fmt: ExportFormat, objects: Iterable[Mapping[str, Any]], context: ExportContext
) -> Iterator[bytes]:
    """The export of ``objects`` in ``fmt``, in chunks."""
    if fmt is ExportFormat.BUNDLE:
        return write_bundle(objects)
    if fmt is ExportFormat.CSV:
        return write_csv(objects, context)
    if fmt is ExportFormat.SURICATA:
        return write_suricata(objects)
    if fmt is ExportFormat.MISP:
        return write_misp(objects, context)
    return write_blocklist(objects, _BLOCKLISTS[fmt])
