"""The audit log's error leaf.

Everything in :mod:`exchange.audit` raises :class:`AuditError` for bad input (a proof asked for
an index outside the tree, a malformed accumulator state, an event that is not canonical JSON).
Failed *verification* is never an exception: the ``verify_*`` functions answer ``False`` or a
:class:`~exchange.audit.verify.Verdict`.
"""

from __future__ import annotations

from exchange.errors import ExchangeError

__all__ = ["AuditError"]


class AuditError(ExchangeError):
    """Input the audit log cannot act on."""

    title = "Audit log error"
