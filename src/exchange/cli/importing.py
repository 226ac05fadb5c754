"""``exchange import-medallion``: move a medallion memory-backend data file into the hub."""

from __future__ import annotations

from pathlib import Path

import click

from exchange.cli.common import fail_cleanly

__all__ = ["import_medallion"]


@click.command("import-medallion")
@click.argument("data_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--grant", "grant_to", required=True, help="Account given each collection's access.")
@click.pass_context
@fail_cleanly
def import_medallion(ctx: click.Context, data_file: Path, grant_to: str) -> None:
    """Import DATA_FILE (medallion's memory backend JSON) as shared collections."""
    raise click.ClickException("not built yet")
