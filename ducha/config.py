"""Settings from the environment (``DUCHA_*``), built on demand, never at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from models.errors import BadInput


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
    evidence_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    # Working days to fix a finding, by severity; e.g. DUCHA_RECTIFICATION_DAYS='{"critical": 3}'.
    rectification_days: dict[str, int] = {"critical": 5, "major": 10, "minor": 20}
    # Where an internal error's traceback goes (the screen only ever gets one line).
    error_log: Path = Path("./ducha-errors.log")


def get_settings() -> Settings:
    """Read the settings from the environment as it is now; a bad value names its variable."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = [
            f"DUCHA_{'_'.join(str(part) for part in error['loc'][:1]).upper()}: {error['msg']}"
            for error in exc.errors()
        ]
        raise BadInput("; ".join(problems)) from None
