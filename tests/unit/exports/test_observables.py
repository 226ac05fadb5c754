"""Observables from simple STIX patterns: a table of patterns, tricky ones included.

Each row is a pattern and the (kind, value) pairs it must give; an empty tuple means the
pattern is not simple (or its values are not usable) and must give nothing.
"""

from __future__ import annotations

import pytest

from exchange.exports.observables import Kind, Observable, observables

SHA256 = "3cb8174becb3c89318ed01ccd76e71cbeb8bc9e0fcbce8e110d40cd71af20fa2"
SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
MD5 = "8ecf8e7653e6a67d61ff03e0c61f3825"

V4, V6, DOMAIN, URL = Kind.IPV4, Kind.IPV6, Kind.DOMAIN, Kind.URL

TABLE: list[tuple[str, tuple[tuple[Kind, str], ...]]] = [
    # One comparison on each supported path.
    ("[ipv4-addr:value = '198.51.100.7']", ((V4, "198.51.100.7"),)),
    ("[ipv6-addr:value = '2001:db8::1']", ((V6, "2001:db8::1"),)),
    ("[domain-name:value = 'evil.example.com']", ((DOMAIN, "evil.example.com"),)),
    ("[url:value = 'http://evil.example.com/a?b=c']", ((URL, "http://evil.example.com/a?b=c"),)),
    (f"[file:hashes.'SHA-256' = '{SHA256}']", ((Kind.SHA256, SHA256),)),
    (f"[file:hashes.'SHA-1' = '{SHA1}']", ((Kind.SHA1, SHA1),)),
    (f"[file:hashes.MD5 = '{MD5}']", ((Kind.MD5, MD5),)),
    # Hash keys as STIX allows them in a path: quoted or bare, any case, with or without '-'.
    (f"[file:hashes.'MD5' = '{MD5}']", ((Kind.MD5, MD5),)),
    (f"[file:hashes.SHA256 = '{SHA256}']", ((Kind.SHA256, SHA256),)),
    (f"[file:hashes.'sha-256' = '{SHA256.upper()}']", ((Kind.SHA256, SHA256),)),
    (f"[file:hashes.SHA1 = '{SHA1}']", ((Kind.SHA1, SHA1),)),
    # '==' is '=' (STIX 2.1 section 9.5); whitespace and comments do not matter.
    ("[ipv4-addr:value == '198.51.100.7']", ((V4, "198.51.100.7"),)),
    ("  [ ipv4-addr:value='198.51.100.7' ]  ", ((V4, "198.51.100.7"),)),
    ("[ipv4-addr:value = '198.51.100.7'] /* AND [x:y = 'z'] */", ((V4, "198.51.100.7"),)),
    # OR inside one observation, between observations, with parentheses.
    (
        "[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value = '198.51.100.8']",
        ((V4, "198.51.100.7"), (V4, "198.51.100.8")),
    ),
    (
        f"[domain-name:value = 'a.example'] OR [file:hashes.MD5 = '{MD5}']",
        ((DOMAIN, "a.example"), (Kind.MD5, MD5)),
    ),
    (
        "([ipv4-addr:value = '198.51.100.7'] OR ([url:value = 'http://a.example/']))",
        ((V4, "198.51.100.7"), (URL, "http://a.example/")),
    ),
    (
        "[(domain-name:value = 'a.example' OR (domain-name:value = 'b.example'))]",
        ((DOMAIN, "a.example"), (DOMAIN, "b.example")),
    ),
    # Repeats are given once.
    (
        "[ipv4-addr:value = '198.51.100.7'] OR [ipv4-addr:value = '198.51.100.7']",
        ((V4, "198.51.100.7"),),
    ),
    # Keywords inside string constants are values, not keywords.
    ("[domain-name:value = 'AND.example.com']", ((DOMAIN, "and.example.com"),)),
    ("[url:value = 'http://a.example/?q=x OR y']", ()),  # a space: not a usable URL
    ("[url:value = 'http://a.example/it\\'s']", ((URL, "http://a.example/it's"),)),
    # Not simple: AND, other observation operators, negation, other operators, qualifiers.
    ("[ipv4-addr:value = '198.51.100.7' AND ipv4-addr:value = '198.51.100.8']", ()),
    ("[ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'a.example']", ()),
    ("[ipv4-addr:value = '198.51.100.7'] FOLLOWEDBY [domain-name:value = 'a.example']", ()),
    ("[ipv4-addr:value NOT = '198.51.100.7']", ()),
    ("[ipv4-addr:value != '198.51.100.7']", ()),
    ("[ipv4-addr:value <> '198.51.100.7']", ()),
    ("[ipv4-addr:value > '198.51.100.7']", ()),
    ("[ipv4-addr:value ISSUBSET '198.51.100.0/24']", ()),
    ("[domain-name:value LIKE '%.example.com']", ()),
    ("[domain-name:value MATCHES '^evil']", ()),
    ("[domain-name:value IN ('a.example', 'b.example')]", ()),
    ("[ipv4-addr:value = '198.51.100.7'] WITHIN 60 SECONDS", ()),
    ("[ipv4-addr:value = '198.51.100.7'] REPEATS 2 TIMES", ()),
    (
        "[ipv4-addr:value = '198.51.100.7'] START t'2024-01-01T00:00:00Z' "
        "STOP t'2024-02-01T00:00:00Z'",
        (),
    ),
    ("[EXISTS ipv4-addr:value]", ()),
    # One unsupported comparison makes the whole pattern not simple, even under OR.
    ("[ipv4-addr:value = '198.51.100.7' OR file:name = 'x.exe']", ()),
    ("[ipv4-addr:value = '198.51.100.7'] OR [network-traffic:dst_port = 443]", ()),
    ("[network-traffic:dst_ref.value = '198.51.100.7']", ()),
    ("[domain-name:resolves_to_refs[*].value = '198.51.100.7']", ()),
    (f"[file:hashes.'SHA-512' = '{SHA256 * 2}']", ()),
    ("[file:name = 'invoice.exe']", ()),
    ("[x-custom:value = 'a']", ()),
    # Constants that are not strings.
    ("[ipv4-addr:value = 3325256711]", ()),
    ("[domain-name:value = true]", ()),
    ("[url:value = h'68747470']", ()),
    # Not a pattern at all.
    ("ipv4-addr:value = '198.51.100.7'", ()),
    ("[ipv4-addr:value = '198.51.100.7'", ()),
    ("", ()),
    # Addresses: canonical form; networks in CIDR form; nothing that blocks far too much.
    ("[ipv4-addr:value = '198.51.100.0/24']", ((V4, "198.51.100.0/24"),)),
    ("[ipv4-addr:value = '198.51.100.7/32']", ((V4, "198.51.100.7"),)),
    ("[ipv4-addr:value = '198.51.0.0/16']", ((V4, "198.51.0.0/16"),)),
    ("[ipv4-addr:value = '223.166.0.0/15']", ((V4, "223.166.0.0/15"),)),  # APT1's ranges
    ("[ipv4-addr:value = '198.48.0.0/12']", ((V4, "198.48.0.0/12"),)),
    ("[ipv4-addr:value = '198.32.0.0/11']", ()),
    ("[ipv4-addr:value = '198.0.0.0/8']", ()),
    ("[ipv4-addr:value = '0.0.0.0/0']", ()),
    ("[ipv4-addr:value = '198.51.100.7/24']", ()),  # host bits set: not a network
    ("[ipv4-addr:value = '127.0.0.1']", ()),
    ("[ipv4-addr:value = '0.0.0.0']", ()),
    ("[ipv4-addr:value = '224.0.0.251']", ()),
    ("[ipv4-addr:value = '169.254.10.1']", ()),
    ("[ipv4-addr:value = '255.255.255.255']", ()),
    ("[ipv4-addr:value = '198.51.100.07']", ()),  # leading zero: octal to some parsers
    ("[ipv4-addr:value = '198.51.100.256']", ()),
    ("[ipv4-addr:value = '2001:db8::1']", ()),  # the other family
    ("[ipv4-addr:value = ' 198.51.100.7']", ()),
    ("[ipv6-addr:value = '2001:DB8:0:0:0:0:0:1']", ((V6, "2001:db8::1"),)),
    ("[ipv6-addr:value = '2001:db8::/48']", ((V6, "2001:db8::/48"),)),
    ("[ipv6-addr:value = '2001:db8::/16']", ()),
    ("[ipv6-addr:value = '::1']", ()),
    ("[ipv6-addr:value = 'fe80::1%eth0']", ()),
    ("[ipv6-addr:value = '198.51.100.7']", ()),
    # Domain names: lower case, no trailing dot, IDNA; never a bare top-level domain.
    ("[domain-name:value = 'Evil.Example.COM.']", ((DOMAIN, "evil.example.com"),)),
    ("[domain-name:value = 'bücher.example']", ((DOMAIN, "xn--bcher-kva.example"),)),
    ("[domain-name:value = 'under_score.example']", ((DOMAIN, "under_score.example"),)),
    ("[domain-name:value = 'com']", ()),
    ("[domain-name:value = '198.51.100.7']", ()),
    ("[domain-name:value = 'evil .example']", ()),
    ("[domain-name:value = '-evil.example']", ()),
    ("[domain-name:value = 'evil..example']", ()),
    (f"[domain-name:value = '{'a' * 64}.example']", ()),
    # URLs: as sent, unless they could break a line or hide something.
    ("[url:value = 'pastebin.com/raw/abc']", ((URL, "pastebin.com/raw/abc"),)),
    ("[url:value = 'hxxp://evil[.]example/x']", ((URL, "hxxp://evil[.]example/x"),)),
    ("[url:value = 'http://a.example/\nb']", ()),
    ("[url:value = 'http://a.example/\u202eexe.txt']", ()),
    ("[url:value = '']", ()),
    # Hashes: the length of their algorithm, hex, lower case.
    (f"[file:hashes.MD5 = '{MD5}0']", ()),
    (f"[file:hashes.'SHA-256' = '{SHA256[:-1]}g']", ()),
    # Unusable values are left out; the pattern's other values still count.
    (
        "[ipv4-addr:value = '127.0.0.1' OR ipv4-addr:value = '198.51.100.7']",
        ((V4, "198.51.100.7"),),
    ),
]


