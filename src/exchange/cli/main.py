"""The ``exchange`` group and its global options."""

from __future__ import annotations

from pathlib import Path

import click

from exchange import __version__
from exchange.cli.accounts import account
from exchange.cli.audit import audit
from exchange.cli.collections import collection
from exchange.cli.database import db
from exchange.cli.evidence import evidence
from exchange.cli.export import export
from exchange.cli.hubkeys import hub_key
from exchange.cli.importing import import_medallion
from exchange.cli.keys import key
from exchange.cli.maintenance import changes, embargo, retention
from exchange.cli.partners import agreement, partner
from exchange.cli.push import push
from exchange.cli.report import report
from exchange.cli.serve import serve
from exchange.cli.setup import init
from exchange.cli.verify import verify
from exchange.settings import Settings

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="exchange")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory of the embedded store [env EXCHANGE_DATA_DIR; default ./var].",
)
@click.option(
    "--config-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory with member-countries.toml [env EXCHANGE_CONFIG_DIR; default ./config].",
)
@click.pass_context
def cli(ctx: click.Context, data_dir: Path | None, config_dir: Path | None) -> None:
    """exchange: a secure cyber-threat information exchange hub.

    Vetted partners push STIX 2.1 over TAXII 2.1; police analysts of member countries pull
    it with any TAXII 2.1 client. Start with `exchange init`, then `exchange serve`.
    """
    overrides: dict[str, Path] = {}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    if config_dir is not None:
        overrides["config_dir"] = config_dir
    ctx.obj = Settings(**overrides)  # type: ignore[arg-type]


cli.add_command(init)
cli.add_command(serve)
cli.add_command(account)
cli.add_command(collection)
cli.add_command(db)
cli.add_command(import_medallion)
cli.add_command(partner)
cli.add_command(agreement)
cli.add_command(changes)
cli.add_command(embargo)
cli.add_command(retention)
cli.add_command(audit)
cli.add_command(key)
cli.add_command(evidence)
cli.add_command(push)
cli.add_command(hub_key)
cli.add_command(verify)
cli.add_command(export)
cli.add_command(report)


def main() -> None:
    """Entry point of the ``exchange`` command."""
    cli(prog_name="exchange")


if __name__ == "__main__":
    main()
