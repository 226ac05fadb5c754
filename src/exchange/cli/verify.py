"""``exchange verify``: check the hub's signature on a TAXII response (an analyst's tool).

``exchange verify URL --user U --token-file F`` fetches URL, fetches the hub's keys from
``/.well-known/exchange-keys`` on the same origin (or ``--keys`` URL or pinned file), and checks
the response's signature and ``Content-Digest``; ``--save FILE`` keeps the response (format in
:mod:`exchange.verify`). ``exchange verify --saved FILE`` checks a saved response. Prints ``OK``
with the key id and what the signature covers, or ``FAILED`` and the reason (exit 1).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import requests

from exchange.taxii.media import TAXII_21
from exchange.taxii.well_known import WELL_KNOWN_KEYS
from exchange.verify import (
    ResponseNotVerified,
    VerifiedResponse,
    saved_response,
    verify_pulled,
    verify_saved,
)

__all__ = ["verify"]

_TIMEOUT = 60


def _keys_from(source: str | None, url: str) -> Any:
    if source is None:
        parts = urlsplit(url)
        source = f"{parts.scheme}://{parts.netloc}{WELL_KNOWN_KEYS}"
    if source.startswith(("http://", "https://")):
        response = requests.get(source, timeout=_TIMEOUT)
        if response.status_code != 200:
            raise ResponseNotVerified("no_keys", f"{source} answered {response.status_code}")
        return response.json()
    return json.loads(Path(source).read_text(encoding="utf-8"))


def _report(check: VerifiedResponse) -> None:
    click.echo(check.summary())


@click.command()
@click.argument("url", required=False)
@click.option("--user", default=None, help="Account user name (HTTP Basic); Bearer without it.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="File holding the account's token.",
)
@click.option(
    "--keys",
    "keys_source",
    default=None,
    help="Hub keys: JWKS URL or pinned file [default: the URL's /.well-known/exchange-keys].",
)
@click.option(
    "--save",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the response to this file (exchange-saved-response/1 JSON).",
)
@click.option(
    "--saved",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Check this saved response instead of fetching URL.",
)
def verify(
    url: str | None,
    user: str | None,
    token_file: Path | None,
    keys_source: str | None,
    save: Path | None,
    saved: Path | None,
) -> None:
    """Fetch URL (or read --saved FILE) and check the hub's signature on the response."""
    if (url is None) == (saved is None):
        raise click.UsageError("give either URL or --saved FILE")
    try:
        if saved is not None:
            document = json.loads(saved.read_text(encoding="utf-8"))
            if not isinstance(document, dict):
                raise ResponseNotVerified("bad_saved", "the saved response is not a JSON object")
            request = document.get("request")
            origin = request.get("url") if isinstance(request, dict) else None
            keys = _keys_from(keys_source, str(origin or ""))
            _report(verify_saved(document, keys))
            return
        assert url is not None
        if token_file is None:
            raise click.UsageError("--token-file is required to fetch URL")
        token = token_file.read_text(encoding="utf-8").strip()
        auth: dict[str, Any] = (
            {"auth": (user, token)}
            if user is not None
            else {"headers": {"Authorization": f"Bearer {token}"}}
        )
        headers = {"Accept": TAXII_21, **auth.pop("headers", {})}
        response = requests.get(url, headers=headers, timeout=_TIMEOUT, **auth)
        if save is not None:
            save.write_text(json.dumps(saved_response(response), indent=2), encoding="utf-8")
        keys = _keys_from(keys_source, url)
        _report(verify_pulled(response, keys))
    except ResponseNotVerified as exc:
        click.echo(f"FAILED {exc.reason}: {exc.detail}", err=True)
        sys.exit(1)
    except (OSError, ValueError, requests.RequestException) as exc:
        click.echo(f"FAILED: {exc}", err=True)
        sys.exit(1)
