"""No secret in a log line, an attempt row, JSON output or an error: one redactor for all of them.

The secrets are the channels file's values (robot tokens and signing secrets, gateway keys, SMTP
passwords) plus what looks like one in a URL (``access_token=``, ``key=``, a password in
``scheme://user:password@host``). A logging filter applies the redactor to every record, apprise's
included.
"""

import logging
import re
from collections.abc import Iterable

MASK = "***"
# Query parameters and URL parts that carry a credential whatever the service.
_URL_SECRETS = re.compile(
    r"(?P<name>access_token|accesstoken|token|key|secret|sign|signature|corpsecret|password|passwd)"
    r"=(?P<value>[^&\s\"'#]+)",
    re.IGNORECASE,
)
_USERINFO = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<password>[^@/\s]+)@", re.IGNORECASE
)


class Redactor:
    """Removes known secrets (at least 4 characters long) and URL credentials from text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secrets: Iterable[str]) -> None:
        self._secrets = sorted(
            set(self._secrets) | {s for s in secrets if s and len(s) >= 4}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        text = _URL_SECRETS.sub(lambda m: f"{m.group('name')}={MASK}", text)
        return _USERINFO.sub(lambda m: f"{m.group('scheme')}{m.group('user')}:{MASK}@", text)


_redactors: list[Redactor] = []
_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    if not _redactors:
        return record
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the message: logging reports that itself
        return record
    record.msg, record.args = redact_all(message), None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = redact_all(logging.Formatter().formatException(record.exc_info))
        record.exc_info = None
    return record


def redact_all(text: str) -> str:
    """``text`` with every installed redactor applied (what a log line, an attempt row, an error gets)."""
    for redactor in _redactors:
        text = redactor(text)
    return text


def install(redactor: Redactor) -> None:
    """Redact every log record from now on, whichever logger makes it and whichever handler
    writes it (apprise's and httpx's included): records are redacted as they are made."""
    if redactor not in _redactors:
        _redactors.append(redactor)
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)
