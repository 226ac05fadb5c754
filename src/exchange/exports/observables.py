"""Observables from simple STIX patterns (STIX 2.1 section 9), for blocklists and IDS rules.

A pattern is *simple* when every comparison in it is ``=`` (or ``==``) between one of the paths
below and a string constant, and comparisons and observation expressions are joined only by
``OR``; parentheses are allowed. Any other pattern (``AND``, ``FOLLOWEDBY``, ``NOT``, other
operators, ``LIKE`` / ``MATCHES``, qualifiers, or one comparison on another path) means more, or
less, than "this value is bad", so it yields nothing. Each value of a simple pattern matches the
indicator on its own, which is what makes it safe to block.

=========================================  ========
path                                        kind
=========================================  ========
``ipv4-addr:value``                         ipv4
``ipv6-addr:value``                         ipv6
``domain-name:value``                       domain
``url:value``                               url
``file:hashes.'SHA-256'`` (or ``SHA256``)   sha256
``file:hashes.'SHA-1'`` (or ``SHA1``)       sha1
``file:hashes.MD5`` (or ``'MD5'``)          md5
=========================================  ========

Hash keys are read as STIX allows them in an object path: quoted or bare, in any case, with or
without the hyphen. Values are checked and written in one canonical form: addresses as Python's
``ipaddress`` writes them (an address, or a network in CIDR form), domain names in lower case
without a trailing dot (internationalised names in their ``xn--`` form), hashes in lower-case
hex, URLs as sent. A value that is not valid for its kind, or that would block far more than one
host (loopback, multicast, link-local, reserved or unspecified addresses; networks wider than
/12 for IPv4 or /32 for IPv6; a bare top-level domain), is left out; the pattern's other values
still count.

The project's parser (``exchange.stix.patterns.parse_pattern``) decides that the pattern is
valid and gives its comparisons; it does not say how they are joined, so the keywords between
them are read here with a small scanner that skips string constants and comments.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from enum import StrEnum

from exchange.stix.patterns import Comparison, parse_pattern

__all__ = ["HASH_KINDS", "NETWORK_KINDS", "Kind", "Observable", "observables"]


class Kind(StrEnum):
    """What an observable value is."""

    IPV4 = "ipv4"
    IPV6 = "ipv6"
    DOMAIN = "domain"
    URL = "url"
    SHA256 = "sha256"
    SHA1 = "sha1"
    MD5 = "md5"


HASH_KINDS = frozenset({Kind.SHA256, Kind.SHA1, Kind.MD5})
NETWORK_KINDS = frozenset({Kind.IPV4, Kind.IPV6, Kind.DOMAIN, Kind.URL})


@dataclass(frozen=True, slots=True, order=True)
class Observable:
    """One value an indicator names, in its canonical form."""

    kind: Kind
    value: str


_PATHS: dict[tuple[str, str], Kind] = {
    ("ipv4-addr", "value"): Kind.IPV4,
    ("ipv6-addr", "value"): Kind.IPV6,
    ("domain-name", "value"): Kind.DOMAIN,
    ("url", "value"): Kind.URL,
}
# Keys of ``file:hashes`` upper-cased without hyphens (STIX 2.1 section 10.4, hash-algorithm-ov).
_HASH_KEYS: dict[str, Kind] = {"SHA256": Kind.SHA256, "SHA1": Kind.SHA1, "MD5": Kind.MD5}
_HASH_LENGTH: dict[Kind, int] = {Kind.SHA256: 64, Kind.SHA1: 40, Kind.MD5: 32}
_HEX = re.compile(r"[0-9a-fA-F]+")

# The pattern keywords (STIX 2.1 section 9.4) that make a pattern more than a list of values.
_NOT_SIMPLE = frozenset(
    {
        "AND",
        "FOLLOWEDBY",
        "NOT",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "IN",
        "START",
        "STOP",
        "WITHIN",
        "REPEATS",
        "TIMES",
        "SECONDS",
        "LAST",
    }
)
# String constants and comments first, so keywords inside them are not read; then words as the
# pattern lexer reads identifiers (a hyphen makes a word an identifier, never a keyword).
_SCAN = re.compile(
    r"'(?:[^'\\]|\\['\\])*'|/\*.*?\*/|//[^\r\n]*|[a-zA-Z_][a-zA-Z0-9_-]*|.", re.DOTALL
)

_MIN_PREFIX = {4: 12, 6: 32}  # a million IPv4 addresses; a large ISP's IPv6 allocation
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _joined_by_or_only(text: str) -> bool:
    return not any(token.group() in _NOT_SIMPLE for token in _SCAN.finditer(text))


def _kind_of(comparison: Comparison) -> Kind | None:
    path = comparison.path
    if len(path) == 1 and isinstance(path[0], str):
        return _PATHS.get((comparison.object_type, path[0]))
    if comparison.object_type == "file" and len(path) == 2 and path[0] == "hashes":
        key = path[1]
        if isinstance(key, str):
            return _HASH_KEYS.get(key.upper().replace("-", ""))
    return None


def _unquote(literal: str) -> str | None:
    if len(literal) < 2 or literal[0] != "'" or literal[-1] != "'":
        return None  # a number, boolean, timestamp, hex or binary constant
    return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")


def _address(value: str, version: int) -> str | None:
    if "%" in value:  # an IPv6 zone names an interface of one host, not an address to block
        return None
    try:
        if "/" in value:
            network = ipaddress.ip_network(value, strict=True)
        else:
            network = ipaddress.ip_network(ipaddress.ip_address(value))
    except ValueError:
        return None
    if network.version != version or network.prefixlen < _MIN_PREFIX[version]:
        return None
    if (
        network.is_unspecified
        or network.is_loopback
        or network.is_multicast
        or network.is_link_local
        or network.is_reserved
    ):
        return None
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _domain(value: str) -> str | None:
    name = value.lower()
    name = name[:-1] if name.endswith(".") else name
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or labels[-1].isdigit():
        return None
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return name


def _url(value: str) -> str | None:
    # One value a line in a blocklist, and a quoted string in an IDS rule: nothing that could
    # end a line or hide in one (whitespace, control and format characters).
    if not value or len(value) > 8192 or " " in value or not value.isprintable():
        return None
    return value


def _hash(value: str, kind: Kind) -> str | None:
    if len(value) != _HASH_LENGTH[kind] or not _HEX.fullmatch(value):
        return None
    return value.lower()


def _canonical(kind: Kind, value: str) -> str | None:
    if kind is Kind.IPV4:
        return _address(value, 4)
    if kind is Kind.IPV6:
        return _address(value, 6)
    if kind is Kind.DOMAIN:
        return _domain(value)
    if kind is Kind.URL:
        return _url(value)
    return _hash(value, kind)


def _extract(pattern: str) -> tuple[Observable, ...]:
    comparisons = parse_pattern(pattern)
    if isinstance(comparisons, str) or not comparisons or not _joined_by_or_only(pattern):
        return ()
    found: list[Observable] = []
    for comparison in comparisons:
        kind = _kind_of(comparison)
        value = _unquote(comparison.literal)
        if kind is None or comparison.operator != "EQ" or value is None:
            return ()
        canonical = _canonical(kind, value)
        if canonical is not None:
            found.append(Observable(kind, canonical))
    return tuple(dict.fromkeys(found))


# An export asks for an indicator's observables more than once (to decide, then to write);
# short patterns, nearly all of them, are remembered.
_cached_extract = functools.lru_cache(maxsize=8192)(_extract)
_CACHED_LENGTH = 512


def observables(pattern: object) -> tuple[Observable, ...]:
    """The observables of a simple STIX pattern, in pattern order without repeats; nothing
    when the pattern is not simple (or not a valid pattern at all)."""
    if not isinstance(pattern, str):
        return ()
    if len(pattern) <= _CACHED_LENGTH:
        return _cached_extract(pattern)
    return _extract(pattern)
