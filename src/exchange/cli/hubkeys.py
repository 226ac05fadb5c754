"""``exchange hub-key``: the hub's own signing keys (responses, audit)."""

from __future__ import annotations

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub
from exchange.taxii.well_known import hub_keys

__all__ = ["hub_key"]

_PURPOSES = ("responses", "audit")


@click.group("hub-key")
def hub_key() -> None:
    """The hub's signing keys, published at /.well-known/exchange-keys."""


@hub_key.command("rotate")
@click.option("--purpose", type=click.Choice(_PURPOSES), required=True)
@click.pass_context
@fail_cleanly
def rotate(ctx: click.Context, purpose: str) -> None:
    """Make a new key for PURPOSE; the old one is retired but stays published.

    Running servers sign with the new key within `response_key_check_seconds` (30 s).
    """
    made = open_hub(ctx).rotate_hub_key(purpose)
    click.echo(f"new {purpose} key {made.key_id} (created {made.created_at})")


@hub_key.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def list_keys(ctx: click.Context, as_json: bool) -> None:
    """List the hub's keys, current and retired (public information only)."""
    rows = [
        {
            "key_id": key.key_id,
            "purpose": key.purpose,
            "algorithm": key.algorithm,
            "created": key.created_at,
            "retired": key.retired_at,
        }
        for key in hub_keys(open_hub(ctx))
    ]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        state = f"retired {row['retired']}" if row["retired"] else "current"
        click.echo(f"{row['key_id']}  {row['purpose']:<9} {row['created']}  {state}")
