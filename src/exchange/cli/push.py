"""``exchange push``: a partner's tool to push STIX bundles to its inbox, signed (RFC 9421).

Reads bundles (``.json``, ``.json.gz``; directories are searched), sends their objects in
envelopes of N through taxii2-client with :class:`exchange.signing.client.SigningAuth` (every
request signed, the token added), retries connection errors and 5xx with backoff (bounded), and
sums up what became of each object: added, already present, refused (with reason codes).
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import requests
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from taxii2client.v21 import ApiRoot, Collection

from exchange.errors import ConfigError
from exchange.feeds import Feed, load_feed
from exchange.signing.client import SigningAuth
from exchange.signing.errors import KeyRefused
from exchange.signing.keys import load_private_key_pem

__all__ = ["ObjectResult", "classify", "push", "read_objects"]

_API_ROOT = "/hub/"
_REFUSED_CODE = re.compile(r"^refused \(([\w.-]+)\)")
_LEADING_CODE = re.compile(r"^([a-z][a-z0-9_]+):")


@dataclass(frozen=True, slots=True)
class ObjectResult:
    """What became of one pushed object."""

    stix_id: str
    outcome: str  # "added", "already present", "refused"
    reason: str  # a reason code ("" unless refused)
    message: str


def read_objects(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """The STIX objects of bundles (or envelopes, or single objects) in files and directories."""
    files: list[Path] = []
    for path in paths:
        if path.name.endswith(".toml"):
            files.extend(_feed(path).bundles)
        elif path.is_dir():
            files.extend(
                sorted(p for p in path.rglob("*") if p.name.endswith((".json", ".json.gz")))
            )
        else:
            files.append(path)
    for file in files:
        raw = file.read_bytes()
        if file.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        try:
            document = json.loads(raw)
        except ValueError as exc:
            raise click.ClickException(f"{file}: not JSON ({exc})") from None
        if isinstance(document, dict) and isinstance(document.get("objects"), list):
            yield from (obj for obj in document["objects"] if isinstance(obj, dict))
        elif isinstance(document, dict) and "type" in document:
            yield document
        else:
            raise click.ClickException(f"{file}: not a STIX bundle, envelope or object")


def _feed(path: Path) -> Feed:
    try:
        return load_feed(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def classify(line: dict[str, Any], success: bool) -> ObjectResult:
    """An object's result from a TAXII status line."""
    stix_id = str(line.get("id", "?"))
    message = str(line.get("message", ""))
    if success:
        outcome = "already present" if message.startswith("already present") else "added"
        return ObjectResult(stix_id, outcome, "", message)
    return ObjectResult(stix_id, "refused", reason_code(message), message)


def reason_code(message: str) -> str:
    """The reason code a refusal message starts with (``refused (code) ...`` or ``code: ...``)."""
    found = _REFUSED_CODE.match(message) or _LEADING_CODE.match(message)
    return found.group(1) if found else "other"


def _inbox(api_root: str, auth: SigningAuth) -> str:
    root = ApiRoot(api_root, auth=auth)
    writable = [c for c in root.collections if c.can_write]
    if not writable:
        raise click.ClickException("this account may write to no collection")
    return str(writable[0].id)


def _send(
    collection: Collection, objects: list[dict[str, Any]], retries: int, backoff: float
) -> list[ObjectResult]:
    envelope = {"objects": objects}
    for attempt in range(retries + 1):
        try:
            status = collection.add_objects(envelope, wait_for_completion=False)
        except requests.ConnectionError as exc:
            problem = f"connection failed: {exc}"
        except requests.HTTPError as exc:
            response = exc.response
            code = response.status_code if response is not None else 0
            if code < 500:
                return _refused_envelope(objects, response)
            problem = f"HTTP {code}"
        else:
            results = [classify(line, True) for line in status.successes]
            results += [classify(line, False) for line in status.failures]
            results += [
                ObjectResult(str(line.get("id", "?")), "pending", "", "")
                for line in status.pendings
            ]
            return results
        if attempt < retries:
            time.sleep(backoff * 2**attempt)
    return [
        ObjectResult(str(obj.get("id", "?")), "refused", "unreachable", problem) for obj in objects
    ]


