"""A DingTalk group robot (自定义机器人): a markdown message to its webhook.

DingTalk answers HTTP 200 whatever happened; the body's ``errcode`` says what:

* 0: sent;
* 310000: the security settings refused it (sign not match, keyword not in content, IP not in the
  whitelist): failed, the admin must mend the robot's settings or the channels file;
* 300001, 300005, 400101, 400102: the token is missing or invalid, or the robot is stopped: failed,
  for the admin;
* 130101 (send too fast, over 20 a minute), 130102: retry after 60 s;
* -1 (system busy): retry; any other code: failed.

With a ``secret`` (加签) the URL carries ``timestamp`` (ms) and ``sign`` = URL-encoded
base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")); DingTalk refuses a timestamp over an hour old.
"""

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Callable

import httpx

from notifications.channel_config import DingTalk
from notifications.channels import http
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor

TEXT_LIMIT = 20_000  # bytes of markdown text DingTalk takes
_ADMIN = frozenset({310000, 300001, 300005, 400101, 400102})
_SLOW = frozenset({130101, 130102})


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query value for ``timestamp_ms`` (already URL-encoded)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


class DingTalkChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: DingTalk,
        redactor: Redactor,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock_ms: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(name, redactor, config.per_minute, client, clock)
        self._config = config
        self._wall_clock_ms = wall_clock_ms or http.wall_clock_ms

    def _url(self) -> str:
        if not self._config.secret:
            return self._config.webhook
        timestamp = self._wall_clock_ms()
        joiner = "&" if "?" in self._config.webhook else "?"
        sign = dingtalk_sign(self._config.secret, timestamp)
        return f"{self._config.webhook}{joiner}timestamp={timestamp}&sign={sign}"

    def send(self, message: Message) -> Outcome:
        if refused := http.limited(self._limiter, self.name):
            return refused
        text = http.truncate_bytes(f"#### {message.subject}\n\n{message.text}", TEXT_LIMIT)
        payload = {"msgtype": "markdown", "markdown": {"title": message.subject, "text": text}}
        answer = self._post(self._url(), payload)
        if isinstance(answer, Outcome):
            return answer
        code = http.int_code(answer.body, "errcode")
        detail = self._redact(f"dingtalk errcode {code}: {answer.body.get('errmsg', '')}")
        return http.judge(answer, code, detail, admin=_ADMIN, slow=_SLOW)
