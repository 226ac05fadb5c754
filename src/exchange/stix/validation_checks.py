"""Property checks for the STIX 2.1 validator: one small function per STIX data type.

A check takes a JSON value and returns None when it is acceptable, else a ``Problem``:
``(code, where, what)`` where ``code`` is a short reason code, ``where`` a sub-path inside the
property (``""``, ``"[0].source_name"``) and ``what`` a human explanation that never repeats
more than a few dozen characters of the input. Factories build parameterised checks once, at
import time, so that validating an object is a dictionary walk with no allocation on success.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from exchange.stix.validation_vocab import (
    CHARACTER_SETS_FOLDED,
    ISO_639_1,
    ISO_639_2,
    LEGACY_LANGUAGE_TAGS,
)

__all__ = [
    "Check",
    "Problem",
    "Shape",
    "binary",
    "boolean",
    "character_set",
    "check_shape",
    "dictionary",
    "email_address",
    "enum",
    "hashes",
    "hex_string",
    "hostname",
    "identifier",
    "identifier_type",
    "integer",
    "is_language_tag",
    "is_timestamp",
    "language_tag",
    "list_of",
    "matching",
    "number",
    "segment",
    "shape",
    "short",
    "string",
    "timestamp",
    "timestamp_key",
    "timestamp_millis",
    "timestamp_seconds",
    "uri",
]

Problem = tuple[str, str, str]
Check = Callable[[Any], Problem | None]


def short(value: object, limit: int = 40) -> str:
    """``repr`` of a value cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def segment(key: object) -> str:
    """A property name as shown in a path, cut to 30 characters."""
    text = key if isinstance(key, str) else repr(key)
    return text if len(text) <= 30 else text[:27] + "..."


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _wrong_type(expected: str, value: object) -> Problem:
    return ("invalid_type", "", f"must be {expected}, not {_type_name(value)}")


# --- Scalars (STIX 2.1 sections 2.2 boolean, 2.6 float, 2.10 integer, 2.14 string) ----------


def string(value: Any) -> Problem | None:
    """A JSON string."""
    return None if isinstance(value, str) else _wrong_type("a string", value)


def boolean(value: Any) -> Problem | None:
    """A JSON true/false."""
    return None if isinstance(value, bool) else _wrong_type("a boolean", value)


def _is_integer(value: Any) -> bool:
    # JSON has one number type: 2.0 is an integer value (as JSON Schema counts it), True is not.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def integer(minimum: int | None = None, maximum: int | None = None) -> Check:
    """An integer, optionally within ``[minimum, maximum]``."""

    def check(value: Any) -> Problem | None:
        if not _is_integer(value):
            return _wrong_type("an integer", value)
        if minimum is not None and value < minimum:
            return ("out_of_range", "", f"{short(value)} is less than the minimum of {minimum}")
        if maximum is not None and value > maximum:
            return ("out_of_range", "", f"{short(value)} is more than the maximum of {maximum}")
        return None

    return check


def number(minimum: float | None = None, maximum: float | None = None) -> Check:
    """A finite JSON number, optionally within ``[minimum, maximum]``."""

    def check(value: Any) -> Problem | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _wrong_type("a number", value)
        if isinstance(value, float) and not math.isfinite(value):
            return ("invalid_value", "", "must be a finite number")
        if minimum is not None and value < minimum:
            return ("out_of_range", "", f"{short(value)} is less than the minimum of {minimum}")
        if maximum is not None and value > maximum:
            return ("out_of_range", "", f"{short(value)} is more than the maximum of {maximum}")
        return None

    return check


def enum(values: Collection[str], code: str = "invalid_vocabulary") -> Check:
    """One of a closed set of strings (an enumeration, STIX 2.1 section 2.4)."""
    allowed = frozenset(values)
    listing = ", ".join(sorted(allowed))
    if len(listing) > 60:
        listing = listing[:57] + "..."

    def check(value: Any) -> Problem | None:
        if not isinstance(value, str):
            return _wrong_type("a string", value)
        if value not in allowed:
            return (code, "", f"{short(value)} is not one of {listing}")
        return None

    return check


def matching(regex: str, what: str, code: str = "invalid_value", *, search: bool = False) -> Check:
    """A string matching ``regex`` (whole string unless ``search``); ``what`` names the form."""
    compiled = re.compile(regex)
    test = compiled.search if search else compiled.fullmatch

    def check(value: Any) -> Problem | None:
        if not isinstance(value, str):
            return _wrong_type("a string", value)
        if test(value) is None:
            return (code, "", f"{short(value)} is not {what}")
        return None

    return check