def _refused_envelope(
    objects: list[dict[str, Any]], response: requests.Response | None
) -> list[ObjectResult]:
    status = response.status_code if response is not None else 0
    description = ""
    if response is not None:
        try:
            description = str(response.json().get("description", ""))
        except ValueError:
            description = response.text[:200]
    code = reason_code(description)
    reason = f"http_{status}" if code == "other" else code
    message = f"HTTP {status}: {description}"
    return [ObjectResult(str(obj.get("id", "?")), "refused", reason, message) for obj in objects]


def _summary(console: Console, results: list[ObjectResult]) -> None:
    table = Table(title="Objects")
    for column in ("object", "outcome", "reason", "message"):
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(result.stix_id, result.outcome, result.reason, result.message[:120])
    console.print(table)
    counts = Table(title="Summary")
    counts.add_column("outcome")
    counts.add_column("count", justify="right")
    for outcome, count in sorted(Counter(r.outcome for r in results).items()):
        counts.add_row(outcome, str(count))
    reasons = Counter(r.reason for r in results if r.outcome == "refused")
    for reason, count in sorted(reasons.items()):
        counts.add_row(f"refused: {reason}", str(count))
    console.print(counts)


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--url", required=True, help="The hub's base URL, e.g. https://hub.example.org")
@click.option(
    "--user", default=None, help="The partner's user name (default: the feed.toml's partner)."
)
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="File holding the partner's token.",
)
@click.option(
    "--key",
    "key_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The partner's private key (PEM, from `exchange key generate`).",
)
@click.option("--key-id", required=True, help="The id the hub knows the key by.")
@click.option("--envelope", "size", type=click.IntRange(1, 10_000), default=100, show_default=True)
@click.option("--collection", default=None, help="Inbox collection id (default: looked up).")
@click.option("--retries", type=click.IntRange(0, 10), default=4, show_default=True)
@click.option("--backoff", type=float, default=0.5, show_default=True, help="First wait, s.")
@click.option("--json", "as_json", is_flag=True, help="Print the per-object results as JSON.")
def push(
    paths: tuple[Path, ...],
    url: str,
    user: str | None,
    token_file: Path,
    key_path: Path,
    key_id: str,
    size: int,
    collection: str | None,
    retries: int,
    backoff: float,
    as_json: bool,
) -> None:
    """Push STIX bundles (.json, .json.gz, directories of them, or a feed.toml naming its
    bundles, see feeds/README.md) to your inbox, signed.

    Exits 1 when any object was refused.
    """
    if user is None:
        feeds = [_feed(path) for path in paths if path.name.endswith(".toml")]
        if not feeds:
            raise click.ClickException("give --user (or push a feed.toml that names its partner)")
        user = feeds[0].partner
    try:
        private = load_private_key_pem(key_path.read_bytes())
    except KeyRefused as exc:
        raise click.ClickException(exc.diagnostics()) from None
    token = token_file.read_text(encoding="utf-8").strip()
    auth = SigningAuth(private, key_id, user=user, token=token)
    api_root = url.rstrip("/") + _API_ROOT
    objects = list(read_objects(paths))
    if not objects:
        raise click.ClickException("no STIX objects found")
    try:
        inbox = collection or _inbox(api_root, auth)
        target = Collection(f"{api_root}collections/{inbox}/", auth=auth)
    except requests.RequestException as exc:
        raise click.ClickException(f"cannot reach the hub: {exc}") from None
    console = Console(stderr=as_json)
    results: list[ObjectResult] = []
    with Progress(
        TextColumn("pushing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=as_json,
    ) as progress:
        task = progress.add_task("push", total=len(objects))
        for start in range(0, len(objects), size):
            chunk = objects[start : start + size]
            results.extend(_send(target, chunk, retries, backoff))
            progress.advance(task, len(chunk))
    if as_json:
        click.echo(json.dumps([_as_dict(r) for r in results]))
    else:
        _summary(console, results)
    if any(r.outcome not in {"added", "already present"} for r in results):
        raise SystemExit(1)


def _as_dict(result: ObjectResult) -> dict[str, str]:
    return {
        "id": result.stix_id,
        "outcome": result.outcome,
        "reason": result.reason,
        "message": result.message,
    }
