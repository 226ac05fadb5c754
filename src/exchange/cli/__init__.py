"""The ``exchange`` command line: one group, one module per area."""

from __future__ import annotations

from exchange.cli.main import main

__all__ = ["main"]
