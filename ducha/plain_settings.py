"""The settings a read command needs, read without pydantic when nothing could fail to validate.

``ducha.config.Settings`` validates every ``DUCHA_*`` variable with pydantic, which costs a read
command (``ducha projects``) a tenth of its start-up. Most variables are plain text or paths, which
validate whatever they hold: when only those are set, their values are read here as they are. When
any other is set (a number, a pattern, JSON), ``plain_settings`` answers None and the caller reads
the settings with pydantic, which says what is wrong with them. A test keeps ``PLAIN`` and the
defaults equal to the fields of ``Settings``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

PREFIX = "DUCHA_"
# The fields of ducha.config.Settings that take any text (str, a path, either or None): name -> default.
PLAIN: dict[str, str | None] = {
    "database_url": "sqlite:///./ducha.db",
    "now": None,
    "holiday_dir": None,
    "evidence_dir": "evidence",
    "error_log": "ducha-errors.log",
    "smtp_url": None,
    "mail_from": "ducha@localhost",
    "channels_file": None,
    "channels": None,
    "template_dir": None,
    "public_url": None,
    "audit_key": "ducha-audit.key",
    "audit_cosign_key": None,
    "audit_rules": None,
}
# The fields whose values are checked (numbers, patterns, JSON).
CHECKED = (
    "evidence_max_bytes",
    "rectification_days",
    "quiet_hours",
    "notice_attempts",
    "ack_working_hours",
    "session_idle_minutes",
    "session_hours",
    "totp_roles",
    "api_token_days",
    "approval_threshold",
    "oc4ids_prefix",
)


def plain_settings(environ: Mapping[str, str] | None = None) -> dict[str, str | None] | None:
    """The plain settings' values (text as given, else the default), or None if a checked one is set."""
    source = os.environ if environ is None else environ
    if any(PREFIX + name.upper() in source for name in CHECKED):
        return None
    return {name: source.get(PREFIX + name.upper(), default) for name, default in PLAIN.items()}
