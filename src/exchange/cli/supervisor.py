"""The parent process of ``exchange serve --workers N`` (see exchange.cli.server_config)."""

from __future__ import annotations

from exchange.cli.server_config import ServerPlan, serve_supervised


def main() -> None:
    serve_supervised(ServerPlan.handed_over())


if __name__ == "__main__":
    main()
