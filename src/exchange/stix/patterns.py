"""A hand-written, iterative checker for STIX patterns (STIX 2.1 section 9, Patterning).

It accepts the language of the OASIS ANTLR grammar (``STIXPattern.g4``, as shipped in the
``stix2-patterns`` package; ``tests/unit/test_patterns.py`` checks the two differentially) and
adds the same post-parse checks that package makes: a qualifier type may appear only once
directly on one observation expression, hash constants must fit their algorithm, and the
pattern must start with ``[`` after any opening parentheses. It never recurses: parentheses are
counted and ``AND``/``OR``/``FOLLOWEDBY`` chains are loops, so a pattern with thousands of
terms (or deep nesting) costs linear time and no stack.

``check_pattern`` answers like ``stix2patterns.validator.run_validator`` (syntax only);
``check_indicator_pattern`` adds the object type and property name rules that an indicator's
``pattern`` must also meet (the checks ``stix2-validator`` makes on top of the grammar).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from exchange.stix.types import SCO_TYPES

__all__ = [
    "Comparison",
    "check_indicator_pattern",
    "check_pattern",
    "parse_pattern",
]


# --- Lexer (section 9: constants, operators, whitespace) -------------------------------------
#
# One regular expression whose alternatives are ordered so that Python's first match equals the
# ANTLR lexer's longest match (ties going to the earlier rule): typed literals before
# identifiers, floats before integers, two-character operators before one-character ones.
_WS = "[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_B64 = "[A-Za-z0-9+/]"
_TOKEN = re.compile(
    "|".join(
        (
            rf"(?P<ws>{_WS}|/\*.*?\*/|//[^\r\n]*)",
            # t'YYYY-MM-DDTHH:MM:SS[.s+]Z' (section 9: timestamp constants)
            r"(?P<ts>t'[0-9]{4}-(?:0[1-9]|1[012])-(?:0[1-9]|[12][0-9]|3[01])"
            r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?Z')",
            r"(?P<hex>h'(?:[0-9a-fA-F]{2})*')",
            rf"(?P<bin>b'(?:{_B64}{{4}})*(?:{_B64}{{4}}|{_B64}{{3}}=|{_B64}{{2}}==)')",
            # Only \' and \\ are escapes inside a string constant.
            r"(?P<str>'(?:[^'\\]|\\['\\])*')",
            r"(?P<float>[+-]?[0-9]*\.[0-9]+)",
            r"(?P<int>[+-]?(?:0|[1-9][0-9]*))",
            r"(?P<ident>[a-zA-Z_][a-zA-Z0-9_-]*)",
            r"(?P<op>==|!=|<>|<=|>=|[=<>:.,()\[\]+\-^/*])",
        )
    ),
    re.DOTALL,
)

_KEYWORDS = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "WITHIN",
        "REPEATS",
        "TIMES",
    }
)
_OPERATOR_KINDS = {
    "=": "EQ",
    "==": "EQ",
    "!=": "NEQ",
    "<>": "NEQ",
    "<": "LT",
    "<=": "LE",
    ">": "GT",
    ">=": "GE",
}

# Token kinds used by the parser.
_ID = "identifier"  # [a-zA-Z_][a-zA-Z0-9_]*
_IDH = "identifier-with-hyphen"
_STR = "string"
_INT_POS = "integer"
_INT_NEG = "negative integer"
_FLOAT_POS = "float"
_FLOAT_NEG = "negative float"
_HEX = "hex"
_BIN = "binary"
_BOOL = "boolean"
_TS = "timestamp"
_EOF = "end of pattern"
_BAD = "invalid character"

_ORDERABLE = frozenset({_INT_POS, _INT_NEG, _FLOAT_POS, _FLOAT_NEG, _STR, _BIN, _HEX, _TS})
_PRIMITIVE = _ORDERABLE | {_BOOL}
_STRING_OPERATORS = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})
_ORDER_OPERATORS = frozenset({"LT", "LE", "GT", "GE"})

# The hash constant formats that stix2-patterns enforces for `...hashes.<ALGORITHM>` paths;
# keys are the selector upper-cased without hyphens or quotes.
_HEX32 = re.compile(r"^[a-fA-F0-9]{32}$")
_HEX40 = re.compile(r"^[a-fA-F0-9]{40}$")
_HEX56 = re.compile(r"^[a-fA-F0-9]{56}$")
_HEX64 = re.compile(r"^[a-fA-F0-9]{64}$")
_HEX96 = re.compile(r"^[a-fA-F0-9]{96}$")
_HEX128 = re.compile(r"^[a-fA-F0-9]{128}$")
_HASH_FORMATS: dict[str, re.Pattern[str]] = {
    "MD5": _HEX32,
    "MD6": re.compile(r"^[a-fA-F0-9]{32}"),
    "RIPEMD160": _HEX40,
    "SHA1": _HEX40,
    "SHA224": _HEX56,
    "SHA256": _HEX64,
    "SHA384": _HEX96,
    "SHA512": _HEX128,
    "SHA3224": _HEX56,
    "SHA3256": _HEX64,
    "SHA3384": _HEX96,
    "SHA3512": _HEX128,
    "SSDEEP": re.compile(r"^[a-zA-Z0-9/+:.]{1,128}$"),
    "WHIRLPOOL": _HEX128,
}

# Object type and property names in object paths (section 9 object paths; sections 2.9 and 3.1
# for the name rules): what stix2-validator checks on top of the grammar.
_TYPE_NAME = re.compile(r"^\-?[a-z0-9]+(-[a-z0-9]+)*\-?$")
_PROPERTY_NAME = re.compile(r"^[a-z0-9_]{3,250}$")

_Token = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison of a pattern: ``object_type:path <operator> literal``.

    ``path`` holds property names (str), list indexes (int) and ``None`` for ``[*]``;
    ``literal`` is the constant as written, without whitespace (sets as ``('a','b')``).
    """

    object_type: str
    path: tuple[str | int | None, ...]
    operator: str
    literal: str


