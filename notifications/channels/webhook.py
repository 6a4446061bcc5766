"""A generic webhook: the notice as JSON to the office's own receiver.

The POST carries ``Idempotency-Key: <message key>`` (the same notice sent twice has the same key: the
receiver drops the repeat) and ``X-Ducha-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>``.
The receiver's HTTP status is its answer:

* 2xx: accepted;
* 408, 429, 5xx: retry, after a numeric ``Retry-After`` when given;
* 401, 403, 404, 410: failed, for the admin (a wrong secret or URL); any other status: failed.
"""

import hashlib
import hmac
from collections.abc import Callable

import httpx

from notifications.channel_config import Webhook
from notifications.channels import http
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor

_ADMIN_STATUSES = frozenset({401, 403, 404, 410})


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: Webhook,
        redactor: Redactor,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, redactor, config.per_minute, client, clock)
        self._config = config

    def send(self, message: Message) -> Outcome:
        if refused := http.limited(self._limiter, self.name):
            return refused
        body = http.encode_json(
            {
                "key": message.key,
                "subject": message.subject,
                "text": message.text,
                "html": message.html,
                "to": {"name": message.to_name, "address": message.to_address},
            }
        )
        headers = {
            "Idempotency-Key": message.key,
            "X-Ducha-Signature": webhook_signature(self._config.secret, body),
        }
        response = http.post_json(self._http(), self._config.url, body, self._redact, headers)
        if isinstance(response, Outcome):
            return response
        detail = f"HTTP {response.status_code}: {http.snippet(response, self._redact)}"
        if response.is_success:
            return Outcome.accepted(detail)
        if http.is_temporary(response):
            return Outcome.retry(detail, after=http.retry_after(response))
        return Outcome.failed(detail, tell_admin=response.status_code in _ADMIN_STATUSES)
