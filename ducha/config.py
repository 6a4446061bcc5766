"""Settings from the environment (``DUCHA_*``), read on demand, never at import time."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.errors import BadInput

PREFIX = "DUCHA_"


class Settings(BaseModel):
    """What an installation can configure; each field is the variable DUCHA_<FIELD NAME>."""

    model_config = ConfigDict(extra="forbid")

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
    # Notices. E-mail: smtp://host:25, smtp+starttls://user:pass@host:587, smtps://user:pass@host:465.
    smtp_url: str | None = None
    mail_from: str = "ducha@localhost"
    # Named robots, gateways and apprise targets with their secrets (YAML); or the same as JSON.
    channels_file: Path | None = None
    channels: str | None = None
    # An office's own versions of the notice templates: <lang>/<name>.j2 wins over the built-in one.
    template_dir: Path | None = None
    # Chat and SMS wait for the next working morning inside these hours (local time), escalations not.
    quiet_hours: str = Field(default="22:00-07:30", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    # Tries on one channel before a notice is a dead letter and falls back to the next channel.
    notice_attempts: int = Field(default=5, ge=1, le=50)
    # Working hours (08:30–17:30 of working days) an escalation (督办) may wait for its acknowledgement
    # before it is sent again.
    ack_working_hours: int = Field(default=4, ge=1, le=200)
    # The web (ducha serve). A session ends after this long without a request, and at the latest
    # this long after the login, however busy.
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_hours: int = Field(default=12, ge=1, le=24 * 30)
    # Roles whose logins must give a TOTP code (comma-separated, e.g. "office,admin,auditor").
    totp_roles: str = Field(default="", pattern=r"^[a-z, ]*$")
    # How long a bearer token made by `ducha users token` lives unless told (days).
    api_token_days: int = Field(default=90, ge=1, le=3650)
    # The address people reach ducha at (links in calendar feeds and notices), e.g. https://ducha.example.gov.cn.
    public_url: str | None = None
    # The office's Ed25519 key that signs the fund ledger's checkpoints (made by `ducha audit keygen`),
    # and optionally a second key that co-signs them (the audit bureau's).
    audit_key: Path = Path("./ducha-audit.key")
    audit_cosign_key: Path | None = None
    # A payment at or above this many yuan needs an approved commitment (funds commit), not a spend.
    approval_threshold: str = Field(default="10000.00", pattern=r"^\d{1,15}(\.\d{1,2})?$")
    # The office's own audit rules file (YAML): each rule it names replaces the shipped versions of it.
    audit_rules: Path | None = None
    # The project identifier prefix the Open Contracting Partnership registered for the publisher
    # (oc4ids-<6 letters or digits>-); OC4IDS project ids are it, then <programme id>-<project code>.
    oc4ids_prefix: str = Field(default="oc4ids-000000-", pattern=r"^oc4ids-[a-z0-9]{6}-$")


def get_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment as it is now; a bad value names its variable."""
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        variable = PREFIX + name.upper()
        raw = source.get(variable)
        if raw is None:
            continue
        if get_origin(field.annotation) is dict:  # structured values are JSON, as documented
            try:
                values[name] = json.loads(raw)
            except ValueError as exc:
                raise BadInput(f"{variable}: not JSON ({exc})") from None
        else:
            values[name] = raw
    try:
        return Settings(**values)
    except ValidationError as exc:
        problems = [
            f"{PREFIX}{str(error['loc'][0]).upper()}: {error['msg']}" if error["loc"] else error["msg"]
            for error in exc.errors()
        ]
        raise BadInput("; ".join(problems)) from None
