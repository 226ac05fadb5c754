"""``exchange changes``, ``exchange embargo release`` and ``exchange retention purge``."""

from __future__ import annotations

import click
import orjson

from exchange.cli.common import emit_json, fail_cleanly, open_hub

__all__ = ["changes", "embargo", "retention"]


@click.command()
@click.option("--entity", default=None, help="account, partner, agreement, collection, grant")
@click.option("--id", "entity_id", default=None, help="Only changes of this entity id.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def changes(ctx: click.Context, entity: str | None, entity_id: str | None, as_json: bool) -> None:
    """The record of administrative changes: who, when, what, before and after."""
    rows = open_hub(ctx).changes(entity, entity_id)
    if as_json:
        emit_json(
            [
                {
                    "seq": c.seq,
                    "at": c.at,
                    "actor": c.actor,
                    "entity": c.entity,
                    "entity_id": c.entity_id,
                    "action": c.action,
                    "before": None if c.before is None else orjson.loads(c.before),
                    "after": None if c.after is None else orjson.loads(c.after),
                }
                for c in rows
            ]
        )
        return
    for c in rows:
        click.echo(f"{c.seq:>6} {c.at} {c.actor:<20} {c.entity:<10} {c.action:<18} {c.entity_id}")


@click.group()
def embargo() -> None:
    """Redistribution held back by agreements' embargoes (the server releases it by itself)."""


@embargo.command("release")
@click.pass_context
@fail_cleanly
def release(ctx: click.Context) -> None:
    """Redistribute now everything whose embargo has ended."""
    click.echo(f"{open_hub(ctx).release_embargoes()} objects released")


@click.group()
def retention() -> None:
    """Objects kept past their agreement's retention (the server purges by itself)."""


@retention.command("purge")
@click.pass_context
@fail_cleanly
def purge(ctx: click.Context) -> None:
    """Delete now everything kept longer than its agreement's retention allows."""
    click.echo(f"{open_hub(ctx).purge_expired()} placements purged")
