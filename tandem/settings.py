"""Settings read from TANDEM_* environment variables (SPEC §5)."""

import os
import secrets
import time
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SECRET_FILE = ".tandem-secret"


class SettingsError(Exception):
    """Raised when the settings cannot be used to start Tandem."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///tandem.db"
    smtp_url: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr | None = None
    collective_delay_seconds: int = Field(120, ge=0)
    auto_cancel_after_seconds: int = Field(1_209_600, ge=0)
    checkout_reservation_seconds: int = Field(600, ge=1)
    worker_poll_seconds: float = Field(1.0, gt=0)
    # How long a job a worker claimed stays its own without news; the worker's heartbeat renews
    # it every second while it works, so a killed worker's jobs are taken over within this time.
    worker_lease_seconds: float = Field(30.0, ge=5, le=3600)
    webhook_allow_private_addresses: bool = False
    authorization_expiry_seconds: int = Field(7 * 24 * 3600, ge=1)
    database_pool_size: int = Field(10, ge=1)
    # The worker's CPU priority (nice): it yields to the API, so a burst of orders is not slowed
    # by its own confirmation emails (they go out as soon as the burst leaves CPU to spare).
    worker_nice: int = Field(10, ge=0, le=19)
    # The built-in test gateway answers after this delay, as a remote provider would.
    test_gateway_latency_ms: float = Field(0.0, ge=0, le=60_000)
    # `json`: one JSON object per log line, and one per HTTP request (with its X-Request-ID).
    log_format: Literal["text", "json"] = "text"
    # Proxies whose X-Forwarded-For/-Proto `tandem serve` believes (uvicorn's forwarded_allow_ips:
    # comma-separated addresses or networks, "*" for any). Unset: uvicorn's default, 127.0.0.1.
    forwarded_allow_ips: str | None = None
    # Requests with a larger body are refused (413) before it is read.
    max_body_bytes: int = Field(1_048_576, ge=1024)
    # Rate limits ("N/second|minute|hour|day", several separated by ";"), counted in
    # rate_limit_storage_uri (memory:// is per process; redis://... is shared by processes).
    login_rate_limit: str = "5/minute;30/hour"  # failed sign-ins per account (or per link)
    login_address_rate_limit: str = "20/minute;200/hour"  # failed sign-ins per client address
    api_rate_limit: str | None = None  # calls per API token, e.g. "100/second"; off by default
    rate_limit_storage_uri: str = "memory://"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
            raise ValueError("TANDEM_DATABASE_URL must be a sqlite: or postgresql: URL")
        return url

    @field_validator("login_rate_limit", "login_address_rate_limit", "api_rate_limit")
    @classmethod
    def _rate_limit(cls, value: str | None) -> str | None:
        from limits import parse_many

        if not value or not value.strip():
            return None  # TANDEM_API_RATE_LIMIT="" is off, as unset
        parse_many(value)  # a ValueError naming what it could not read
        return value

    @field_validator("login_rate_limit", "login_address_rate_limit")
    @classmethod
    def _sign_ins_always_limited(cls, value: str | None) -> str:
        if value is None:
            raise ValueError("sign-in throttling cannot be turned off: give a limit such as 5/minute")
        return value

    @property
    def is_https(self) -> bool:
        return self.base_url.lower().startswith("https://")

    @model_validator(mode="after")
    def _real_secret_outside_development(self) -> "Settings":
        if self.env == "development":
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < 32:  # also refuses every well-known default ("changeme", "secret"...)
            raise SettingsError(
                f"TANDEM_SECRET_KEY must be set to a random value of at least 32 characters "
                f"when TANDEM_ENV={self.env}"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the driver SQLAlchemy should use."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    def secret(self) -> str:
        """The secret key; in development a missing one is generated and kept locally."""
        if self.secret_key:
            return self.secret_key.get_secret_value()
        path = Path(SECRET_FILE)
        try:  # created atomically: processes starting together end up with the same key
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
        for _ in range(50):
            if key := path.read_text().strip():
                return key
            time.sleep(0.01)  # another process created it and is writing it
        raise SettingsError(f"{SECRET_FILE} is empty")


def load_settings(**overrides) -> Settings:
    """Settings from the environment, with explicit overrides (used by the CLI and tests)."""
    return Settings(**overrides)
