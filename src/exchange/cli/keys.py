"""``exchange key``: partners' signing keys (register, rotate, list, revoke) and key pairs for
partners' tooling."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from exchange.cli.common import emit_json, fail_cleanly, open_hub
from exchange.signing.keys import (
    ALGORITHMS,
    generate_private_key,
    private_key_pem,
    public_key_info,
)

__all__ = ["key"]

_TIME = click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"])


def _aware(value: datetime | None) -> datetime | None:
    """Times without a zone are UTC (``2026-01-01`` is midnight UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _show(item: dict[str, Any]) -> None:
    until = item["valid_until"] or "open"
    revoked = (
        f", revoked from {item['revoked_at']} ({item['revoked_reason']})"
        if item["revoked_at"]
        else ""
    )
    click.echo(
        f"{item['key_id']}  {item['algorithm']:<18} {item['state']:<8} "
        f"valid {item['valid_from']} .. {until}{revoked}"
    )


@click.group()
def key() -> None:
    """Partners' signing keys (RFC 9421 HTTP message signatures on their submissions).

    A key's id is its JWK thumbprint (RFC 7638) unless given. Rotate with `key add --rotates`
    (the old key stays valid until --rotated-until); revoke with a reason and effective time.
    """


@key.command("add")
@click.argument("username")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The public key: PEM (SubjectPublicKeyInfo) or a JWK (JSON).",
)
@click.option("--key-id", default=None, help="Name the key (default: its JWK thumbprint).")
@click.option("--valid-from", type=_TIME, default=None, help="Start of validity (default now).")
@click.option("--valid-until", type=_TIME, default=None, help="End of validity (default open).")
@click.option("--rotates", default=None, metavar="KEY_ID", help="The key this one replaces.")
@click.option(
    "--rotated-until",
    type=_TIME,
    default=None,
    help="Until when the replaced key stays valid (overlap; default: when this one starts).",
)
@click.option("--as", "admin", required=True, metavar="ADMIN", help="The admin making it.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def add(
    ctx: click.Context,
    username: str,
    path: Path,
    key_id: str | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
    rotates: str | None,
    rotated_until: datetime | None,
    admin: str,
    as_json: bool,
) -> None:
    """Register a public key for partner USERNAME."""
    item = open_hub(ctx).add_partner_key(
        username,
        path.read_bytes(),
        admin=admin,
        key_id=key_id,
        valid_from=_aware(valid_from),
        valid_until=_aware(valid_until),
        rotates=rotates,
        rotated_until=_aware(rotated_until),
    )
    if as_json:
        emit_json(item)
    else:
        _show(item)


@key.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def list_keys(ctx: click.Context, username: str, as_json: bool) -> None:
    """The keys registered for partner USERNAME, with their state."""
    items = open_hub(ctx).partner_keys(username)
    if as_json:
        emit_json(items)
        return
    if not items:
        click.echo(f"{username} has no registered key")
    for item in items:
        _show(item)


@key.command("revoke")
@click.argument("username")
@click.argument("key_id")
@click.option("--reason", required=True, help="Why (recorded).")
@click.option(
    "--effective", type=_TIME, default=None, help="From when signatures are refused (default now)."
)
@click.option("--as", "admin", required=True, metavar="ADMIN", help="The admin making it.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
@fail_cleanly
def revoke(
    ctx: click.Context,
    username: str,
    key_id: str,
    reason: str,
    effective: datetime | None,
    admin: str,
    as_json: bool,
) -> None:
    """Revoke partner USERNAME's key KEY_ID; what it signed before stays verifiable."""
    item = open_hub(ctx).revoke_partner_key(
        username, key_id, reason, admin=admin, effective=_aware(effective)
    )
    if as_json:
        emit_json(item)
    else:
        _show(item)


@key.command("generate")
@click.option(
    "--out",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for private.pem and public.pem (made if missing).",
)
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="ed25519", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def generate(directory: Path, algorithm: str, as_json: bool) -> None:
    """Make a key pair for a partner's tooling; print its key id.

    Keep private.pem with the partner (mode 0600); give public.pem to the hub (`key add`).
    """
    directory.mkdir(parents=True, exist_ok=True)
    private_path, public_path = directory / "private.pem", directory / "public.pem"
    if private_path.exists():
        raise click.ClickException(f"{private_path} exists: not overwriting a private key")
    private = generate_private_key("ed25519" if algorithm == "ed25519" else "ecdsa-p256-sha256")
    info = public_key_info(private.public_key())
    private_path.touch(mode=0o600)
    private_path.write_bytes(private_key_pem(private))
    public_path.write_text(info.pem(), encoding="ascii")
    if as_json:
        emit_json(
            {
                "key_id": info.key_id,
                "algorithm": info.algorithm,
                "private_key": str(private_path),
                "public_key": str(public_path),
            }
        )
        return
    click.echo(info.key_id)
