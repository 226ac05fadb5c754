"""Measuring a load run: timed HTTP calls that sort every failure by kind, and the figures.

Each client thread owns a ``requests.Session`` and calls :func:`timed` for every request; the
shared :class:`Recorder` counts requests by kind, keeps latencies, and counts errors (5xx, 429,
other 4xx, timeouts, connection errors) with a few samples of each for the failure message.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from typing import Any

import requests

__all__ = ["Recorder", "percentile", "timed"]

_SAMPLES_PER_KIND = 5


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile of ``values`` (``fraction`` in 0..1), or None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Recorder:
    """Thread-safe counters and latencies of one load run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.error_samples: dict[str, list[str]] = defaultdict(list)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        self.violations: list[str] = []

    def request(self, kind: str, method: str, seconds: float) -> None:
        """One request of ``kind`` answered (whatever its status) after ``seconds``."""
        with self._lock:
            self.requests[kind] += 1
            self.latencies[method].append(seconds)
            self.latencies[kind].append(seconds)

    def error(self, kind: str, detail: str) -> None:
        """One failed request: ``kind`` is e.g. ``5xx``, ``429``, ``timeout``, ``connection``."""
        with self._lock:
            self.errors[kind] += 1
            if len(self.error_samples[kind]) < _SAMPLES_PER_KIND:
                self.error_samples[kind].append(detail[:500])

    def count(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the figure ``name`` (objects pushed, pages pulled, ...)."""
        with self._lock:
            self.counts[name] += amount

    def violation(self, text: str) -> None:
        """A broken expectation seen by a client (a leaked or repeated object, a bad status)."""
        with self._lock:
            self.violations.append(text)

    def latency_figures(self) -> dict[str, dict[str, float | int | None]]:
        """Per method and per kind: count, p50, p99 and max latency in milliseconds."""
        with self._lock:
            snapshot = {name: list(values) for name, values in self.latencies.items()}
        figures: dict[str, dict[str, float | int | None]] = {}
        for name, values in sorted(snapshot.items()):
            figures[name] = {
                "count": len(values),
                "p50_ms": _ms(percentile(values, 0.50)),
                "p99_ms": _ms(percentile(values, 0.99)),
                "max_ms": _ms(max(values) if values else None),
            }
        return figures


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def timed(
    recorder: Recorder,
    session: requests.Session,
    kind: str,
    method: str,
    url: str,
    *,
    expect: int,
    timeout: float,
    **options: Any,
) -> requests.Response | None:
    """Make one request; return the response if its status is ``expect``, else record the
    error by kind and return None. A timeout or a connection error is an error too."""
    started = time.perf_counter()
    try:
        response = session.request(method, url, timeout=timeout, **options)
    except requests.Timeout as exc:
        recorder.request(kind, method, time.perf_counter() - started)
        recorder.error("timeout", f"{method} {url}: {exc}")
        return None
    except requests.ConnectionError as exc:
        recorder.request(kind, method, time.perf_counter() - started)
        recorder.error("connection", f"{method} {url}: {exc}")
        return None
    recorder.request(kind, method, time.perf_counter() - started)
    if response.status_code == expect:
        return response
    code = response.status_code
    if code == 429:
        error_kind = "429"
    elif code >= 500:
        error_kind = "5xx"
    else:
        error_kind = f"{code}"
    recorder.error(error_kind, f"{method} {url} -> {code}: {response.text[:300]}")
    return None
