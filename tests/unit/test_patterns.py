"""The hand-written STIX pattern checker against the reference grammar (``stix2-patterns``).

Cases: the pattern validator's own pass/fail lists (``invalid/patterns/``), the STIX 2.1 spec
examples, a deterministic sample of the indicator patterns of the shared corpus, and seeded
mutations of those. Every verdict must agree with ``stix2patterns.validator.run_validator``;
the agreement is printed (``pytest -s``).
"""

from __future__ import annotations

import gzip
import json
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stix2patterns.validator import run_validator

from exchange.stix.patterns import Comparison, check_indicator_pattern, check_pattern, parse_pattern
from tests.support.paths import STIX_DATA

PATTERN_CASES = STIX_DATA / "invalid" / "patterns" / "pattern-validator-v21-cases.json"
SPEC_EXAMPLES = STIX_DATA / "examples" / "cti-pattern-validator" / "spec_examples.txt"
APPENDIX_G = STIX_DATA / "examples" / "cti-stix-elevator-idioms-2.1" / "Appendix_G_IOCs_Full.json"
# Corpus patterns compared with the ANTLR reference (about 2 ms each there): a fixed sample.
CORPUS_SAMPLE = 1200
MUTATIONS = 1500


def _reference_ok(pattern: str) -> bool | None:
    """The reference verdict, or None when the reference itself crashes on the input."""
    try:
        return not run_validator(pattern, "2.1")
    except Exception:  # stix2-patterns raises on a few inputs (e.g. negative list indexes)
        return None


def _objects(path: Path) -> Iterator[Any]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        try:
            data = json.load(handle)
        except ValueError:
            return
    if isinstance(data, dict):
        yield from data.get("objects", [data]) if data.get("type") == "bundle" else [data]
    elif isinstance(data, list):
        yield from data


def _corpus_patterns() -> list[str]:
    found: set[str] = set()
    for path in sorted(STIX_DATA.rglob("*.json*")):
        if "invalid" in path.parts:
            continue
        for obj in _objects(path):
            if (
                isinstance(obj, dict)
                and obj.get("type") == "indicator"
                and isinstance(obj.get("pattern"), str)
                and len(obj["pattern"]) < 4000  # the reference recurses per OR: keep it safe
            ):
                found.add(obj["pattern"])
    return sorted(found)


@pytest.fixture(scope="module")
def corpus_patterns(stix_data: Path) -> list[str]:
    """Distinct indicator patterns of the shared corpus."""
    patterns = _corpus_patterns()
    assert len(patterns) > 5000
    return patterns


# --- Fixed cases ------------------------------------------------------------------------------


def test_pattern_validator_cases_agree(stix_data: Path) -> None:
    cases = json.loads(PATTERN_CASES.read_text(encoding="utf-8"))["cases"]
    assert len(cases) == 64
    for case in cases:
        mine = check_pattern(case["pattern"]) is None
        assert mine == case["valid_now"], (case["pattern"], check_pattern(case["pattern"]))
        assert mine == _reference_ok(case["pattern"]), case["pattern"]


def test_spec_examples_are_valid(stix_data: Path) -> None:
    lines = [line for line in SPEC_EXAMPLES.read_text(encoding="utf-8").splitlines() if line]
    assert len(lines) >= 20
    for line in lines:
        assert check_pattern(line) is None, (line, check_pattern(line))
        assert _reference_ok(line) is True, line


# --- Differential against stix2-patterns ------------------------------------------------------

_FRAGMENTS = (
    "[",
    "]",
    "(",
    ")",
    "'",
    "\\",
    " AND ",
    " OR ",
    " FOLLOWEDBY ",
    " NOT ",
    " EXISTS ",
    " IN ",
    "=",
    "!=",
    "<>",
    "<=",
    ">",
    " LIKE ",
    " MATCHES ",
    " ISSUBSET ",
    " WITHIN 5 SECONDS",
    " REPEATS 2 TIMES",
    " START t'2016-01-01T00:00:00Z' STOP t'2016-01-01T00:00:01Z'",
    "x-foo:bar",
    ":",
    ".",
    "[*]",
    "[0]",
    "h'ab'",
    "b'YQ=='",
    "t'2016-01-01T00:00:00.1Z'",
    "1.5",
    "-1",
    "+2",
    "true",
    "'a'",
    "/*c*/",
    "//x\n",
    "\u00a0",
    "\u00e9",
    "-",
    ",",
    "*",
    "file:hashes.MD5",
    "'ab\\'c'",
    "==",
    "ab:cd",
    "file:name",
    "e3",
    "t'2016-13-01T00:00:00Z'",
)


def _mutate(rng: random.Random, pattern: str, corpus: list[str]) -> str:
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        at = rng.randint(0, len(pattern))
        if roll < 0.4:
            pattern = pattern[:at] + rng.choice(_FRAGMENTS) + pattern[at:]
        elif roll < 0.7 and pattern:
            pattern = pattern[:at] + pattern[at + rng.randint(1, 5) :]
        elif roll < 0.85 and pattern:
            pattern = pattern[:at] + rng.choice(pattern) + pattern[at:]
        else:
            donor = rng.choice(corpus)
            start = rng.randint(0, len(donor))
            pattern = pattern[:at] + donor[start : start + rng.randint(1, 20)] + pattern[at:]
    return pattern


