"""Settings from the environment (``DUCHA_*``), built on demand, never at import time."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What an installation can configure."""

    model_config = SettingsConfigDict(env_prefix="DUCHA_", extra="ignore")

    database_url: str = "sqlite:///./ducha.db"
    # ISO 8601 instant that freezes "now" for simulation, e.g. 2026-12-10T09:00+08:00.
    now: str | None = None


def get_settings() -> Settings:
    """Read the settings from the environment as it is now."""
    return Settings()