# --- Timestamps (STIX 2.1 section 2.15: RFC 3339, UTC, "Z") ----------------------------------

_TIMESTAMP = re.compile(
    r"([0-9]{4})-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:"
    r"[0-5][0-9](\.[0-9]+)?Z"
)
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def is_timestamp(value: Any) -> bool:
    """Whether ``value`` is a STIX timestamp naming a real instant (no Feb 30, no year 0)."""
    if not isinstance(value, str):
        return False
    found = _TIMESTAMP.fullmatch(value)
    if found is None:
        return False
    year, month, day = found.group(1, 2, 3)
    if year == "0000":
        return False
    if day > "28":
        days = int(day)
        month_number = int(month)
        if days > _DAYS_IN_MONTH[month_number - 1]:
            return False
        if month_number == 2 and days == 29:
            y = int(year)
            return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return True


def timestamp(value: Any) -> Problem | None:
    """A STIX timestamp, any precision."""
    if is_timestamp(value):
        return None
    if not isinstance(value, str):
        return _wrong_type("a timestamp string", value)
    return ("invalid_timestamp", "", f"{short(value)} is not a valid YYYY-MM-DDTHH:mm:ss[.s+]Z")


def timestamp_millis(value: Any) -> Problem | None:
    """A timestamp with at least millisecond precision (``created``/``modified``, section 3.2)."""
    problem = timestamp(value)
    if problem is not None:
        return problem
    if len(value) < 24 or value[19] != ".":
        return ("invalid_timestamp", "", f"{short(value)} must be precise to the millisecond")
    return None


def timestamp_seconds(value: Any) -> Problem | None:
    """A timestamp with no fractional seconds (``time_date_stamp`` of the PE extension)."""
    problem = timestamp(value)
    if problem is not None:
        return problem
    if len(value) != 20:
        return ("invalid_timestamp", "", f"{short(value)} must have no fractional seconds")
    return None


def timestamp_key(value: str) -> tuple[str, str]:
    """A key that orders valid timestamps by the instant they name (any precision)."""
    return value[:19], value[20:-1].rstrip("0") if len(value) > 20 else ""


# --- Identifiers (section 2.9) ---------------------------------------------------------------

# `type--UUID` where the UUID is an RFC 4122 one (version 1-5, variant 10xx).
_IDENTIFIER = re.compile(
    r"([a-z][a-z0-9-]+[a-z0-9])--[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}"
    r"-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}"
)


def identifier_type(value: Any) -> str | None:
    """The object type named by a well-formed identifier, else None."""
    if not isinstance(value, str):
        return None
    found = _IDENTIFIER.fullmatch(value)
    return None if found is None else found.group(1)


def identifier(
    allowed: Collection[str] | None = None,
    forbidden: Collection[str] = (),
    *,
    what: str = "",
) -> Check:
    """An identifier, optionally restricted to (or excluding) some object types."""
    allowed_set = None if allowed is None else frozenset(allowed)
    forbidden_set = frozenset(forbidden)
    if not what and allowed_set is not None:
        what = " or ".join(sorted(allowed_set))

    def check(value: Any) -> Problem | None:
        if not isinstance(value, str):
            return _wrong_type("an identifier string", value)
        found = _IDENTIFIER.fullmatch(value)
        if found is None:
            return ("invalid_reference", "", f"{short(value)} is not a type--UUID identifier")
        kind = found.group(1)
        if (allowed_set is not None and kind not in allowed_set) or kind in forbidden_set:
            return ("invalid_reference", "", f"must refer to {what}, not {short(kind, 30)}")
        return None

    return check


# --- Containers (sections 2.3 dictionary, 2.12 list) -----------------------------------------


def list_of(item: Check, min_items: int = 1) -> Check:
    """A list (non-empty unless ``min_items`` is 0) whose items all pass ``item``."""

    def check(value: Any) -> Problem | None:
        if not isinstance(value, list):
            return _wrong_type("a list", value)
        if len(value) < min_items:
            return ("empty_list", "", "must not be an empty list")
        for index, element in enumerate(value):
            problem = item(element)
            if problem is not None:
                return problem[0], f"[{index}]{problem[1]}", problem[2]
        return None

    return check


def _any_json_value(value: Any) -> Problem | None:
    # What STIX allows as a property value: anything but null and the empty list.
    if value is None:
        return ("invalid_value", "", "must not be null")
    if isinstance(value, list) and not value:
        return ("empty_list", "", "must not be an empty list")
    return None


