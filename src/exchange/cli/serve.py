"""``exchange serve``: run the TAXII server and admin API."""

from __future__ import annotations

import contextlib
import copy
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from exchange.app import build_hub, create_app
from exchange.cli.common import fail_cleanly, settings_from
from exchange.cli.memory import limit_malloc_arenas
from exchange.cli.workers import APP_FACTORY, hand_over, handed_over
from exchange.settings import Settings
from exchange.taxii.connections import ConnectionLimits, GuardedConfig

__all__ = ["log_config", "serve", "tls_context"]

_CLIENT_CERT_MODES = {
    "none": ssl.CERT_NONE,
    "optional": ssl.CERT_OPTIONAL,
    "required": ssl.CERT_REQUIRED,
}


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, with the hub's own loggers (``exchange.*``) at the same level and
    through the same handler, so that `--log-level` governs them too."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["exchange"] = {
        "handlers": ["default"],
        "level": level.upper(),
        "propagate": False,
    }
    return config


def _check_readable(path: Path, what: str) -> None:
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise click.ClickException(f"cannot read the {what} {path}: {exc.strerror}") from None


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The server's TLS context (TLS 1.2 or newer), or None for plain HTTP.

    Everything that cannot work (a missing or unreadable file, a key that does not match the
    certificate, a client-certificate mode without a CA) is one clear error, raised here before
    the server starts rather than as a traceback from inside it.
    """
    cert, key, ca = settings.tls_cert_file, settings.tls_key_file, settings.tls_client_ca_file
    mode = settings.tls_client_cert
    if cert is None:
        if key is not None or ca is not None or mode != "none":
            raise click.UsageError(
                "--tls-key, --tls-client-ca and --tls-client-cert need --tls-cert"
            )
        return None
    if mode == "none" and ca is not None:
        raise click.UsageError(
            "--tls-client-ca needs --tls-client-cert optional or required to take effect"
        )
    if mode != "none" and ca is None:
        raise click.UsageError(f"--tls-client-cert {mode} needs --tls-client-ca")
    _check_readable(cert, "TLS certificate")
    if key is not None:
        _check_readable(key, "TLS key")
    if ca is not None:
        _check_readable(ca, "client CA file")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    # Python already starts server contexts at TLS 1.2; pinned so no OpenSSL or Python build
    # default can lower it.
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    secret = settings.tls_key_password
    # A callable, so an encrypted key without a password fails instead of prompting.
    password = secret.get_secret_value() if secret is not None else ""
    try:
        context.load_cert_chain(cert, key, password=lambda: password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise click.ClickException(
                f"the TLS key {key or cert} does not match the certificate {cert}"
            ) from None
        raise click.ClickException(
            f"cannot load the TLS certificate {cert} and key {key or cert} "
            f"({exc.reason or exc}): both must be PEM; an encrypted key needs "
            "EXCHANGE_TLS_KEY_PASSWORD"
        ) from None
    if ca is not None:
        try:
            context.load_verify_locations(cafile=ca)
        except ssl.SSLError as exc:
            raise click.ClickException(
                f"no usable CA certificate in {ca} ({exc.reason or exc}): it must be PEM"
            ) from None
    context.verify_mode = _CLIENT_CERT_MODES[mode]
    return context


def _worker_tls_context(
    _config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    """uvicorn's ``ssl_context_factory`` in a worker process: the context is rebuilt there from
    the settings handed over, since an SSLContext cannot be pickled."""
    context = tls_context(handed_over())
    if context is None:
        raise RuntimeError("a worker was asked for TLS but its settings name no certificate")
    return context


def _config(
    settings: Settings,
    app: Callable[..., Any] | str,
    *,
    host: str,
    port: int,
    log_level: str,
    ssl_context_factory: Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]
    | None,
) -> GuardedConfig:
    """The uvicorn configuration of one server process (with workers, of each of them)."""
    return GuardedConfig(
        app,
        factory=isinstance(app, str),
        workers=settings.workers,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        log_config=log_config(log_level),
        ssl_context_factory=ssl_context_factory,
        # Slow and idle clients: see exchange.taxii.connections.
        connection_limits=ConnectionLimits(
            header_timeout=settings.header_timeout_seconds,
            body_timeout=settings.body_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
        ),
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
    )


def _serve_one(config: GuardedConfig) -> None:
    """Serve in this process (what ``uvicorn.run`` does with one worker)."""
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the SIGINT it handled
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _serve_supervised(config: GuardedConfig, scheme: str) -> None:
    """Serve from ``config.workers`` processes on one listening socket, under uvicorn's
    supervisor: it restarts a worker that dies, and stops them all on SIGTERM or SIGINT."""
    listening = config.bind_socket()
    port = listening.getsockname()[1]
    click.echo(
        f"exchange: TAXII discovery at {scheme}://{config.host}:{port}/taxii2/ "
        f"({config.workers} server processes)",
        err=True,
    )
    supervisor = Multiprocess(config, sockets=[listening])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)  # uvicorn logged which worker, and why


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
    type=click.Choice(list(_CLIENT_CERT_MODES)),
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
        "(roughly 150-300 MiB), store connections and authentication throttle. Works on "
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
    limit_malloc_arenas()
    scheme = "https" if tls is not None else "http"
    if settings.workers == 1:
        app = create_app(settings)
        click.echo(f"exchange: TAXII discovery at {scheme}://{host}:{port}/taxii2/", err=True)
        tls_factory = None if tls is None else (lambda _config, _default: tls)
        _serve_one(
            _config(
                settings,
                app,
                host=host,
                port=port,
                log_level=log_level,
                ssl_context_factory=tls_factory,
            )
        )
        return
    # Each worker builds its own application and store connections; the store is opened once
    # here first, so that a missing or outdated one is one clear error, not one per worker.
    build_hub(settings).close()
    hand_over(settings)
    _serve_supervised(
        _config(
            settings,
            APP_FACTORY,
            host=host,
            port=port,
            log_level=log_level,
            ssl_context_factory=None if tls is None else _worker_tls_context,
        ),
        scheme,
    )
