"""``exchange db``: the store's schema."""

from __future__ import annotations

import click

from exchange.cli.common import fail_cleanly, settings_from
from exchange.store import schema

__all__ = ["db"]


@click.group()
def db() -> None:
    """Manage the store's schema."""


@db.command()
@click.pass_context
@fail_cleanly
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations to the store."""
    settings = settings_from(ctx)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{settings.database_path}"
    before = schema.current_revision(url)
    schema.upgrade(url)
    click.echo(f"store schema: {before or 'empty'} -> {schema.head_revision()}")
