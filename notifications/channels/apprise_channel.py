"""Any other service, through apprise: one target URL per channel (``apprise: {ops: "tgram://…"}``).

apprise says only True or False: True is accepted ("apprise reported success"); False gives no
reason, so it is a retry; an exception is a retry with its (redacted) text. A URL apprise does not
understand fails, for the admin. The chat robots ducha has its own channels for (DingTalk, WeCom,
Feishu) should not be sent through apprise: its plugins count an HTTP 200 error body as success and
log their tokens at DEBUG.
"""

import apprise

from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor


class AppriseChannel:
    def __init__(self, name: str, url: str, redactor: Redactor) -> None:
        self.name = name
        self._redact = redactor
        # One Apprise object per target, so this target's own result is known.
        self._apprise = apprise.Apprise()
        self._understood = bool(self._apprise.add(url))

    def send(self, message: Message) -> Outcome:
        if not self._understood:
            return Outcome.failed(f"{self.name}: apprise does not understand the target URL", tell_admin=True)
        try:
            sent = self._apprise.notify(title=message.subject, body=message.text)
        except Exception as exc:  # a plugin's bug or an unexpected error: the channel never raises
            return Outcome.retry(self._redact(f"{self.name}: apprise raised {type(exc).__name__}: {exc}"))
        if sent:
            return Outcome.accepted("apprise reported success")
        return Outcome.retry(f"{self.name}: apprise reported failure (it gives no reason)")
