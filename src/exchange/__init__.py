"""exchange: a secure cyber-threat information exchange hub (TAXII 2.1, STIX 2.1)."""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
