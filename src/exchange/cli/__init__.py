"""The ``exchange`` command line: one group (``exchange.cli.main``), one module per area."""
