"""Storage behind one protocol (``Store``); SQLite is the embedded default."""

from __future__ import annotations

from exchange.store.protocol import Store, Transaction

__all__ = ["Store", "Transaction"]
