"""E-mail through the standard library: ducha's own text and HTML parts, and a stable Message-ID.

``DUCHA_SMTP_URL`` says where: ``smtp://host:25``, ``smtp+starttls://user:pass@host:587`` or
``smtps://user:pass@host:465``; ``DUCHA_MAIL_FROM`` who sends. The Message-ID is derived from the
notice's idempotency key, so a mail sent twice (a dispatcher that died after sending, before
recording it) is recognisably the same mail. The SMTP server's answer decides the outcome: a 5xx
refusal is permanent, a 4xx or a lost connection is retried.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

from models.errors import BadInput
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # "none", "starttls", "tls"
    user: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        schemes = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
        if parts.scheme not in schemes or not parts.hostname:
            raise BadInput(
                "DUCHA_SMTP_URL: give smtp://host:25, smtp+starttls://user:pass@host:587 or "
                "smtps://user:pass@host:465"
            )
        security, default_port = schemes[parts.scheme]
        try:
            port = parts.port or default_port
        except ValueError:
            raise BadInput("DUCHA_SMTP_URL: the port is not a number") from None
        user = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        return cls(parts.hostname, port, security, user, password)


def message_id(key: str, domain: str) -> str:
    """The Message-ID of a notice: the same key, the same id."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


class EmailChannel:
    name = "email"

    def __init__(self, server: SmtpServer, sender: str, redactor: Redactor, *, timeout: float = 20) -> None:
        self.server, self.sender, self.redactor, self.timeout = server, sender, redactor, timeout
        self.domain = sender.rpartition("@")[2] or "ducha.localhost"
        # One connection for a dispatcher's batch, opened on the first mail, closed by close().
        self._client: smtplib.SMTP | None = None

    def compose(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        if message.to_address is None:
            raise ValueError("an e-mail needs an address")
        mail["To"] = Address(display_name=message.to_name, addr_spec=message.to_address)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.key, self.domain)
        mail["X-Ducha-Key"] = message.key
        mail.set_content(message.text, charset="utf-8")
        mail.add_alternative(message.html, subtype="html", charset="utf-8")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            mail.add_attachment(
                attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        return mail

    def send(self, message: Message) -> Outcome:
        if not message.to_address:
            return Outcome.failed("no e-mail address")
        try:
            mail = self.compose(message)
        except (ValueError, IndexError) as exc:  # an address the e-mail library cannot write
            return Outcome.failed(f"cannot write an e-mail to {message.to_address!r}: {exc}")
        try:
            refused = self._deliver(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return self._answer(exc.recipients)
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            return Outcome.retry(self.redactor(f"the server closed the connection: {exc}"))
        except smtplib.SMTPResponseException as exc:
            code, text = exc.smtp_code, _text(exc.smtp_error)
            detail = self.redactor(f"{code} {text}")
            if 500 <= code < 600:
                return Outcome.failed(f"the server refused: {detail}", tell_admin=code in (530, 534, 535))
            return Outcome.retry(f"the server said {detail}")
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            self._drop()
            return Outcome.retry(self.redactor(f"{type(exc).__name__}: {exc}"))
        if refused:
            return self._answer(refused)
        return Outcome.accepted(f"accepted by {self.server.host}:{self.server.port}")

    def _answer(self, refused: dict[str, tuple[int, bytes]]) -> Outcome:
        code, text = next(iter(refused.values()))
        detail = self.redactor(f"{code} {_text(text)}")
        if 500 <= code < 600:
            return Outcome.failed(f"the recipient was refused: {detail}")
        return Outcome.retry(f"the recipient was deferred: {detail}")

    def _deliver(self, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
        if self._client is not None:
            try:
                return self._client.send_message(mail)
            except smtplib.SMTPServerDisconnected:  # an idle connection the server closed: once more
                self._drop()
        self._client = self._connect()
        return self._client.send_message(mail)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        client: smtplib.SMTP
        if server.security == "tls":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        try:
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if server.user:
                client.login(server.user, server.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def close(self) -> None:
        """End the batch: say goodbye to the server."""
        if self._client is not None:
            try:
                self._client.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                self._client = None


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
