"""STIX 2.1 / TAXII 2.1 timestamps as integer microseconds since the epoch (UTC).

STIX 2.1 section 3.2 defines timestamps as RFC 3339 in UTC with a literal ``Z``; TAXII 2.1
section 3.2 asks servers for at least millisecond precision on ``date_added``. Integers keep
comparisons and index keys cheap; formatting back is exact to the microsecond.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta

__all__ = ["format_date_added", "format_version", "now_us", "parse_timestamp"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z",
)


def parse_timestamp(text: object) -> int | None:
    """Microseconds since the epoch for a STIX timestamp, or None when it is not one.

    Digits past the microsecond are cut (STIX allows any precision; versions that differ only
    below a microsecond are treated as one).
    """
    if not isinstance(text, str):
        return None
    return _parse(text)


# An object's timestamps repeat (``created`` is often ``modified``; the policy's copy of an
# object is checked again; an envelope's objects often share them): a small cache of recent ones.
@functools.lru_cache(maxsize=4096)
def _parse(text: str) -> int | None:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=UTC
        )
    except ValueError:
        return None
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + micros


def _as_datetime(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def format_date_added(micros: int) -> str:
    """A ``date_added`` timestamp, always with six fraction digits."""
    return _as_datetime(micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=4096)
def format_version(micros: int) -> str:
    """An object version: milliseconds when that is exact (as STIX producers write), else µs."""
    text = _as_datetime(micros).strftime("%Y-%m-%dT%H:%M:%S.%f")
    if micros % 1000 == 0:
        text = text[:-3]
    return text + "Z"


def now_us() -> int:
    """The current time in microseconds since the epoch."""
    delta = datetime.now(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
