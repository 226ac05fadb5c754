"""``exchange report``: a partner's contribution report, from the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub

__all__ = ["report"]


def _rows(title: str, counts: Mapping[str, Any]) -> None:
    click.echo(title)
    if not counts:
        click.echo("  (none)")
    for name, value in counts.items():
        click.echo(f"  {name:<40} {value:>10,}")


@click.command()
@click.argument("partner")
@click.option("--since", default=None, help="From this date or RFC 3339 UTC time (included).")
@click.option("--until", default=None, help="To this date or RFC 3339 UTC time (excluded).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (as GET /partner/report).")
@click.pass_context
@fail_cleanly
def report(
    ctx: click.Context, partner: str, since: str | None, until: str | None, as_json: bool
) -> None:
    """What PARTNER contributed: submissions, objects accepted and refused (by reason and by
    agreement version), where they went by member country, recalls, and the sightings analysts
    sent back.

    Computed from the audit log, so it agrees with the signed record. Partners get the same
    report over the API at GET /partner/report.
    """
    made = open_hub(ctx).partner_report(partner, since, until).to_json()
    if as_json:
        emit_json(made)
        return
    window = f"{made['since'] or 'the start'} to {made['until'] or 'now'}"
    click.echo(f"contribution report of {made['partner']}, {window}")
    totals = {
        "submissions": made["submissions"],
        "objects sent": made["objects"],
        "accepted": made["accepted"],
        "already stored": made["already_stored"],
        "refused": sum(made["refused"].values()),
        "held for an embargo": made["held_for_embargo"],
        "recalls": made["recalls"],
    }
    _rows("totals", totals)
    _rows("refused, by reason", made["refused"])
    for ref, under in made["by_agreement"].items():
        _rows(f"under {ref}", under["outcomes"])
        _rows(f"  sent by member country under {ref}", under["countries"])
    _rows("accepted objects sent, by member country", made["by_country"])
    _rows("recalled, by member country", made["recalled_in"])
    feedback = made["feedback"]
    _rows(
        "sightings received from analysts",
        {
            **feedback["sightings"],
            "objects sighted": feedback["objects_sighted"],
            "country withheld": feedback["withheld_country"],
        },
    )
    _rows("sightings, by member country (where the agreement names it)", feedback["by_country"])