@pytest.mark.parametrize(("pattern", "expected"), TABLE)
def test_observables_of_patterns(pattern: str, expected: tuple[tuple[Kind, str], ...]) -> None:
    assert observables(pattern) == tuple(Observable(kind, value) for kind, value in expected)


@pytest.mark.parametrize("value", [None, 5, ["[ipv4-addr:value = '198.51.100.7']"], {}])
def test_a_pattern_that_is_not_a_string_gives_nothing(value: object) -> None:
    assert observables(value) == ()


def test_a_long_pattern_of_ors_gives_every_value_in_order() -> None:
    """Like the elevator's 1,019-OR idiom: linear, no recursion, order kept."""
    addresses = [f"198.51.{i // 250}.{i % 250 + 1}" for i in range(1500)]
    pattern = " OR ".join(f"[ipv4-addr:value = '{a}']" for a in addresses)
    assert len(pattern) > 512  # past the cache: the uncached path
    assert [o.value for o in observables(pattern)] == addresses


def test_a_keyword_in_a_hyphenated_name_is_not_a_keyword() -> None:
    # 'x-AND' is one identifier to the pattern lexer: the pattern is not simple for its path,
    # not for a keyword.
    assert observables("[x-AND:value = 'a']") == ()
    assert observables("[domain-name:value = 'x-and.example']") == (
        Observable(DOMAIN, "x-and.example"),
    )
