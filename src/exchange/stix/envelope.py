"""Reading a POSTed TAXII 2.1 envelope (TAXII 2.1 section 3.7) or STIX bundle (STIX 2.1 8).

Only the shape of the envelope is checked here; each member is checked by
:func:`exchange.stix.objects.check_object`, so one bad object never spoils the others.

A body whose JSON repeats a key in one object is refused whole. JSON parsers disagree on such
a body (orjson and Python keep the last value, others the first or an error), and the
signature and the kept evidence cover the bytes, not one parser's reading of them; RFC 7493
(I-JSON) section 2.3 makes unique names a MUST. It is a defect of the body's syntax, like
invalid UTF-8, so it is refused like one, naming the member that holds it. The check is cheap
(see :func:`_may_repeat_keys`); the exact scan runs only when the cheap one cannot rule
repeats out.

Nesting is bounded too (``max_nesting_depth``): orjson reads an envelope 1024 levels deep, and
code that walks a parsed object recursively should never meet one that deep. The depth of the
whole body is measured over its bytes (:func:`json_depth`, about 1 µs an object); only when it
exceeds the limit are the members measured one by one. A member nested too deeply is refused
alone, in the status resource, like any other bad object; an envelope nested too deeply outside
its members is refused whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

import orjson

from exchange.errors import InvalidEnvelope, PayloadTooLarge
from exchange.stix.objects import ObjectVersion, Refusal, check_object

__all__ = ["DEFAULT_MAX_DEPTH", "json_depth", "parse_envelope", "parse_members"]


# Real STIX objects nest a handful of levels (the deepest in the shared corpus, a marking
# definition with an access-control extension, nests 7); the default leaves a wide margin.
DEFAULT_MAX_DEPTH = 64


def parse_envelope(
    raw: bytes, *, max_objects: int, max_depth: int = DEFAULT_MAX_DEPTH
) -> Sequence[ObjectVersion | Refusal]:
    """Parse an envelope body into one result per member, in the order they were sent."""
    return [
        member if isinstance(member, Refusal) else check_object(member)
        for member in parse_members(raw, max_objects=max_objects, max_depth=max_depth)
    ]


def parse_members(raw: bytes, *, max_objects: int, max_depth: int = DEFAULT_MAX_DEPTH) -> list[Any]:
    """The members of an envelope's ``objects`` list, as parsed JSON values.

    A member nested deeper than ``max_depth`` levels (``{}`` and ``[]`` are one level, a scalar
    none) is replaced by its :class:`Refusal`; a body nested deeper than ``max_depth`` + 2 (the
    envelope object and its ``objects`` list) outside its members is refused whole.
    """
    try:
        document: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidEnvelope(f"the body is not valid UTF-8 JSON ({exc.msg})") from None
    if _may_repeat_keys(raw, document):
        _refuse_repeated_keys(raw, document)
    if not isinstance(document, dict):
        raise InvalidEnvelope("an envelope is a JSON object with an 'objects' list")
    members = document.get("objects")
    if not isinstance(members, list):
        raise InvalidEnvelope("the envelope has no 'objects' list")
    if len(members) > max_objects:
        raise PayloadTooLarge(
            f"the envelope carries {len(members)} objects; the limit is {max_objects}"
        )
    if json_depth(raw) > max_depth + 2:
        return _refuse_deep_members(document, members, max_depth)
    return members


# Nesting depth ---------------------------------------------------------------------------------
# Only quotes and brackets matter to the depth; opening brackets then become +1 and closing
# ones -1 (0xff read as a signed byte).
_NOT_QUOTES_OR_BRACKETS = bytes(byte for byte in range(256) if byte not in b'"[]{}')
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def json_depth(raw: bytes) -> int:
    """How deeply the valid JSON text ``raw`` nests: 0 for a scalar, 1 for ``[]`` or ``{}``.

    Brackets inside strings do not count. Escaped backslashes, then escaped quotes, are cut out
    (RFC 8259 section 7: left to right, each backslash of a run escapes the next), so the quotes
    left delimit strings; everything but quotes and brackets goes, every other piece between
    quotes is outside a string, and the deepest running sum of its brackets is the depth. Each
    step is one pass at C speed (about 1 µs an object of a typical envelope).
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(raw.translate(None, _NOT_QUOTES_OR_BRACKETS).split(b'"')[::2])
    return max(accumulate(memoryview(outside.translate(_STEPS)).cast("b")), default=0)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether the parsed JSON ``value`` nests deeper than ``limit`` levels (iteratively)."""
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > limit:
            return True
        pending.extend((child, level + 1) for child in children)
    return False


def _refuse_deep_members(document: dict[str, Any], members: list[Any], limit: int) -> list[Any]:
    """``members`` with each one nested deeper than ``limit`` replaced by its refusal; raises
    :class:`InvalidEnvelope` when the envelope is too deep outside its members."""
    for key, value in document.items():
        # The envelope is one level; a value under one of its keys may add ``limit`` + 1.
        if key != "objects" and _deeper_than(value, limit + 1):
            raise InvalidEnvelope(
                f"the envelope's {key[:64]!r} is nested deeper than {limit + 2} levels "
                f"(max_nesting_depth is {limit}, plus 2 for the envelope and its 'objects' list)"
            )
    return [
        _too_deep(member, limit) if _deeper_than(member, limit) else member for member in members
    ]


def _too_deep(member: Any, limit: int) -> Refusal:
    stix_id = version = None
    if isinstance(member, dict):
        found = member.get("id")
        stix_id = found if isinstance(found, str) and len(found) <= 300 else None
        found = member.get("modified", member.get("created"))
        version = found if isinstance(found, str) and len(found) < 64 else None
    return Refusal(stix_id, version, f"nested deeper than {limit} levels (max_nesting_depth)")


# Repeated keys --------------------------------------------------------------------------------
# A colon written as an escape inside a string: the body and its re-serialisation (which writes
# it as a colon) could then count colons differently without any key being repeated.
_COLON_ESCAPE = re.compile(rb"\\u003[aA]")
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _may_repeat_keys(raw: bytes, document: Any) -> bool:
    """False when the body surely names no key twice in one object; True when it might.

    Outside strings, a colon in JSON only ends a key; inside them, orjson writes a colon as
    itself. orjson keeps one value per key, so re-serialising the parsed document writes each
    key once: without repeats the body and the re-serialisation hold the same number of colons,
    with one the re-serialisation holds fewer. A body with a colon written as ``\\u003a``, or
    nested deeper than orjson writes, goes to the exact check instead. About 1 µs an object.
    """
    if _COLON_ESCAPE.search(raw):
        return True
    try:
        compact = orjson.dumps(document)
    except orjson.JSONEncodeError:
        return True
    return raw.count(b":") != compact.count(b":")


class _Repeated(dict[str, Any]):
    """A JSON object of the body that names ``key`` more than once."""

    key = ""


def _mark_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    seen: set[str] = set()
    marked = _Repeated(obj)
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def _first_repeat(value: Any) -> str | None:
    """The repeated key of the first marked object in ``value`` (iteratively, any depth)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, _Repeated):
            return item.key
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def _refuse_repeated_keys(raw: bytes, document: Any) -> None:
    """Raise :class:`InvalidEnvelope` naming the first repeated key and its member, if any."""
    try:
        marked = json.loads(raw, object_pairs_hook=_mark_repeats)
    except RecursionError:  # deeper than Python's parser goes (orjson goes to 1024)
        _scan_for_repeated_keys(raw, document)
        return
    if isinstance(marked, _Repeated):
        _raise_repeated(marked.key, None, document)
    members = marked.get("objects") if isinstance(marked, dict) else None
    if isinstance(members, list):
        for index, member in enumerate(members):
            key = _first_repeat(member)
            if key is not None:
                _raise_repeated(key, index, document)
    key = _first_repeat(marked)
    if key is not None:
        _raise_repeated(key, None, document)


