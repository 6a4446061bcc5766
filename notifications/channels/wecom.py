"""WeCom (企业微信): a group robot's webhook, and application messages to one member.

Both answer HTTP 200 with ``errcode``/``errmsg``; a robot's answer means:

* 0: sent; 45009 (api freq out of limit): retry after 60 s; -1 (system busy): retry;
* 93000 (invalid webhook url), 93004 (the robot is disabled): failed, for the admin;
* any other code: failed.

An application (``WeComApp``) first gets an ``access_token`` from ``/cgi-bin/gettoken`` (kept until
60 s before ``expires_in`` runs out), then posts to ``/cgi-bin/message/send`` (a person with no user id
fails for the admin before anything is sent):

* 0: sent, unless ``invaliduser`` (or ``unlicenseduser``) names the member: then nothing reached
  them, failed for the admin (the person's user id is wrong, or has no licence);
* 42001 (token expired), 40014 (token invalid): a new token is fetched once and the message sent again;
* 45009, 45033 (too many calls): retry after 60 s; -1: retry;
* 40001 (bad secret), 40013 (bad corp id): failed, for the admin (as is any refusal of gettoken);
* any other code: failed.

``base_url`` points a 政务微信 private deployment at its own server.
"""

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from notifications.channel_config import WeComApp, WeComRobot
from notifications.channels import http
from notifications.channels.base import Message, Outcome, Result
from notifications.redact import Redactor

ROBOT_CONTENT_LIMIT = 4_096  # bytes of markdown content a group robot takes
APP_CONTENT_LIMIT = 2_048  # bytes of text an application message takes
_TOKEN_MARGIN_S = 60.0
_EXPIRED = frozenset({42001, 40014})


def _detail(kind: str, code: int | None, body: dict[str, Any]) -> str:
    return f"{kind} errcode {code}: {body.get('errmsg', '')}"


class WeComRobotChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: WeComRobot,
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
        content = http.truncate_bytes(f"### {message.subject}\n{message.text}", ROBOT_CONTENT_LIMIT)
        answer = self._post(self._config.webhook, {"msgtype": "markdown", "markdown": {"content": content}})
        if isinstance(answer, Outcome):
            return answer
        code = http.int_code(answer.body, "errcode")
        detail = self._redact(_detail("wecom", code, answer.body))
        return http.judge(answer, code, detail, admin=frozenset({93000, 93004}), slow=frozenset({45009}))


class WeComAppChannel(http.HttpChannel):
    def __init__(
        self,
        name: str,
        config: WeComApp,
        redactor: Redactor,
        *,
        client: httpx.Client | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        super().__init__(name, redactor, config.per_minute, client, clock)
        self._config = config
        self._base = config.base_url.rstrip("/")
        self._members: dict[str, http.RateLimiter] = {}  # WeCom limits messages per member
        self._token: str | None = None
        self._token_until = 0.0
        self._members_lock = threading.Lock()
        self._token_lock = threading.Lock()  # one gettoken at a time

    def send(self, message: Message) -> Outcome:
        user = message.to_address
        if not user:
            return Outcome.failed(f"{self.name}: the person has no WeCom user id", tell_admin=True)
        with self._members_lock:
            limiter = self._members.setdefault(user, http.RateLimiter(self._config.per_minute, self._clock))
        if refused := http.limited(limiter, f"{self.name}/{user}"):
            return refused
        content = http.truncate_bytes(f"{message.subject}\n{message.text}", APP_CONTENT_LIMIT)
        payload = {
            "touser": user,
            "msgtype": "text",
            "agentid": self._config.agent_id,
            "text": {"content": content},
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }
        outcome = self._send_once(payload, user, refresh=False)
        if outcome is None:  # the token expired under us: once more with a new one
            outcome = self._send_once(payload, user, refresh=True)
        return outcome or Outcome.retry(f"{self.name}: access token refused twice")

    def _send_once(self, payload: dict[str, Any], user: str, *, refresh: bool) -> Outcome | None:
        """The send's Outcome, or None when WeCom said the token expired (it is forgotten)."""
        token = self._access_token(refresh)
        if isinstance(token, Outcome):
            return token
        # The token travels in the URL: httpx logs it, the installed redactor masks ``access_token=``.
        answer = self._post(f"{self._base}/cgi-bin/message/send?access_token={token}", payload)
        if isinstance(answer, Outcome):
            return answer
        code = http.int_code(answer.body, "errcode")
        if code in _EXPIRED:
            with self._token_lock:
                self._token = None
            return None
        detail = self._redact(_detail("wecom-app", code, answer.body))
        if code == 0 and answer.success:
            for field in ("invaliduser", "unlicenseduser"):
                if answer.body.get(field):
                    missed = self._redact(str(answer.body[field]))
                    return Outcome.failed(
                        f"invalid user {user} ({field}: {missed}): {detail}", tell_admin=True
                    )
        return http.judge(
            answer, code, detail, admin=frozenset({40001, 40013}), slow=frozenset({45009, 45033})
        )

    def _access_token(self, refresh: bool) -> str | Outcome:
        """The cached token, or a new one from gettoken (always a new one when ``refresh``)."""
        with self._token_lock:
            if not refresh and self._token is not None and self._clock() < self._token_until:
                return self._token
            try:
                response = self._http().get(
                    f"{self._base}/cgi-bin/gettoken",
                    params={"corpid": self._config.corp_id, "corpsecret": self._config.secret},
                )
            except httpx.HTTPError as exc:
                return http.network_retry(exc, self._redact)
            answer = http.read_answer(response, self._redact)
            if isinstance(answer, Outcome):
                return answer
            code = http.int_code(answer.body, "errcode")
            token, expires_in = answer.body.get("access_token"), answer.body.get("expires_in", 7200)
            if code == 0 and answer.success and isinstance(token, str) and token:
                self._redact.add([token])
                self._token = token
                seconds = expires_in if isinstance(expires_in, int | float) else 7200
                self._token_until = self._clock() + seconds - _TOKEN_MARGIN_S
                return token
            detail = self._redact(f"gettoken: {_detail('wecom-app', code, answer.body)}")
            if code == 0:  # "ok" without a token: an answer we cannot use
                return Outcome.retry(f"unknown answer: {detail}")
            outcome = http.judge(answer, code, detail, slow=frozenset({45009}))
            # Every refusal of gettoken is the channels file's to mend (corp id, secret, agent).
            return replace(outcome, tell_admin=True) if outcome.result is Result.FAILED else outcome
