"""Exports for analysts (pure, no I/O): observables from simple STIX patterns, whether an
indicator may feed automated blocking or detection, and the writers of each export format.

``exchange.sharing.exports`` strings these together over the store; HTTP and the command line
only ask for an export and pass its bytes on.
"""

from __future__ import annotations

__all__: list[str] = []
