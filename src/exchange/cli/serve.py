"""``exchange serve``: run the TAXII server and admin API."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click
import uvicorn
from uvicorn.config import STARTUP_FAILURE

from exchange.app import build_hub, create_app
from exchange.cli.common import fail_cleanly, settings_from
from exchange.cli.memory import collect_less, limit_malloc_arenas
from exchange.cli.server_config import ServerPlan, log_config, server_config
from exchange.cli.tls import CLIENT_CERT_MODES, tls_context
from exchange.cli.workers import hand_over
from exchange.taxii.connections import GuardedConfig

__all__ = ["log_config", "serve", "tls_context"]


def _serve_one(config: GuardedConfig) -> None:
    """Serve in this process (what ``uvicorn.run`` does with one worker)."""
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it handled
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Serve HTTPS with this certificate (PEM, then any intermediates) "
        "[env EXCHANGE_TLS_CERT_FILE; default plain HTTP]. TLS 1.2 or newer."
    ),
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=(
        "Its private key (PEM) [env EXCHANGE_TLS_KEY_FILE; default in the certificate file]; "
        "the password of an encrypted key is read from EXCHANGE_TLS_KEY_PASSWORD only."
    ),
)
@click.option(
    "--tls-client-ca",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=(
        "CA certificates (PEM) that client certificates must chain to "
        "[env EXCHANGE_TLS_CLIENT_CA_FILE]."
    ),
)
@click.option(
    "--tls-client-cert",
    type=click.Choice(list(CLIENT_CERT_MODES)),
    default=None,
    help=(
        "Client certificates (mTLS): none, optional (checked when sent) or required "
        "(no handshake without one from the client CA) [env EXCHANGE_TLS_CLIENT_CERT; "
        "default none]. A certificate admits the connection; the token still names the account."
    ),
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help=(
        "Server processes sharing the port [env EXCHANGE_WORKERS; default 1]: up to one per "
        "CPU core, for more ingest on a machine with several. Each process has its own memory "
        "(about 100-170 MiB on SQLite), store connections and authentication throttle. Works on "
        "SQLite and PostgreSQL alike."
    ),
)
@click.pass_context
@fail_cleanly
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    log_level: str,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_client_ca: Path | None,
    tls_client_cert: str | None,
    workers: int | None,
) -> None:
    """Serve TAXII 2.1 (discovery at /taxii2/) and the admin API (/admin, docs at /admin/docs).

    The store must exist: run `exchange init` once first.
    """
    given = {
        "tls_cert_file": tls_cert,
        "tls_key_file": tls_key,
        "tls_client_ca_file": tls_client_ca,
        "tls_client_cert": tls_client_cert,
        "workers": workers,
    }
    settings = settings_from(ctx)
    settings = settings.model_copy(update={k: v for k, v in given.items() if v is not None})
    tls = tls_context(settings)
    plan = ServerPlan(
        host=host,
        port=port,
        log_level=log_level,
        workers=settings.workers,
        tls=tls is not None,
        header_timeout=settings.header_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_header_bytes=settings.max_header_bytes,
        keep_alive=settings.keep_alive_seconds,
        max_connections=settings.max_connections,
    )
    if settings.workers == 1:
        limit_malloc_arenas()
        app = create_app(settings)
        collect_less()
        click.echo(f"exchange: TAXII discovery at {plan.scheme}://{host}:{port}/taxii2/", err=True)
        _serve_one(server_config(plan, app, None if tls is None else (lambda _c, _d: tls)))
        return
    # Each worker builds its own application and store connections; the store is opened once
    # here first, so that a missing or outdated one is one clear error, not one per worker.
    build_hub(settings).close()
    hand_over(settings)
    plan.hand_over()
    # This process becomes the workers' supervisor, which needs none of the hub's modules.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "exchange.cli.supervisor"])  # noqa: S606
