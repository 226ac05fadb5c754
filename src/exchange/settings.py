"""Settings, from the environment (``EXCHANGE_`` prefix) with safe defaults.

No module-level instance: ``Settings()`` is built by the command line or by tests and handed to
``create_app``. Secrets never live here or in ``config/``: the hub's own secrets (the cursor key)
are made by ``exchange init`` and kept in the store.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    """Everything the hub can be told; each field is also ``EXCHANGE_<NAME>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="EXCHANGE_", extra="ignore")

    data_dir: Path = Field(
        default=Path("var"),
        description="Directory of the embedded store (SQLite database `exchange.db`).",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "PostgreSQL database of the store, shared by every hub node "
            "(postgresql://user@host:5432/name; add ?options=-csearch_path%3Dschema for a "
            "schema other than public). Default: SQLite in the data directory."
        ),
    )
    database_replica_url: str | None = Field(
        default=None,
        description=(
            "A streaming replica of the PostgreSQL database; this node then reads object pages "
            "(what analysts pull) from it. Everything else, and every write, uses the primary."
        ),
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Most PostgreSQL connections one hub process keeps open.",
    )
    config_dir: Path = Field(
        default=Path("config"),
        description="Directory of declarative settings (member countries, ...).",
    )
    public_url: str | None = Field(
        default=None,
        description=(
            "Base URL clients use to reach the hub (e.g. https://hub.example.org), used in "
            "discovery. Default: taken from each request's Host."
        ),
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="Largest request body accepted; bigger bodies get 413.",
    )
    max_objects_per_envelope: int = Field(
        default=10_000, ge=1, description="Most objects one POSTed envelope may carry."
    )
    default_page_size: int = Field(
        default=100, ge=1, description="Objects per page when the client gives no `limit`."
    )
    max_page_size: int = Field(
        default=1000,
        ge=1,
        description="Largest page served; a bigger `limit` is lowered to this (TAXII 2.1 3.4.2).",
    )

    signature_max_skew_seconds: int = Field(
        default=300,
        ge=1,
        description=(
            "How far a signature's `created` may be from the hub's clock, either way; nonces "
            "are remembered for this long (replay protection)."
        ),
    )

    maintenance_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often the server releases ended embargoes and purges expired objects.",
    )
    response_key_check_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How often each server process re-reads the hub's response-signing key, so a "
            "rotation (`exchange hub-key rotate`) reaches it within this time."
        ),
    )

    @property
    def database_path(self) -> Path:
        """The SQLite database file inside the data directory."""
        return self.data_dir / "exchange.db"

    @property
    def store_url(self) -> str:
        """The store's database: the PostgreSQL URL, or the SQLite file's URL."""
        return self.database_url or f"sqlite:///{self.database_path}"
