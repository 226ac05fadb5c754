"""What each server process of ``exchange serve --workers N`` builds for itself.

uvicorn's supervisor starts the workers with multiprocessing's *spawn*: each is a fresh
interpreter that receives the uvicorn Config pickled and imports the application by name
(``exchange.cli.server_config.APP_FACTORY``). The settings the command resolved (environment,
top-level options and serve's own options) reach the workers in a private environment variable,
as JSON of every field but the secrets: secret settings are read from the environment only,
and the workers inherit the environment as it is.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Final, get_args

import orjson
from fastapi import FastAPI
from pydantic import SecretBytes, SecretStr
from uvicorn.config import STARTUP_FAILURE

from exchange.app import create_app
from exchange.cli.memory import collect_less, limit_malloc_arenas
from exchange.errors import ExchangeError
from exchange.settings import Settings

__all__ = ["SETTINGS_VARIABLE", "create_worker_app", "hand_over", "handed_over"]

SETTINGS_VARIABLE: Final = "_EXCHANGE_WORKER_SETTINGS"

log = logging.getLogger("exchange")


def _is_secret(annotation: Any) -> bool:
    if annotation in (SecretStr, SecretBytes):
        return True
    return any(_is_secret(argument) for argument in get_args(annotation))


_SECRET_FIELDS: Final = {
    name for name, field in Settings.model_fields.items() if _is_secret(field.annotation)
}


def hand_over(settings: Settings) -> None:
    """Make ``settings`` (all but the secret fields) what the workers started from now on
    serve with."""
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json(exclude=_SECRET_FIELDS)


def handed_over() -> Settings:
    """In a worker: the settings the command handed over, with the secrets from the
    environment (values given here take precedence over the environment, as options do)."""
    handed = os.environ.get(SETTINGS_VARIABLE)
    if handed is None:
        raise RuntimeError(
            f"{SETTINGS_VARIABLE} is not set: worker processes are started by `exchange serve`"
        )
    fields: dict[str, Any] = orjson.loads(handed)
    return Settings(**fields)


def create_worker_app() -> FastAPI:
    """The application of one worker (uvicorn's app factory, called in the worker).

    A worker that cannot build it exits with uvicorn's start-up failure code, on which the
    supervisor stops the server instead of starting the worker again and again.
    """
    limit_malloc_arenas()
    try:
        app = create_app(handed_over())
        collect_less()
        return app
    except ExchangeError as exc:
        log.error("%s", exc.diagnostics())
    except Exception:
        log.exception("the server process could not start")
    sys.exit(STARTUP_FAILURE)
