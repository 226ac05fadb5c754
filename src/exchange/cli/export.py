"""``exchange export``: an analyst's tool to download an export of a collection from a hub.

A client of ``GET /analyst/exports/{collection}/{format}`` (``exchange.admin.exports``): it sends
the filters as query parameters and streams the body to standard output, or to ``--out FILE``
(written beside it and renamed into place once complete, so an interrupted download never leaves
a partial blocklist where a tool would read it). A refusal prints the hub's reason and exits 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import click
import requests

from exchange.exports.formats import ExportFormat

__all__ = ["export"]

_EXPORTS = "/analyst/exports/"
_TIMEOUT = (30, 300)  # connect, and between two chunks of the body
_CHUNK = 64 * 1024


def _reason(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return f"{body.get('title', '')}: {body.get('description', '')}".strip(": ")
    return str(body)[:200]


def _write(response: requests.Response, out: Path | None) -> int:
    """Stream the body to ``out`` (atomically) or to standard output; the bytes written."""
    written = 0
    if out is None:
        stream = sys.stdout.buffer
        for chunk in response.iter_content(_CHUNK):
            stream.write(chunk)
            written += len(chunk)
        stream.flush()
        return written
    directory = out.resolve().parent
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as file:
            for chunk in response.iter_content(_CHUNK):
                file.write(chunk)
                written += len(chunk)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


@click.command()
@click.argument("collection_id")
@click.option(
    "--format",
    "fmt",
    required=True,
    type=click.Choice([f.value for f in ExportFormat]),
    help=(
        "bundle: a STIX 2.1 bundle; csv: indicators as CSV; ipv4, ipv6, domains, urls, hashes: "
        "plain blocklists; suricata: Suricata rules; misp: a MISP event (JSON)."
    ),
)
@click.option("--url", required=True, help="The hub's base URL, e.g. https://hub.example.org")
@click.option("--user", default=None, help="Account user name (HTTP Basic); Bearer without it.")
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the account's token.",
)
@click.option(
    "--added-after",
    default=None,
    help="Only objects added to the collection after this time (2024-01-31T12:00:00Z).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    help="Only objects of this STIX type (repeat for several).",
)
@click.option("--id", "ids", multiple=True, help="Only the object with this id (repeatable).")
@click.option(
    "--min-confidence",
    type=click.IntRange(0, 100),
    default=None,
    help="Leave out objects below this confidence, and objects that state none.",
)
@click.option(
    "--max-tlp",
    type=click.Choice(["clear", "green", "amber", "amber+strict"]),
    default=None,
    help="Leave out objects marked above this TLP, and objects whose TLP is unknown.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file instead of standard output (replaced only once complete).",
)
def export(
    collection_id: str,
    fmt: str,
    url: str,
    user: str | None,
    token_file: Path,
    added_after: str | None,
    types: tuple[str, ...],
    ids: tuple[str, ...],
    min_confidence: int | None,
    max_tlp: str | None,
    out: Path | None,
) -> None:
    """Download COLLECTION_ID from a hub as a bundle, CSV, blocklist, Suricata rules or MISP.

    The same filters as TAXII (latest version of each object), and the same access: an
    analyst exports their country's collection and the shared collections they may read.
    Blocklists, Suricata rules and MISP events hold only what indicators with simple patterns
    name (values joined by OR), and only indicators that may feed automated tools: not
    revoked, not expired, not TLP:RED, and allowed by their IEP 2.0 policy (blocking needs
    externally visible actions, detection internally visible ones). Exits 1 with the hub's
    reason when the export is refused, or when the download fails.

    \b
    Example:
      exchange export 962ddb89-450f-5691-8140-820287fc5a09 --format ipv4 \\
        --url https://hub.example.org --user police-fr --token-file police-fr.token \\
        --max-tlp amber --out blocklist-ipv4.txt
    """
    token = token_file.read_text(encoding="utf-8").strip()
    params: list[tuple[str, str]] = []
    if added_after is not None:
        params.append(("added_after", added_after))
    params += [("match[type]", value) for value in types]
    params += [("match[id]", value) for value in ids]
    if min_confidence is not None:
        params.append(("min_confidence", str(min_confidence)))
    if max_tlp is not None:
        params.append(("max_tlp", max_tlp))
    target = f"{url.rstrip('/')}{_EXPORTS}{quote(collection_id, safe='')}/{fmt}"
    auth = (user, token) if user is not None else None
    headers = {} if user is not None else {"Authorization": f"Bearer {token}"}
    try:
        with requests.get(
            target, params=params, auth=auth, headers=headers, stream=True, timeout=_TIMEOUT
        ) as response:
            if response.status_code != 200:
                click.echo(f"error: HTTP {response.status_code}: {_reason(response)}", err=True)
                sys.exit(1)
            written = _write(response, out)
    except requests.RequestException as exc:
        click.echo(f"error: the export failed: {exc}", err=True)
        sys.exit(1)
    if out is not None:
        click.echo(f"{written} bytes written to {out}", err=True)
