"""``python -m exchange.cli``: the ``exchange`` command."""

from __future__ import annotations

from exchange.cli.main import main

main()
