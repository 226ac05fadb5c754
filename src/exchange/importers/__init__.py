"""Reading other TAXII servers' data files into plain records (pure: bytes in, records out).

Nothing here touches the store: the service layer (``exchange.sharing.service``) turns what a
parser returns into collections, placements and statuses.
"""

from __future__ import annotations
