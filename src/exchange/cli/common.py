"""What every command shares: settings, opening the hub, printing, turning errors into exits."""

from __future__ import annotations

import functools
import getpass
import sys
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import click
import orjson

from exchange.app import build_hub
from exchange.errors import ExchangeError
from exchange.settings import Settings
from exchange.sharing.service import Hub

__all__ = ["emit_json", "fail_cleanly", "open_hub", "operator", "settings_from"]

P = ParamSpec("P")
R = TypeVar("R")


def settings_from(ctx: click.Context) -> Settings:
    """The settings the top-level options and environment give."""
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


def open_hub(ctx: click.Context, *, create: bool = False) -> Hub:
    """The hub service over the configured store, closed when the command ends."""
    hub = build_hub(settings_from(ctx), create=create)
    ctx.call_on_close(hub.close)
    return hub


def emit_json(document: Any) -> None:
    """Print JSON for scripts."""
    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())


def fail_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Report hub errors as one line on stderr and exit 1, instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ExchangeError as exc:
            click.echo(f"error: {exc.diagnostics()}", err=True)
            sys.exit(1)

    return wrapper


def operator() -> str:
    """How changes made from the command line name their actor: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
