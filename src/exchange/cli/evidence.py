"""``exchange evidence``: verify again what a partner signed for a submission."""

from __future__ import annotations

import sys

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub

__all__ = ["evidence"]


@click.group()
def evidence() -> None:
    """The signed evidence kept with each signed submission."""


@evidence.command("verify")
@click.argument("status_id", metavar="SUBMISSION")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def verify(ctx: click.Context, status_id: str, as_json: bool) -> None:
    """Re-verify the evidence of SUBMISSION (its status id) with the key as registered.

    Checks the signature over the kept signature base and that the base's Content-Digest
    matches the kept body. Prints OK or the reason; exits 1 when it does not verify.
    """
    check = open_hub(ctx).check_evidence(status_id)
    if as_json:
        emit_json(check.as_dict())
    elif check.ok:
        click.echo(
            f"OK: signed by {check.partner} with key {check.key_id} at {check.created} "
            f"(covers {', '.join(check.covered)})"
        )
    else:
        click.echo(f"FAILED ({check.reason}): {check.detail}")
    if not check.ok:
        sys.exit(1)