def test_agrees_with_stix2_patterns(corpus_patterns: list[str]) -> None:
    rng = random.Random(2024)
    sample = rng.sample(corpus_patterns, CORPUS_SAMPLE)
    mutated = [_mutate(rng, rng.choice(corpus_patterns), corpus_patterns) for _ in range(MUTATIONS)]
    compared = agreed = skipped = 0
    disagreements = []
    for pattern in sample + mutated:
        reference = _reference_ok(pattern)
        if reference is None:
            skipped += 1
            continue
        compared += 1
        mine = check_pattern(pattern)
        if (mine is None) == reference:
            agreed += 1
        else:
            disagreements.append((pattern[:120], mine))
    rate = agreed / compared
    print(
        f"\npatterns: {agreed}/{compared} verdicts agree with stix2-patterns ({rate:.2%}); "
        f"{len(sample)} corpus + {len(mutated)} mutated, {skipped} skipped (reference crashed)"
    )
    assert not disagreements, disagreements[:5]


def test_all_corpus_patterns_parse_quickly(corpus_patterns: list[str]) -> None:
    started = time.perf_counter()
    verdicts = [check_pattern(pattern) for pattern in corpus_patterns]
    elapsed = time.perf_counter() - started
    valid = sum(verdict is None for verdict in verdicts)
    print(f"\n{len(verdicts)} corpus patterns ({valid} valid) in {elapsed * 1000:.0f} ms")
    assert elapsed < 5


# --- Long and deep inputs ---------------------------------------------------------------------


def test_appendix_g_pattern_with_a_thousand_ors(stix_data: Path) -> None:
    data = json.loads(APPENDIX_G.read_text(encoding="utf-8"))
    patterns = [o["pattern"] for o in data["objects"] if o.get("type") == "indicator"]
    longest = max(patterns, key=len)
    assert len(longest) > 50_000
    assert longest.count(" OR ") == 1019
    started = time.perf_counter()
    result = parse_pattern(longest)
    elapsed = time.perf_counter() - started
    assert isinstance(result, list)
    assert len(result) == 1020
    assert check_indicator_pattern(longest) is None
    assert elapsed < 0.5


@pytest.mark.parametrize(
    "pattern",
    [
        "(" * 50_000 + "[file:name = 'a']" + ")" * 50_000,
        "[" + "(" * 50_000 + "file:name = 'a'" + ")" * 50_000 + "]",
        " OR ".join(["[file:name = 'a']"] * 20_000),
        "[" + " AND ".join(["file:size = 1"] * 20_000) + "]",
    ],
    ids=["deep-observations", "deep-comparisons", "long-or", "long-and"],
)
def test_deep_and_long_patterns_do_not_recurse(pattern: str) -> None:
    assert check_pattern(pattern) is None
    assert check_pattern(pattern + ")") is not None


# --- Details ----------------------------------------------------------------------------------


def test_comparisons_are_reported() -> None:
    result = parse_pattern(
        "[file:hashes.'SHA-256' = 'ab' AND file:x[*].y[2] IN (1, 'b')] "
        "FOLLOWEDBY [x-foo:bar NOT LIKE 'a%' AND NOT EXISTS x-foo:baz]"
    )
    assert result == [
        Comparison("file", ("hashes", "SHA-256"), "EQ", "'ab'"),
        Comparison("file", ("x", None, "y", 2), "IN", "(1,'b')"),
        Comparison("x-foo", ("bar",), "LIKE", "'a%'"),
    ]


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("[file:hashes.MD5 = 'abc']", "not a valid MD5 hash"),
        ("[file:size = 1] WITHIN 5 SECONDS WITHIN 6 SECONDS", "duplicate qualifier"),
        ("/* comment */ [file:size = 1]", "missing square brackets"),
        ("[file:name = 'a\\nb']", "unexpected"),
        ("[file:size = 1] AND", "expected '[' or '('"),
        ("", "expected '[' or '('"),
    ],
)
def test_errors(pattern: str, fragment: str) -> None:
    problem = check_pattern(pattern)
    assert problem is not None
    assert fragment in problem
    assert len(problem) < 120


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        ("[file:id = 'x']", True),
        ("[x-foo:n = 'x']", False),  # property names need 3+ characters
        ("[ab:name = 'x']", False),  # type names need 3+ characters
        ("[x_foo:name = 'x']", False),  # no underscores in type names
        ("[x-usb-device:usbdrive.serial_number = '1']", True),
        ("[x-foo:id = 'x']", False),  # `id` is only known on the standard SCO types
    ],
)
def test_indicator_naming_rules(pattern: str, ok: bool) -> None:
    assert check_pattern(pattern) is None
    assert (check_indicator_pattern(pattern) is None) is ok