def _scan_for_repeated_keys(raw: bytes, document: Any) -> None:
    """The same check over the tokens of the body, for bodies too deep for ``json``: slower,
    but iterative. The body is valid JSON (orjson parsed it)."""
    # One entry per open container: the keys seen so far (an object) or None (an array).
    stack: list[set[str] | None] = []
    last_key = ""  # the last key of the envelope itself
    member = -1  # index of the current member of the envelope's "objects" list
    in_objects = False
    pending: bytes | None = None
    for match in _TOKEN.finditer(raw):
        token = match.group()
        if token == b":":
            keys = stack[-1] if stack else None
            if pending is not None and keys is not None:
                key: str = orjson.loads(pending)
                if key in keys:
                    _raise_repeated(key, member if in_objects else None, document)
                keys.add(key)
                if len(stack) == 1:
                    last_key = key
            pending = None
            continue
        pending = token if token.startswith(b'"') else None
        if token in (b"{", b"["):
            if len(stack) == 1 and token == b"[" and last_key == "objects":
                in_objects, member = True, 0
            stack.append(set() if token == b"{" else None)
        elif token in (b"}", b"]"):
            stack.pop()
            if len(stack) == 1:
                in_objects = False
        elif token == b"," and len(stack) == 2 and in_objects:
            member += 1


def _raise_repeated(key: str, member: int | None, document: Any) -> None:
    shown = key if len(key) <= 64 else key[:61] + "..."
    why = (
        "JSON with repeated keys is read differently by different parsers "
        "(RFC 7493 section 2.3), so the envelope is refused whole"
    )
    if member is None:
        raise InvalidEnvelope(f"the envelope names the key {shown!r} twice in one object; {why}")
    where = f"member {member} of 'objects'"
    members = document.get("objects") if isinstance(document, dict) else None
    if isinstance(members, list) and member < len(members) and isinstance(members[member], dict):
        stix_id = members[member].get("id")
        if isinstance(stix_id, str) and len(stix_id) <= 300:
            where += f" ({stix_id})"
    raise InvalidEnvelope(f"{where} names the key {shown!r} twice in one object; {why}")
