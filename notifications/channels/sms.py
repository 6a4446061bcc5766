"""An SMS gateway (the government's or a vendor's relay): a registered template and its parameters.

The POST carries ``Authorization: Bearer <key>`` and ``Idempotency-Key: <message key>``. ducha's
template name maps to the gateway's template code (``templates`` in the channels file): a template
with no code, or a person with no phone, fails for the admin before anything is sent. The gateway's
answer:

* HTTP 2xx with ``{"code": 0}`` or ``{"code": "OK"}``: accepted;
* HTTP 408, 429, 5xx, or a network error: retry (after a numeric ``Retry-After``); a 2xx that is not
  JSON or carries no code: retry (an unknown answer is never accepted);
* HTTP 401, 403 (the key is refused): failed, for the admin; any other code: failed.
"""

from collections.abc import Callable

import httpx

from notifications.channel_config import SmsGateway
from notifications.channels import http
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor


class SmsChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: SmsGateway,
        redactor: Redactor,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, redactor, config.per_minute, client, clock)
        self._config = config

    def send(self, message: Message) -> Outcome:
        code = self._config.templates.get(message.template)
        if code is None:
            return Outcome.failed(
                f"{self.name}: no gateway template for {message.template!r}", tell_admin=True
            )
        if not message.to_address:
            return Outcome.failed(f"{self.name}: the person has no phone number", tell_admin=True)
        if refused := http.limited(self._limiter, self.name):
            return refused
        payload = {"phone": message.to_address, "template": code, "params": message.params}
        headers = {"Authorization": f"Bearer {self._config.key}", "Idempotency-Key": message.key}
        answer = self._post(self._config.url, payload, headers)
        if isinstance(answer, Outcome):
            return answer
        said = answer.body.get("code")
        detail = self._redact(f"sms HTTP {answer.status} code {said!r}: {answer.body.get('message', '')}")
        if "code" not in answer.body and answer.success:
            return Outcome.retry(f"unknown answer, no code: {detail}")
        if answer.success and (said == "OK" or (said == 0 and not isinstance(said, bool))):
            return Outcome.accepted(detail)
        return Outcome.failed(detail, tell_admin=answer.status in (401, 403))
