"""How ``exchange serve`` configures uvicorn, importable without the hub itself.

With ``--workers N`` the command checks everything, then replaces itself with
``python -m exchange.cli.supervisor``: a parent process that holds only uvicorn (about 30 MiB
resident instead of the whole hub's 110) while it starts, restarts and stops the N workers. This
module is what both processes need: the logging, the uvicorn Config and the hand-over of what the
parent was told.
"""

from __future__ import annotations

import copy
import os
import ssl
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Final

import orjson
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from exchange.taxii.connections import ConnectionLimits, GuardedConfig

__all__ = ["PLAN_VARIABLE", "ServerPlan", "log_config", "serve_supervised", "server_config"]

# Where `exchange serve` leaves the plan for the supervisor it becomes (no secrets in it).
PLAN_VARIABLE: Final = "_EXCHANGE_SERVER_PLAN"
# The application each worker builds (see exchange.cli.workers).
APP_FACTORY: Final = "exchange.cli.workers:create_worker_app"

TlsFactory = Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext]


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


@dataclass(frozen=True)
class ServerPlan:
    """What one ``exchange serve`` runs: where, how many processes, and the connection bounds."""

    host: str
    port: int
    log_level: str
    workers: int
    tls: bool
    header_timeout: float
    body_timeout: float
    max_header_bytes: int
    keep_alive: int
    max_connections: int

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def hand_over(self) -> None:
        """Leave the plan for the supervisor process (see :func:`serve_supervised`)."""
        os.environ[PLAN_VARIABLE] = orjson.dumps(asdict(self)).decode()

    @classmethod
    def handed_over(cls) -> ServerPlan:
        handed = os.environ.get(PLAN_VARIABLE)
        if handed is None:
            raise RuntimeError(f"{PLAN_VARIABLE} is not set: `exchange serve` starts this process")
        return cls(**orjson.loads(handed))


def server_config(
    plan: ServerPlan, app: Callable[..., Any] | str, ssl_context_factory: TlsFactory | None
) -> GuardedConfig:
    """The uvicorn configuration of one server process (with workers, of each of them)."""
    return GuardedConfig(
        app,
        factory=isinstance(app, str),
        workers=plan.workers,
        host=plan.host,
        port=plan.port,
        log_level=plan.log_level,
        access_log=False,
        log_config=log_config(plan.log_level),
        ssl_context_factory=ssl_context_factory,
        # Slow and idle clients: see exchange.taxii.connections.
        connection_limits=ConnectionLimits(
            header_timeout=plan.header_timeout,
            body_timeout=plan.body_timeout,
            max_header_bytes=plan.max_header_bytes,
        ),
        timeout_keep_alive=plan.keep_alive,
        limit_concurrency=plan.max_connections,
    )


def worker_tls_context(
    _config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]
) -> ssl.SSLContext:
    """uvicorn's ``ssl_context_factory`` in a worker process: the context is rebuilt there from
    the settings handed over, since an SSLContext cannot be pickled."""
    from exchange.cli.tls import (
        tls_context,
    )  # in the worker only: the supervisor never imports these
    from exchange.cli.workers import handed_over

    context = tls_context(handed_over())
    if context is None:
        raise RuntimeError("a worker was asked for TLS but its settings name no certificate")
    return context


def serve_supervised(plan: ServerPlan) -> None:
    """Serve from ``plan.workers`` processes on one listening socket, under uvicorn's
    supervisor: it restarts a worker that dies, and stops them all on SIGTERM or SIGINT."""
    config = server_config(plan, APP_FACTORY, worker_tls_context if plan.tls else None)
    listening = config.bind_socket()
    port = listening.getsockname()[1]
    print(
        f"exchange: TAXII discovery at {plan.scheme}://{plan.host}:{port}/taxii2/ "
        f"({plan.workers} server processes)",
        file=sys.stderr,
        flush=True,
    )
    supervisor = Multiprocess(config, sockets=[listening])
    supervisor.run()
    if any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes):
        sys.exit(STARTUP_FAILURE)  # uvicorn logged which worker, and why