class _PatternError(Exception):
    pass


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "..."


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    append = tokens.append
    match = _TOKEN.match
    position = 0
    end = len(text)
    while position < end:
        found = match(text, position)
        if found is None:
            append((_BAD, text[position], position))
            position += 1
            continue
        group = found.lastgroup
        value = found.group()
        if group == "ident":
            if "-" in value:
                append((_IDH, value, position))
            elif value in _KEYWORDS:
                append((value, value, position))
            elif value in ("true", "false"):
                append((_BOOL, value, position))
            else:
                append((_ID, value, position))
        elif group == "str":
            append((_STR, value, position))
        elif group == "op":
            append((_OPERATOR_KINDS.get(value, value), value, position))
        elif group == "int":
            append((_INT_NEG if value[0] == "-" else _INT_POS, value, position))
        elif group == "float":
            append((_FLOAT_NEG if value[0] == "-" else _FLOAT_POS, value, position))
        elif group == "ts":
            append((_TS, value, position))
        elif group == "hex":
            append((_HEX, value, position))
        elif group == "bin":
            append((_BIN, value, position))
        # "ws": whitespace and comments are skipped
        position = found.end()
    append((_EOF, "", end))
    return tokens


def _unexpected(token: _Token, expected: str) -> _PatternError:
    kind, value, position = token
    shown = kind if kind == _EOF else repr(_short(value))
    return _PatternError(f"unexpected {shown} at column {position + 1}: expected {expected}")


def _unquote(literal: str) -> str:
    return literal[1:-1].replace("\\'", "'").replace("\\\\", "\\")


