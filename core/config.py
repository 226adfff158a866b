"""Settings, read once from the environment (and a development secret kept under .data/)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting the platform reads; the README's configuration table mirrors this class."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1, le=64)
    database_url: str | None = None
    # The server's own login (role supervisor_app, made by the migrations): unset, DATABASE_URL
    # with that login in place of its own and no password.
    app_database_url: str | None = None
    secret_key: str | None = None
    field_key: str | None = None
    cert_signing_seed: str | None = None
    demo_password: str = "demo-pass-2020"  # noqa: S105 -- the documented demo password
    data_dir: Path = ROOT / ".data"
    access_token_ttl: int = Field(default=900, ge=60, le=900)
    refresh_token_ttl: int = Field(default=30 * 24 * 3600, ge=3600)
    max_body_bytes: int = 1_000_000
    db_pool_size: int = 10
    statement_timeout_ms: int = Field(default=15_000, ge=100)  # PostgreSQL cancels longer ones
    request_timeout_s: float = Field(default=30.0, gt=0)  # GraphQL requests answer 504 after
    # The reverse proxies in front of the server (addresses or networks, comma-separated; `*`
    # any): from them the client's address is the one X-Forwarded-For gives (per-address rate
    # limits, the audit trail). Unset: the connecting address, which no header can change.
    forwarded_allow_ips: str | None = None
    # Browser origins (scheme://host[:port], comma-separated) whose pages may call the API:
    # office portals served from elsewhere. Unset: the API's own origin only.
    cors_origins: str | None = None
    # Who may read /metrics in production: addresses or networks (comma-separated), and/or a
    # bearer token. Neither set: /metrics answers 404 in production (open in development).
    metrics_allow_ips: str | None = None
    metrics_token: str | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"

    def signing_key(self) -> str:
        """SECRET_KEY, or in development a key generated once and kept in .data/secret.key."""
        if self.secret_key:
            return self.secret_key
        if self.production:
            raise RuntimeError("SECRET_KEY must be set when ENV=production")
        path = self.data_dir / "secret.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
