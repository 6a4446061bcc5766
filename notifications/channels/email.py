"""E-mail through the standard library: ducha's own text and HTML parts, and a stable Message-ID.

``DUCHA_SMTP_URL`` says where: ``smtp://host:25``, ``smtp+starttls://user:pass@host:587`` or
``smtps://user:pass@host:465``; ``DUCHA_MAIL_FROM`` who sends. The Message-ID is derived from the
notice's idempotency key, so a mail sent twice (a dispatcher that died after sending, before
recording it) is recognisably the same mail. The SMTP server's answer decides the outcome: a 5xx
refusal is permanent, a 4xx or a lost connection is retried.
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from dataclasses import dataclass
from email.encoders import encode_base64
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.message import Message as MimeMessage
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr
from urllib.parse import unquote, urlsplit

from models.errors import BadInput
from notifications.channels.base import Message, Outcome
from notifications.redact import Redactor

# How a mail is written on the wire: the compat32 policy with CRLF line ends (what smtplib sends).
_WIRE = compat32.clone(linesep="\r\n")
# An address the fast path writes as it is: no space, no control character, one @.
_ADDRESS = re.compile(r"^[^@\s\x00-\x1f\x7f<>,;\"]+@[^@\s\x00-\x1f\x7f<>,;\"]+$")


@dataclass(frozen=True)
class Mail:
    """A composed mail and whom it goes to (the envelope recipient)."""

    message: MimeMessage
    to: str
    # An address the fast path does not write (outside ASCII, or odd): the modern API writes it
    # (with SMTPUTF8) or refuses it.
    modern: bool = False


def _put(mail: MimeMessage, name: str, value: str | Header) -> None:
    """Set a header; compat32 writes a ``Header`` as RFC 2047 encoded words (typeshed says str only)."""
    mail[name] = value  # type: ignore[assignment]


def _one_line(text: str) -> str:
    """A header's text on one line: a control character in a name or subject becomes a space."""
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text)


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
        name, self.address = parseaddr(sender)
        self.from_header = formataddr((name, self.address), "utf-8") if name else self.address
        self.domain = self.address.rpartition("@")[2] or "ducha.localhost"
        # One connection for a dispatcher's batch, opened on the first mail, closed by close().
        self._client: smtplib.SMTP | None = None

    def compose(self, message: Message) -> Mail:
        """The mail: multipart/alternative (text, HTML), in multipart/mixed with the attachments.

        Built with the e-mail package's MIME classes and its compat32 policy: the modern
        ``EmailMessage`` parses every header as it is set and again as it is written, which on this
        kind of machine costs more than the SMTP exchange itself (bench/notice_bench.py). An address
        outside ASCII needs SMTPUTF8, which only the modern API writes, and one that is not plainly
        well formed is left to its checks: such a mail is built by it.
        """
        to = message.to_address
        if to is None:
            raise ValueError("an e-mail needs an address")
        if not (_ADDRESS.match(to) and self.address.isascii() and to.isascii()):
            return Mail(self._compose_modern(message), to, modern=True)
        body: MIMEBase = MIMEMultipart("alternative")
        body.attach(MIMEText(message.text, "plain", "utf-8"))
        body.attach(MIMEText(message.html, "html", "utf-8"))
        if message.attachments:
            mixed = MIMEMultipart("mixed")
            mixed.attach(body)
            for attachment in message.attachments:
                maintype, _, subtype = attachment.content_type.partition("/")
                part = MIMEBase(maintype, subtype)
                part.set_payload(attachment.data)
                encode_base64(part)
                name = ("utf-8", "", attachment.filename)
                part.add_header("Content-Disposition", "attachment", filename=name)
                mixed.attach(part)
            body = mixed
        _put(body, "Subject", Header(_one_line(message.subject), "utf-8"))
        body["From"] = self.from_header
        body["To"] = formataddr((_one_line(message.to_name), to), "utf-8")
        body["Date"] = formatdate(localtime=False)
        body["Message-ID"] = message_id(message.key, self.domain)
        _put(body, "X-Ducha-Key", message.key if message.key.isascii() else Header(message.key, "utf-8"))
        return Mail(body, to)

    def _compose_modern(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = Address(display_name=message.to_name, addr_spec=message.to_address or "")
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

    def _deliver(self, mail: Mail) -> dict[str, tuple[int, bytes]]:
        if self._client is not None:
            try:
                return self._transmit(self._client, mail)
            except smtplib.SMTPServerDisconnected:  # an idle connection the server closed: once more
                self._drop()
        self._client = self._connect()
        return self._transmit(self._client, mail)

    def _transmit(self, client: smtplib.SMTP, mail: Mail) -> dict[str, tuple[int, bytes]]:
        if mail.modern:
            return client.send_message(mail.message)
        return client.sendmail(self.address, [mail.to], mail.message.as_bytes(policy=_WIRE))

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
