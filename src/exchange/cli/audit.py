"""``exchange audit``: signed tree heads, events, proofs and whole-log verification."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import orjson

from exchange.audit.errors import AuditError
from exchange.audit.heads import SignedTreeHead, TreeHead
from exchange.cli.common import emit_json, fail_cleanly, open_hub
from exchange.sharing.audit import event_json
from exchange.sharing.service import Hub

__all__ = ["audit"]


@click.group()
def audit() -> None:
    """The tamper-evident audit log (signed tree heads, proofs, verification)."""


@audit.command("head")
@click.pass_context
@fail_cleanly
def head(ctx: click.Context) -> None:
    """Sign and publish a tree head for the log as it is now; print it as JSON."""
    emit_json(open_hub(ctx).publish_tree_head().to_json())


def _trusted_head(hub: Hub, given: str | None) -> TreeHead:
    """The head to verify against: given (JSON or a file of it) or the latest stored one.

    A signed head's signature must be one of the hub's audit keys'.
    """
    if given is None:
        latest = hub.latest_tree_head()
        if latest is None:
            raise AuditError("no signed tree head yet: run `exchange audit head` first")
        if not hub.check_head_signature(latest):
            raise AuditError("the latest stored tree head's signature does not verify")
        return latest.head
    text = given if given.lstrip().startswith("{") else Path(given).read_text()
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise AuditError(f"the head is not JSON: {error}") from error
    if isinstance(value, dict) and "head" in value:
        try:
            signed = SignedTreeHead(
                TreeHead.from_json(value["head"]),
                str(value["key_id"]),
                bytes.fromhex(str(value["signature"])),
            )
        except (KeyError, ValueError) as error:
            raise AuditError(f"not a signed tree head: {error}") from error
        if not hub.check_head_signature(signed):
            raise AuditError("the given tree head's signature does not verify")
        return signed.head
    return TreeHead.from_json(value)


@audit.command("verify")
@click.option(
    "--head",
    "given",
    default=None,
    help="A tree head obtained earlier (JSON, or a file of it); default: the latest signed one.",
)
@click.pass_context
@fail_cleanly
def verify(ctx: click.Context, given: str | None) -> None:
    """Check the whole log against a tree head; name the first event that does not match."""
    hub = open_hub(ctx)
    trusted = _trusted_head(hub, given)
    verdict = hub.verify_audit_log(trusted)
    if verdict.ok:
        click.echo(f"ok: {verdict.reason} (size {trusted.size}, root {trusted.root})")
        return
    where = "" if verdict.first_bad is None else f"first bad event: {verdict.first_bad}; "
    click.echo(f"MISMATCH: {where}{verdict.reason}", err=True)
    sys.exit(1)


@audit.command("events")
@click.option("--partner", default=None, help="Only events about this partner (user name).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON (one array).")
@click.pass_context
@fail_cleanly
def events(ctx: click.Context, partner: str | None, as_json: bool) -> None:
    """The events of the log, in order."""
    hub = open_hub(ctx)
    account = None if partner is None else hub.account_named(partner).id
    found = hub.iter_audit_events(account)
    if as_json:
        emit_json([event_json(event) for event in found])
        return
    for event in found:
        click.echo(f"{event.seq:>8} {event.at} {event.kind:<11} {event.actor:<20} {event.subject}")


@audit.command("proof")
@click.option("--seq", type=int, required=True, help="The event's seq.")
@click.option("--size", type=int, default=None, help="Tree size (default: the latest head's).")
@click.pass_context
@fail_cleanly
def proof(ctx: click.Context, seq: int, size: int | None) -> None:
    """The inclusion proof of one event (JSON)."""
    emit_json(open_hub(ctx).inclusion_proof(seq, size))