_DICTIONARY_KEY = re.compile(r"[a-zA-Z0-9_-]{0,250}")


def dictionary(
    values: Check = _any_json_value,
    keys: re.Pattern[str] = _DICTIONARY_KEY,
    key_form: str = "ASCII letters, digits, '-' and '_', at most 250",
) -> Check:
    """A non-empty dictionary with well-formed keys (section 2.3) and checked values."""

    def check(value: Any) -> Problem | None:
        if not isinstance(value, dict):
            return _wrong_type("a dictionary", value)
        if not value:
            return ("invalid_value", "", "must not be an empty dictionary")
        for key, element in value.items():
            if not isinstance(key, str) or keys.fullmatch(key) is None:
                return ("invalid_value", "", f"key {short(key, 30)} must be {key_form}")
            problem = _any_json_value(element) or values(element)
            if problem is not None:
                return problem[0], f".{segment(key)}{problem[1]}", problem[2]
        return None

    return check


# --- Binary, hex and hashes (sections 2.1, 2.8, 2.7) -----------------------------------------

binary = matching(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)",
    "base64-encoded",
)
hex_string = matching(r"(?:[a-fA-F0-9]{2})+", "an even number of hex digits")

_HASH_KEY = re.compile(r"[a-zA-Z0-9_-]{3,250}")
# hash-algorithm-ov (section 10) values with a defined format.
_HASH_FORMATS = {
    "MD5": re.compile(r"[a-fA-F0-9]{32}"),
    "SHA-1": re.compile(r"[a-fA-F0-9]{40}"),
    "SHA-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SHA3-256": re.compile(r"[a-fA-F0-9]{64}"),
    "SHA3-512": re.compile(r"[a-fA-F0-9]{128}"),
    "SSDEEP": re.compile(r"[a-zA-Z0-9/+:.]{1,128}"),
    "TLSH": re.compile(r"[a-zA-Z0-9]{70}"),
}


def hashes(value: Any) -> Problem | None:
    """A hashes dictionary: 3-250 character keys, string values in the algorithm's format."""
    if not isinstance(value, dict):
        return _wrong_type("a dictionary of hashes", value)
    if not value:
        return ("invalid_hash", "", "must not be an empty dictionary")
    for key, digest in value.items():
        if not isinstance(key, str) or _HASH_KEY.fullmatch(key) is None:
            return ("invalid_hash", "", f"key {short(key, 30)} must be 3-250 of [a-zA-Z0-9_-]")
        if not isinstance(digest, str):
            return (
                "invalid_hash",
                f".{segment(key)}",
                f"must be a string, not {_type_name(digest)}",
            )
        fmt = _HASH_FORMATS.get(key)
        if fmt is not None and fmt.fullmatch(digest) is None:
            return ("invalid_hash", f".{key}", f"{short(digest)} is not a valid {key} hash")
    return None


# --- Formats: URLs, e-mail addresses, host names, languages, character sets ------------------

# RFC 3986 `URI` (scheme ":" hier-part ["?" query] ["#" fragment]); the IP-literal is only
# checked for its characters.
_UNRESERVED_SUB = r"a-zA-Z0-9\-._~!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED_SUB}:@]|%[0-9A-Fa-f]{{2}})"
_AUTHORITY = (
    rf"(?:(?:[{_UNRESERVED_SUB}:]|%[0-9A-Fa-f]{{2}})*@)?"
    rf"(?:\[[0-9A-Fa-f:.vV{_UNRESERVED_SUB}]+\]|(?:[{_UNRESERVED_SUB}]|%[0-9A-Fa-f]{{2}})*)"
    r"(?::[0-9]*)?"
)
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_URI = re.compile(
    rf"[a-zA-Z][a-zA-Z0-9+.\-]*:"
    rf"(?://{_AUTHORITY}(?:/{_PCHAR}*)*|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?|{_PCHAR}+(?:/{_PCHAR}*)*|)"
    rf"(?:\?{_QUERY})?(?:#{_QUERY})?"
)


def uri(value: Any) -> Problem | None:
    """An absolute URI (RFC 3986): the ``url`` of an external reference or SCO."""
    if not isinstance(value, str):
        return _wrong_type("a URL string", value)
    if _URI.fullmatch(value) is None:
        return ("invalid_value", "", f"{short(value)} is not a valid URI (RFC 3986)")
    return None


email_address = matching(
    r"[a-zA-Z0-9_.+-]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9\-.]+", "an e-mail address (addr-spec)"
)

_LABEL = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")


