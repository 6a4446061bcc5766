"""The one protocol every channel speaks, and what a message and an outcome hold."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Result(StrEnum):
    ACCEPTED = "accepted"  # the provider took it
    RETRY = "retry"  # a temporary failure: try again, after ``retry_after`` seconds if given
    FAILED = "failed"  # permanent: this channel will not take it (bad address, bad signature…)


@dataclass(frozen=True)
class Outcome:
    result: Result
    # What the provider answered, or the error, with every secret removed: kept with the attempt.
    detail: str = ""
    retry_after: float | None = None
    # A failure the office's admin must mend (a wrong robot secret, a keyword or IP rule).
    tell_admin: bool = False

    @classmethod
    def accepted(cls, detail: str = "") -> "Outcome":
        return cls(Result.ACCEPTED, detail)

    @classmethod
    def retry(cls, detail: str, after: float | None = None) -> "Outcome":
        return cls(Result.RETRY, detail, retry_after=after)

    @classmethod
    def failed(cls, detail: str, *, tell_admin: bool = False) -> "Outcome":
        return cls(Result.FAILED, detail, tell_admin=tell_admin)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "text/html"
    data: bytes


@dataclass(frozen=True)
class Message:
    """One notice as a channel sends it."""

    key: str  # the idempotency key: the same notice sent twice carries the same key
    subject: str
    text: str  # plain text: e-mail's text part, the chat robots' and SMS's text
    html: str  # e-mail's HTML part
    to_name: str
    # The e-mail address, the phone or the user id the channel needs (robots post to a group: None).
    to_address: str | None = None
    template: str = ""  # the template's name: an SMS gateway maps it to its own template code
    params: dict[str, str] = field(default_factory=dict)  # an SMS template's parameters
    attachments: tuple[Attachment, ...] = ()


class Channel(Protocol):
    """Sends one message; never raises for what the provider or the network did (an Outcome says it)."""

    name: str  # how a person's address names it: "email", "dingtalk:town-east", "wecom-app:district"

    def send(self, message: Message) -> Outcome: ...
