"""A Feishu / Lark group robot (自定义机器人): a text message to its webhook.

Feishu answers ``{"code": …, "msg": …}`` (older robots ``{"StatusCode": …, "StatusMessage": …}``):

* 0: sent;
* 19021 (sign match fail, or the timestamp is over an hour off), 19024 (keyword not in content),
  19022 (IP not allowed): failed, the admin must mend the robot's security settings;
* 9499, 11232 (too many requests): retry after 60 s; -1: retry;
* any other code: failed.

With a ``secret`` the body carries ``timestamp`` (seconds, a string) and ``sign`` =
base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", message=b"")).
"""

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import httpx

from notifications.channel_config import Feishu
from notifications.channels import http
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor

TEXT_LIMIT = 18_000  # bytes: Feishu refuses a request body over 20 KB
_ADMIN = frozenset({19021, 19022, 19024})
_SLOW = frozenset({9499, 11232})


def feishu_sign(secret: str, timestamp: str) -> str:
    key = f"{timestamp}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


class FeishuChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: Feishu,
        redactor: Redactor,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
        wall_clock_ms: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(name, redactor, config.per_minute, client, clock)
        self._config = config
        self._wall_clock_ms = wall_clock_ms or http.wall_clock_ms

    def send(self, message: Message) -> Outcome:
        if refused := http.limited(self._limiter, self.name):
            return refused
        text = http.truncate_bytes(f"{message.subject}\n{message.text}", TEXT_LIMIT)
        payload: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if self._config.secret:
            timestamp = str(self._wall_clock_ms() // 1000)
            payload |= {"timestamp": timestamp, "sign": feishu_sign(self._config.secret, timestamp)}
        answer = self._post(self._config.webhook, payload)
        if isinstance(answer, Outcome):
            return answer
        code = http.int_code(answer.body, "code", "StatusCode")
        said = answer.body.get("msg", answer.body.get("StatusMessage", ""))
        detail = self._redact(f"feishu code {code}: {said}")
        return http.judge(answer, code, detail, admin=_ADMIN, slow=_SLOW)