def _idna_ok(name: str) -> bool:
    try:
        import idna
    except ImportError:  # pragma: no cover - idna comes with the web stack
        return True
    try:
        idna.encode(name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return True


def hostname(value: Any) -> Problem | None:
    """A domain name (RFC 1034 labels; internationalised labels per RFC 5890)."""
    if not isinstance(value, str):
        return _wrong_type("a domain name string", value)
    name = value[:-1] if value.endswith(".") else value
    if name.isascii() and "xn--" not in name.lower():
        ok = 0 < len(name) <= 253 and all(
            _LABEL.fullmatch(label) is not None and label[2:4] != "--" for label in name.split(".")
        )
    else:
        ok = _idna_ok(value)
    return None if ok else ("invalid_value", "", f"{short(value)} is not a valid domain name")


# RFC 5646 language tag syntax (langtag, and the private-use / grandfathered forms loosely).
_LANGUAGE_TAG = re.compile(
    r"([a-zA-Z]{2,3})(?:-[a-zA-Z]{3}){0,3}(?:-[a-zA-Z]{4})?(?:-(?:[a-zA-Z]{2}|[0-9]{3}))?"
    r"(?:-(?:[a-zA-Z0-9]{5,8}|[0-9][a-zA-Z0-9]{3}))*(?:-[0-9a-wyzA-WYZ](?:-[a-zA-Z0-9]{2,8})+)*"
    r"(?:-[xX](?:-[a-zA-Z0-9]{1,8})+)?"
)


def is_language_tag(value: Any) -> bool:
    """An RFC 5646 language tag whose primary language subtag is a registered ISO 639 code."""
    if not isinstance(value, str):
        return False
    if value in LEGACY_LANGUAGE_TAGS:
        return True
    found = _LANGUAGE_TAG.fullmatch(value)
    if found is None:
        return False
    primary = found.group(1).lower()
    return primary in ISO_639_1 if len(primary) == 2 else primary in ISO_639_2


def language_tag(value: Any) -> Problem | None:
    """A language code conformant to RFC 5646 (``lang``, software ``languages``)."""
    if not isinstance(value, str):
        return _wrong_type("a language code string", value)
    if not is_language_tag(value):
        return ("invalid_language", "", f"{short(value)} is not an RFC 5646 language code")
    return None


_CHARSET_FORM = re.compile(r"[a-zA-Z0-9/.+_:()-]{1,250}")


def character_set(value: Any) -> Problem | None:
    """A name from the IANA Character Sets registry (``path_enc``, ``name_enc``)."""
    if not isinstance(value, str):
        return _wrong_type("a character set name", value)
    if _CHARSET_FORM.fullmatch(value) is None or value.casefold() not in CHARACTER_SETS_FOLDED:
        return ("invalid_vocabulary", "", f"{short(value)} is not an IANA character set name")
    return None


# --- Nested objects ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Shape:
    """The expected form of a nested JSON object (or of a whole STIX object type).

    ``props`` maps property names to checks; ``required`` must be present; at least one of
    ``any_of`` must be present (when given); ``closed`` forbids other properties; ``rule`` is an
    extra whole-object check run after the others.
    """

    props: Mapping[str, Check] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    closed: bool = False
    rule: Callable[[Mapping[str, Any]], Problem | None] | None = None


def check_shape(spec: Shape, value: Mapping[str, Any]) -> Problem | None:
    """Check a JSON object against a ``Shape`` (used for nested objects and whole objects)."""
    props = spec.props
    for name in spec.required:
        if name not in value:
            return ("missing_property", "", f"'{name}' is required")
    for name, element in value.items():
        check = props.get(name)
        if check is None:
            if spec.closed:
                return ("invalid_value", "", f"property {short(name, 30)} is not allowed here")
            continue
        problem = check(element)
        if problem is not None:
            return problem[0], f".{segment(name)}{problem[1]}", problem[2]
    if spec.any_of and not any(name in value for name in spec.any_of):
        names = ", ".join(spec.any_of)
        if len(names) > 60:
            names = names[:57] + "..."
        return ("missing_property", "", f"at least one of {names} is required")
    if spec.rule is not None:
        return spec.rule(value)
    return None


def shape(spec: Shape, *, non_empty: bool = False) -> Check:
    """A check for a nested JSON object of the given ``Shape``."""

    def check(value: Any) -> Problem | None:
        if not isinstance(value, dict):
            return _wrong_type("an object", value)
        if non_empty and not value:
            return ("invalid_value", "", "must not be an empty object")
        return check_shape(spec, value)

    return check
