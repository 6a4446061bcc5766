"""The channels file: named robots, gateways and apprise targets with their credentials.

Credentials never sit in a person's row: a person's addresses name a channel (``dingtalk:town-east``,
``wecom-app:district/USERID``, ``apprise:ops``), and the secrets live here, in ``DUCHA_CHANNELS_FILE``
(YAML) or in ``DUCHA_CHANNELS`` (the same, as JSON, for a container's environment)::

    dingtalk:   {town-east: {webhook: "https://oapi.dingtalk.com/robot/send?access_token=…", secret: "SEC…"}}
    wecom:      {office: {webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"}}
    wecom-app:  {district: {corp_id: "…", secret: "…", agent_id: 1000002, base_url: "https://qyapi.weixin.qq.com"}}
    feishu:     {office: {webhook: "…", secret: "…"}}
    webhook:    {ops: {url: "…", secret: "…"}}
    sms:        {gov: {url: "…", key: "…", templates: {overdue: "SMS_1001"}}}
    apprise:    {ops: "tgram://…"}

A bad file is an error naming its line and field; ``secrets()`` lists every credential, for the
redactor.
"""

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from models.errors import BadInput
from models.yaml_source import YamlDocument, read_source_text

Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DingTalk(_Strict):
    webhook: Url
    secret: str | None = None  # 加签: "SEC…"
    per_minute: int = Field(default=20, ge=1, le=600)  # DingTalk allows 20 messages a minute per robot


class WeComRobot(_Strict):
    webhook: Url
    per_minute: int = Field(default=20, ge=1, le=600)


class WeComApp(_Strict):
    corp_id: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    agent_id: int
    # 政务微信 deployments (粤政易 …) run the same API elsewhere.
    base_url: Url = "https://qyapi.weixin.qq.com"
    per_minute: int = Field(default=30, ge=1, le=600)  # per member


class Feishu(_Strict):
    webhook: Url
    secret: str | None = None
    per_minute: int = Field(default=100, ge=1, le=600)


class Webhook(_Strict):
    url: Url
    secret: str = Field(min_length=8)  # signs the body (HMAC-SHA256)
    per_minute: int = Field(default=600, ge=1, le=6000)


class SmsGateway(_Strict):
    url: Url
    key: str = Field(min_length=1)
    # ducha's template names (overdue, supervision…) → the gateway's registered template codes.
    templates: dict[str, str] = Field(default_factory=dict)
    per_minute: int = Field(default=60, ge=1, le=6000)


class ChannelsFile(_Strict):
    dingtalk: dict[Name, DingTalk] = Field(default_factory=dict)
    wecom: dict[Name, WeComRobot] = Field(default_factory=dict)
    wecom_app: dict[Name, WeComApp] = Field(default_factory=dict, alias="wecom-app")
    feishu: dict[Name, Feishu] = Field(default_factory=dict)
    webhook: dict[Name, Webhook] = Field(default_factory=dict)
    sms: dict[Name, SmsGateway] = Field(default_factory=dict)
    apprise: dict[Name, Annotated[str, StringConstraints(min_length=3, max_length=2000)]] = Field(
        default_factory=dict
    )

    def secrets(self) -> Iterator[str]:
        """Every credential the file holds (and the URLs that embed one), for the redactor."""
        for robot in self.dingtalk.values():
            yield robot.webhook
            yield from _query_values(robot.webhook)
            if robot.secret:
                yield robot.secret
        for wecom in self.wecom.values():
            yield wecom.webhook
            yield from _query_values(wecom.webhook)
        for app in self.wecom_app.values():
            yield app.secret
        for feishu in self.feishu.values():
            yield feishu.webhook
            yield feishu.webhook.rsplit("/", 1)[-1]
            if feishu.secret:
                yield feishu.secret
        for hook in self.webhook.values():
            yield hook.secret
        for gateway in self.sms.values():
            yield gateway.key
        for target in self.apprise.values():
            yield target
            yield from _apprise_parts(target)

    def names(self) -> list[str]:
        """Every channel a person's address may name, as ``kind:name``."""
        kinds: dict[str, Mapping[str, object]] = {
            "dingtalk": self.dingtalk,
            "wecom": self.wecom,
            "wecom-app": self.wecom_app,
            "feishu": self.feishu,
            "webhook": self.webhook,
            "sms": self.sms,
            "apprise": self.apprise,
        }
        return [f"{kind}:{name}" for kind, named in kinds.items() for name in named]


def _query_values(url: str) -> Iterator[str]:
    from urllib.parse import parse_qsl, urlsplit

    for _, value in parse_qsl(urlsplit(url).query):
        if len(value) >= 4:
            yield value


def _apprise_parts(url: str) -> Iterator[str]:
    """The path segments and credentials of an apprise URL (a bot token is a path segment)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    for piece in [parts.username, parts.password, parts.netloc, *parts.path.split("/")]:
        if piece and len(piece) >= 8:
            yield piece
    yield from _query_values(url)


def load_channels(path: Path | None = None, inline: str | None = None) -> ChannelsFile:
    """The channels of ``DUCHA_CHANNELS_FILE`` (``path``) or ``DUCHA_CHANNELS`` (``inline`` JSON)."""
    if path is not None and inline is not None:
        raise BadInput("DUCHA_CHANNELS_FILE and DUCHA_CHANNELS are both set: give one")
    if inline is not None:
        try:
            data = json.loads(inline)
        except ValueError as exc:
            raise BadInput(f"DUCHA_CHANNELS: not JSON ({exc})") from None
        try:
            return ChannelsFile.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise BadInput(f"DUCHA_CHANNELS: {where}: {first['msg']}") from None
    if path is None:
        return ChannelsFile()
    if not path.is_file():
        raise BadInput(f"DUCHA_CHANNELS_FILE {path}: no such file")
    return YamlDocument(read_source_text(path), str(path)).validate(ChannelsFile)