class _Parser:
    """The grammar as two small state machines (observation level, comparison level)."""

    __slots__ = ("comparisons", "position", "tokens")

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.position = 0
        self.comparisons: list[Comparison] = []

    def _take(self, kinds: frozenset[str] | str, expected: str) -> _Token:
        token = self.tokens[self.position]
        matched = token[0] == kinds if isinstance(kinds, str) else token[0] in kinds
        if not matched:
            raise _unexpected(token, expected)
        self.position += 1
        return token

    def parse(self) -> None:
        """Observation expressions joined by AND / OR / FOLLOWEDBY, with qualifiers."""
        tokens = self.tokens
        depth = 0
        expect_operand = True
        # Qualifier types seen directly on the last simple observation expression, or None
        # after a parenthesized one (stix2-patterns only forbids repeats on the former).
        qualifiers: set[str] | None = None
        while True:
            kind = tokens[self.position][0]
            if expect_operand:
                if kind == "(":
                    depth += 1
                    self.position += 1
                elif kind == "[":
                    self.position += 1
                    self._comparison_expression()
                    qualifiers = set()
                    expect_operand = False
                else:
                    raise _unexpected(tokens[self.position], "'[' or '('")
                continue
            if kind in ("AND", "OR", "FOLLOWEDBY"):
                self.position += 1
                expect_operand = True
            elif kind == ")":
                if depth == 0:
                    raise _unexpected(tokens[self.position], "an observation operator")
                depth -= 1
                self.position += 1
                qualifiers = None
            elif kind in ("START", "WITHIN", "REPEATS"):
                self.position += 1
                if kind == "START":
                    self._take(_TS, "a timestamp constant")
                    self._take("STOP", "STOP")
                    self._take(_TS, "a timestamp constant")
                    name = "STARTSTOP"
                elif kind == "WITHIN":
                    self._take(frozenset({_INT_POS, _FLOAT_POS}), "a positive number")
                    self._take("SECONDS", "SECONDS")
                    name = "WITHIN"
                else:
                    self._take(_INT_POS, "a positive integer")
                    self._take("TIMES", "TIMES")
                    name = "REPEATS"
                if qualifiers is not None:
                    if name in qualifiers:
                        raise _PatternError(f"duplicate qualifier type encountered: {name}")
                    qualifiers.add(name)
            elif kind == _EOF:
                if depth:
                    raise _unexpected(tokens[self.position], "')'")
                return
            else:
                raise _unexpected(tokens[self.position], "an observation operator or qualifier")

    def _comparison_expression(self) -> None:
        """Comparisons joined by AND / OR inside one ``[...]``; consumes the closing ``]``."""
        tokens = self.tokens
        depth = 0
        expect_test = True
        while True:
            token = tokens[self.position]
            kind = token[0]
            if expect_test:
                if kind == "(":
                    depth += 1
                    self.position += 1
                    continue
                if kind == "EXISTS" or (kind == "NOT" and tokens[self.position + 1][0] == "EXISTS"):
                    self.position += 2 if kind == "NOT" else 1
                    self._object_path()
                else:
                    self._property_test()
                expect_test = False
                continue
            if kind in ("AND", "OR"):
                expect_test = True
                self.position += 1
            elif kind == ")" and depth:
                depth -= 1
                self.position += 1
            elif kind == "]" and not depth:
                self.position += 1
                return
            else:
                raise _unexpected(token, "AND, OR, ')' or ']'" if depth else "AND, OR or ']'")

    def _object_path(self) -> tuple[str, tuple[str | int | None, ...]]:
        object_type = self._take(frozenset({_ID, _IDH}), "an object type")[1]
        self._take(":", "':'")
        first = self._take(frozenset({_ID, _STR}), "a property name")
        path: list[str | int | None] = [_unquote(first[1]) if first[0] == _STR else first[1]]
        tokens = self.tokens
        while True:
            kind = tokens[self.position][0]
            if kind == ".":
                self.position += 1
                step = self._take(frozenset({_ID, _STR}), "a property name")
                path.append(_unquote(step[1]) if step[0] == _STR else step[1])
            elif kind == "[":
                self.position += 1
                index = self._take(frozenset({_INT_POS, _INT_NEG, "*"}), "a list index or '*'")
                path.append(None if index[0] == "*" else int(index[1]))
                self._take("]", "']'")
            else:
                return object_type, tuple(path)

    def _property_test(self) -> None:
        object_type, path = self._object_path()
        tokens = self.tokens
        if tokens[self.position][0] == "NOT":
            self.position += 1
        token = tokens[self.position]
        kind = token[0]
        self.position += 1
        if kind in ("EQ", "NEQ"):
            literal = self._take(_PRIMITIVE, "a constant")[1]
        elif kind in _ORDER_OPERATORS:
            literal = self._take(_ORDERABLE, "an orderable constant")[1]
        elif kind in _STRING_OPERATORS:
            literal = self._take(_STR, "a string constant")[1]
        elif kind == "IN":
            literal = self._set_literal()
        else:
            self.position -= 1
            raise _unexpected(token, "a comparison operator")
        self.comparisons.append(Comparison(object_type, path, kind, literal))

    def _set_literal(self) -> str:
        self._take("(", "'('")
        items: list[str] = []
        if self.tokens[self.position][0] != ")":
            items.append(self._take(_PRIMITIVE, "a constant")[1])
            while self.tokens[self.position][0] == ",":
                self.position += 1
                items.append(self._take(_PRIMITIVE, "a constant")[1])
        self._take(")", "',' or ')'")
        return "(" + ",".join(items) + ")"


