"""A contribution report reads the countries of each decision, in both shapes the audit log
has held: one ``audiences`` list per event with an index per decision, and (in events written
before it) a ``countries`` list per decision. The log cannot be rewritten, so both must count."""

from __future__ import annotations

from typing import Any

from exchange.audit.events import AuditEvent
from exchange.sharing.reports import summarise


def _decision(seq: int, data: dict[str, Any]) -> AuditEvent:
    return AuditEvent(seq, "2026-11-26T12:00:00Z", "decision", "p", "submission:s", data)


def test_audience_indexes_and_country_lists_count_alike() -> None:
    indexed = _decision(
        0,
        {
            "agreement": "a@1",
            "audiences": [["DE", "FR"], ["FR"]],
            "objects": [
                {"id": "indicator--1", "outcome": "accepted", "audience": 0, "held": False},
                {"id": "indicator--2", "outcome": "accepted", "audience": 1, "held": True},
                {"id": "indicator--3", "outcome": "accepted", "held": False},
                {"id": "indicator--4", "outcome": "refused:invalid_pattern"},
            ],
        },
    )
    listed = _decision(
        1,
        {
            "agreement": "a@1",
            "objects": [{"id": "indicator--5", "outcome": "accepted", "countries": ["BR", "FR"]}],
        },
    )
    report = summarise("p", [indexed, listed])
    assert dict(report.by_country) == {"FR": 3, "DE": 1, "BR": 1}
    assert (report.accepted, report.held, dict(report.refused)) == (4, 1, {"invalid_pattern": 1})


def test_an_index_outside_the_audiences_counts_no_country() -> None:
    broken = _decision(
        0,
        {"audiences": [["FR"]], "objects": [{"id": "x--1", "outcome": "accepted", "audience": 5}]},
    )
    report = summarise("p", [broken])
    assert report.accepted == 1
    assert not report.by_country
