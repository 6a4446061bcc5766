"""Settings from the environment (``DUCHA_*``), built on demand, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """What an installation can configure."""

    model_config = SettingsConfigDict(env_prefix="DUCHA_", extra="ignore")

    database_url: str = "sqlite:///./ducha.db"
    # ISO 8601 instant that freezes "now" for simulation, e.g. 2026-12-10T09:00+08:00.
    now: str | None = None
    # Extra holiday files (YYYY.yaml) for the working-day calendar; they win over the built-in ones.
    holiday_dir: Path | None = None
    # Content-addressed store of inspection and order evidence (photos, scans).
    evidence_dir: Path = Path("./evidence")
    evidence_max_bytes: int = 20 * 1024 * 1024
    # Working days to fix a finding, by severity; e.g. DUCHA_RECTIFICATION_DAYS='{"critical": 3}'.
    rectification_days: dict[str, int] = {"critical": 5, "major": 10, "minor": 20}


def get_settings() -> Settings:
    """Read the settings from the environment as it is now."""
    return Settings()