def _starts_with_bracket(text: str) -> bool:
    # stix2-patterns' own "missing square brackets" check: after any '(' and (Python)
    # whitespace, the first character must be '[' (so a pattern may not start with a comment).
    for char in text:
        if char != "(" and not char.isspace():
            return char == "["
    return False


def parse_pattern(text: str) -> list[Comparison] | str:
    """The comparisons of a syntactically valid STIX pattern, or an error message."""
    try:
        parser = _Parser(_tokenize(text))
        parser.parse()
    except _PatternError as error:
        return str(error)
    if not _starts_with_bracket(text):
        return "input is missing square brackets"
    return parser.comparisons


def _hash_problem(comparison: Comparison) -> str | None:
    # Hash constants must fit the algorithm named by the last path step (STIX 2.1 section 2.7
    # Hashes, applied to patterns by stix2-patterns).
    path = comparison.path
    if "hashes" not in path:
        return None
    selector = path[-1]
    if not isinstance(selector, str):
        return None
    fmt = _HASH_FORMATS.get(selector.upper().replace("-", "").replace("'", ""))
    if fmt is None:
        return None
    value = comparison.literal.replace("'", "")
    if fmt.match(value):
        return None
    return f"{_short(value)!r} is not a valid {_short(selector)} hash"


def check_pattern(text: str) -> str | None:
    """Why ``text`` is not a valid STIX 2.1 pattern, or None when it is.

    Agrees with ``stix2patterns.validator.run_validator(text, "2.1")``: the grammar, repeated
    qualifiers on one observation expression, the leading bracket, and hash constant formats.
    """
    if not isinstance(text, str):
        return "a pattern must be a string"
    result = parse_pattern(text)
    if isinstance(result, str):
        return result
    for comparison in result:
        problem = _hash_problem(comparison)
        if problem is not None:
            return problem
    return None


def check_indicator_pattern(text: str) -> str | None:
    """``check_pattern`` plus the naming rules for the object paths an indicator may use.

    Object types must be STIX 2.1 SCO types or well-formed custom type names (3-250 characters,
    lowercase letters, digits and single hyphens); the first property of each path must be a
    valid property name (``^[a-z0-9_]{3,250}$``, or ``id`` on a standard SCO type).
    """
    if not isinstance(text, str):
        return "a pattern must be a string"
    result = parse_pattern(text)
    if isinstance(result, str):
        return result
    for comparison in result:
        problem = _hash_problem(comparison)
        if problem is not None:
            return problem
        object_type = comparison.object_type
        standard = object_type in SCO_TYPES
        if not standard and (not 3 <= len(object_type) <= 250 or not _TYPE_NAME.match(object_type)):
            return f"{_short(object_type)!r} is not a valid observable type name"
        prop = comparison.path[0]
        if not isinstance(prop, str):  # pragma: no cover - the grammar makes it a name
            return "an object path must start with a property name"
        if not (standard and prop == "id") and not _PROPERTY_NAME.match(prop):
            return f"{_short(prop)!r} is not a valid observable property name"
    return None
