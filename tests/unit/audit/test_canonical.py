"""RFC 8785 (JCS) canonicalisation: the RFC's own examples and its appendix B number table."""

from __future__ import annotations

import json
import struct
from types import MappingProxyType

import pytest

from exchange.audit.canonical import canonical_json, freeze_json, thaw_json
from exchange.audit.errors import AuditError

# RFC 8785 appendix B: IEEE 754 bit patterns and their canonical text.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_numbers_match_appendix_b(bits: str, text: str) -> None:
    assert canonical_json(_double(bits)) == text.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_have_no_canonical_form(bits: str) -> None:
    with pytest.raises(AuditError):
        canonical_json(_double(bits))
    with pytest.raises(AuditError):
        freeze_json({"n": _double(bits)})


def test_the_section_3_2_2_example() -> None:
    # RFC 8785 section 3.2.2: the input, parsed, and the canonical output of section 3.2.4.
    source = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(json.loads(source)) == expected


def test_keys_sort_by_utf16_code_units() -> None:
    # RFC 8785 section 3.2.3's example: the emoji (a surrogate pair, D83D DE00) sorts before
    # U+FB33 although its code point is larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    assert list(json.loads(canonical_json(value)).values()) == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]
    assert canonical_json(value).startswith(b'{"\\r":"Carriage Return","1":"One","\xc2\x80"')


def test_strings_are_utf8_with_minimal_escapes() -> None:
    assert canonical_json("é€😀") == '"é€😀"'.encode()
    assert canonical_json("\x00\x1f\b\t\n\f\r") == b'"\\u0000\\u001f\\b\\t\\n\\f\\r"'
    assert canonical_json('"\\/') == b'"\\"\\\\/"'
    assert canonical_json("\u2028") == '"\u2028"'.encode()


def test_no_whitespace_and_nested_values() -> None:
    value = {"b": [1, {"d": None, "c": True}], "a": -0.0, "e": 1.0}
    assert canonical_json(value) == b'{"a":0,"b":[1,{"c":true,"d":null}],"e":1}'


@pytest.mark.parametrize(
    "value",
    [2**53, -(2**53), {"x": 10**20}, {1: "key"}, b"bytes", {"s": {1, 2}}, "\ud800"],
    ids=["big", "small", "nested-big", "int-key", "bytes", "set", "lone-surrogate"],
)
def test_values_outside_i_json_are_refused(value: object) -> None:
    with pytest.raises(AuditError):
        canonical_json(freeze_json(value))


def test_freezing_is_deep_and_thawing_undoes_it() -> None:
    source = {"a": [1, {"b": [2]}], "c": "x"}
    frozen = freeze_json(source)
    assert isinstance(frozen, MappingProxyType)
    assert isinstance(frozen["a"], tuple)
    assert isinstance(frozen["a"][1], MappingProxyType)
    source["a"].append(3)  # type: ignore[attr-defined]
    assert thaw_json(frozen) == {"a": [1, {"b": [2]}], "c": "x"}
    assert canonical_json(frozen) == b'{"a":[1,{"b":[2]}],"c":"x"}'
