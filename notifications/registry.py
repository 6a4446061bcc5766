"""The channels of one installation, built from its settings and its channels file, by address."""

from __future__ import annotations

from pathlib import Path

from notifications.channel_config import ChannelsFile, load_channels
from notifications.channels.base import Channel, Message, Outcome
from notifications.redact import Redactor, install


class Unconfigured:
    """A channel a person's address names that the installation does not have: fails, tells the admin."""

    def __init__(self, name: str, why: str) -> None:
        self.name, self.why = name, why

    def send(self, message: Message) -> Outcome:
        return Outcome.failed(self.why, tell_admin=True)


class Channels:
    """Channels by the name a notice gives (``email``, ``dingtalk:town-east``, ``wecom-app:district``)."""

    def __init__(
        self,
        *,
        smtp_url: str | None = None,
        mail_from: str = "ducha@localhost",
        config: ChannelsFile | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.config = config or ChannelsFile()
        self.redactor = redactor or Redactor()
        self.redactor.add(self.config.secrets())
        self.smtp_url, self.mail_from = smtp_url, mail_from
        if smtp_url:
            from notifications.channels.email import SmtpServer

            server = SmtpServer.parse(smtp_url)
            self.redactor.add([s for s in (server.password,) if s])
        install(self.redactor)
        self._built: dict[str, Channel] = {}

    @classmethod
    def from_settings(
        cls, *, smtp_url: str | None, mail_from: str, channels_file: Path | None, channels: str | None
    ) -> Channels:
        return cls(smtp_url=smtp_url, mail_from=mail_from, config=load_channels(channels_file, channels))

    def get(self, name: str) -> Channel:
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str) -> Channel:
        kind, _, label = name.partition(":")
        config = self.config
        if kind == "email":
            if not self.smtp_url:
                return Unconfigured(name, "no mail server: set DUCHA_SMTP_URL")
            from notifications.channels.email import EmailChannel, SmtpServer

            return EmailChannel(SmtpServer.parse(self.smtp_url), self.mail_from, self.redactor)
        missing = Unconfigured(name, f"no channel {name!r} in the channels file (DUCHA_CHANNELS_FILE)")
        if kind == "dingtalk" and label in config.dingtalk:
            from notifications.channels.dingtalk import DingTalkChannel

            return DingTalkChannel(name, config.dingtalk[label], self.redactor)
        if kind == "wecom" and label in config.wecom:
            from notifications.channels.wecom import WeComRobotChannel

            return WeComRobotChannel(name, config.wecom[label], self.redactor)
        if kind == "wecom-app" and label in config.wecom_app:
            from notifications.channels.wecom import WeComAppChannel

            return WeComAppChannel(name, config.wecom_app[label], self.redactor)
        if kind == "feishu" and label in config.feishu:
            from notifications.channels.feishu import FeishuChannel

            return FeishuChannel(name, config.feishu[label], self.redactor)
        if kind == "webhook" and label in config.webhook:
            from notifications.channels.webhook import WebhookChannel

            return WebhookChannel(name, config.webhook[label], self.redactor)
        if kind == "sms" and label in config.sms:
            from notifications.channels.sms import SmsChannel

            return SmsChannel(name, config.sms[label], self.redactor)
        if kind == "apprise" and label in config.apprise:
            from notifications.channels.apprise_channel import AppriseChannel

            return AppriseChannel(name, config.apprise[label], self.redactor)
        return missing

    def close(self) -> None:
        """End a batch: close what holds a connection (the SMTP session)."""
        for channel in self._built.values():
            closing = getattr(channel, "close", None)
            if callable(closing):
                closing()
