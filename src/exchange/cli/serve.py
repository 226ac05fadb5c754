"""``exchange serve``: run the TAXII server and admin API."""

from __future__ import annotations

import click
import uvicorn

from exchange.app import create_app
from exchange.cli.common import fail_cleanly, settings_from

__all__ = ["serve"]


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.pass_context
@fail_cleanly
def serve(ctx: click.Context, host: str, port: int, log_level: str) -> None:
    """Serve TAXII 2.1 (discovery at /taxii2/) and the admin API (/admin, docs at /admin/docs).

    The store must exist: run `exchange init` once first.
    """
    app = create_app(settings_from(ctx))
    click.echo(f"exchange: TAXII discovery at http://{host}:{port}/taxii2/", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
