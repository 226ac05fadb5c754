"""Where the project and the shared STIX data are."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
CONFIG_DIR = PROJECT / "config"
SHARED_DATA = Path(os.environ.get("EXCHANGE_SHARED_DATA", PROJECT.parent / "shared" / "data"))
STIX_DATA = SHARED_DATA / "stix"
