"""Settings, from the environment (``EXCHANGE_`` prefix) with safe defaults.

No module-level instance: ``Settings()`` is built by the command line or by tests and handed to
``create_app``. Secrets never live here or in ``config/``: the hub's own secrets (the cursor key)
are made by ``exchange init`` and kept in the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
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
    tls_cert_file: Path | None = Field(
        default=None,
        description=(
            "The server's TLS certificate (PEM, followed by any intermediate certificates); "
            "`exchange serve` then speaks HTTPS only. Default: plain HTTP."
        ),
    )
    tls_key_file: Path | None = Field(
        default=None,
        description="The TLS certificate's private key (PEM). Default: in the certificate file.",
    )
    tls_key_password: SecretStr | None = Field(
        default=None,
        description="Password of an encrypted TLS key (environment only, never an option).",
    )
    tls_client_ca_file: Path | None = Field(
        default=None,
        description="CA certificates (PEM) that client certificates must chain to (mTLS).",
    )
    tls_client_cert: Literal["none", "optional", "required"] = Field(
        default="none",
        description=(
            "Client certificates: `none` asks for none; `optional` checks one against the "
            "client CA when sent; `required` refuses the TLS handshake without a valid one. "
            "A certificate only admits the connection: the account is still the token's."
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
    max_nesting_depth: int = Field(
        default=64,
        ge=2,
        le=254,
        description=(
            "Deepest nesting of arrays and objects in one POSTed object (`{}` is one level); a "
            "deeper object is refused in the status resource, an envelope nested deeper outside "
            "its objects gets 400. Real STIX nests a handful of levels; 254 is the most the "
            "hub can store."
        ),
    )
    default_page_size: int = Field(
        default=100, ge=1, description="Objects per page when the client gives no `limit`."
    )
    max_page_size: int = Field(
        default=1000,
        ge=1,
        description="Largest page served; a bigger `limit` is lowered to this (TAXII 2.1 3.4.2).",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description=(
            "`exchange serve`: time a client has, from opening a connection (or the end of the "
            "previous response on it), to send a request's headers; then 408 and the connection "
            "is closed. Bounds idle connections and clients that send headers slowly."
        ),
    )
    body_timeout_seconds: float = Field(
        default=120.0,
        gt=0,
        le=3600,
        description=(
            "`exchange serve`: time a client has, once its headers are in, to send the whole "
            "body; then 408 and the connection is closed (a 16 MiB body at this default needs "
            "about 140 KB/s)."
        ),
    )
    keep_alive_seconds: int = Field(
        default=5,
        gt=0,
        le=3600,
        description="`exchange serve`: how long an idle keep-alive connection stays open.",
    )
    max_header_bytes: int = Field(
        default=64 * 1024,
        ge=4096,
        le=16 * 1024 * 1024,
        description=(
            "`exchange serve`: largest request line and headers taken; more get 431 and the "
            "connection is closed."
        ),
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description=(
            "`exchange serve`: most connections (and requests in progress) one process serves "
            "at once; beyond it new requests get 503."
        ),
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description=(
            "`exchange serve`: server processes sharing the listening port, one per CPU core "
            "at most. Each has its own memory (about 100-170 MiB on SQLite), store connections and "
            "authentication throttle; SQLite and PostgreSQL stores both take several."
        ),
    )

    signature_max_skew_seconds: int = Field(
        default=300,
        ge=1,
        description=(
            "How far a signature's `created` may be from the hub's clock, either way; nonces "
            "are remembered for this long (replay protection)."
        ),
    )

    rate_limit_per_minute: int = Field(
        default=6000,
        ge=0,
        le=10_000_000,
        description=(
            "Requests one credential may make per minute on each hub node, after "
            "authentication; more get 429 with Retry-After. 0 disables the limit."
        ),
    )
    rate_limit_burst: int = Field(
        default=3000,
        ge=1,
        le=10_000_000,
        description="Requests one credential may make at once before the per-minute rate applies.",
    )
    auth_failures_before_lockout: int = Field(
        default=10,
        ge=0,
        le=1_000_000,
        description=(
            "Wrong secrets for one credential id (distinct tokens, within `auth_lockout_seconds`) "
            "after which that id is locked out on this node: 429 with Retry-After, checked "
            "before any hash. 0 disables it."
        ),
    )
    auth_address_failures_before_lockout: int = Field(
        default=50,
        ge=0,
        le=1_000_000,
        description=(
            "Failed attempts (wrong secrets and unknown credential ids, distinct tokens) from one "
            "client address (an IPv6 /64) after which it is locked out on this node. 0 disables it."
        ),
    )
    auth_lockout_seconds: int = Field(
        default=300,
        ge=1,
        le=86_400,
        description="How long a lockout lasts, and the window in which failures are counted.",
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
