"""The HTTP notice channels against a local server that plays each provider.

The fake providers check what the real ones check: DingTalk's and Feishu's signatures are recomputed
from the shared secret and the request's own timestamp (and a timestamp over an hour off is refused),
WeCom's key and access token, the webhook's HMAC, the SMS gateway's bearer key. They answer with the
providers' real bodies: an HTTP 200 whose errcode says no is the case that matters.
"""

import base64
import hashlib
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from notifications import redact
from notifications.channel_config import ChannelsFile
from notifications.channels import http
from notifications.channels.apprise_channel import AppriseChannel
from notifications.channels.base import Channel, Message, Outcome, Result
from notifications.channels.dingtalk import DingTalkChannel
from notifications.channels.feishu import FeishuChannel
from notifications.channels.sms import SmsChannel
from notifications.channels.webhook import WebhookChannel
from notifications.channels.wecom import WeComAppChannel, WeComRobotChannel
from notifications.redact import Redactor

# "Now" for the channels' signatures and the fake providers' checks; DingTalk's sign at this instant
# holds "+" and "/", so it only matches when the URL encodes it.
WALL_MS = 1_796_000_000_004
HOUR_MS = 3_600_000

DING_TOKEN = "dt-token-7f3a9c21e5b4"
DING_SECRET = "SEC4d2b8e1f0a7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3"
DING_KEYWORD = "督查"
WECOM_KEY = "wc-key-693a0e2b-41cf-8d7e"
WECOM_CORP = "ww1234567890abcdef"
WECOM_APP_SECRET = "wa-secret-Zq8Lr2Vt5Nx7"
WECOM_USER = "ZhangSan"
FEISHU_HOOK = "fs-hook-0b1c2d3e-4f5a-6b7c"
FEISHU_SECRET = "fs-secret-Pq9Wm3Kd"
WEBHOOK_SECRET = "wh-secret-Hj6Tg4Rb"
SMS_KEY = "sms-key-Bn3Vc8Xz"
APPRISE_TOKEN = "aprs-token-Ml5Kj2Hg"

DING_SIGN_FAIL = {
    "errcode": 310000,
    "errmsg": "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
}
DING_KEYWORD_FAIL = {
    "errcode": 310000,
    "errmsg": "keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]",
}
DING_TOO_FAST = {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
WECOM_FREQ = {"errcode": 45009, "errmsg": "api freq out of limit"}
WECOM_EXPIRED = {
    "errcode": 42001,
    "errmsg": "access_token expired, more info at https://open.work.weixin.qq.com",
}
FEISHU_SIGN_FAIL = {
    "code": 19021,
    "msg": "sign match fail or timestamp is not within one hour from current time",
}
HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


def message(**changes: Any) -> Message:
    base: dict[str, Any] = {
        "key": "notice-42-overdue",
        "subject": "督查提醒：项目逾期",
        "text": "东镇 道路硬化 已逾期 3 天，请尽快办理。",
        "html": "<p>东镇 道路硬化 已逾期 3 天</p>",
        "to_name": "张三",
    }
    return Message(**(base | changes))


# --- the fake providers --------------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, bytes, dict[str, str]]


def _json(body: Any, status: int = 200) -> Answer:
    return status, json.dumps(body, ensure_ascii=False).encode(), {"Content-Type": "application/json"}


def _fresh(timestamp_ms: int) -> bool:
    return abs(WALL_MS - timestamp_ms) < HOUR_MS


@dataclass
class Providers:
    """What the fake providers have seen and will answer; reset for every test."""

    seen: list[Seen] = field(default_factory=list)
    scripted: dict[str, list[Answer]] = field(default_factory=dict)  # by route: answered once each
    tokens: dict[str, bool] = field(default_factory=dict)  # WeCom access tokens issued → still valid
    lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, route: str, answer: Answer) -> None:
        self.scripted.setdefault(route, []).append(answer)

    def on(self, route: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path.split("/")[1] == route]

    def answer(self, seen: Seen) -> Answer:
        route = seen.path.split("/")[1]
        with self.lock:
            self.seen.append(seen)
            if self.scripted.get(route):
                return self.scripted[route].pop(0)
        handle: Callable[[Seen], Answer] = getattr(self, f"_{route}")
        return handle(seen)

    def _dingtalk(self, seen: Seen) -> Answer:
        if seen.query.get("access_token") != DING_TOKEN:
            return _json({"errcode": 300005, "errmsg": "token is not exist"})
        timestamp, sign = seen.query.get("timestamp", ""), seen.query.get("sign", "")
        string_to_sign = f"{timestamp}\n{DING_SECRET}".encode()
        expected = base64.b64encode(hmac.new(DING_SECRET.encode(), string_to_sign, hashlib.sha256).digest())
        if not timestamp.isdigit() or not _fresh(int(timestamp)) or sign != expected.decode():
            return _json(DING_SIGN_FAIL)
        markdown = seen.json()["markdown"]
        if DING_KEYWORD not in markdown["text"] and DING_KEYWORD not in markdown["title"]:
            return _json(DING_KEYWORD_FAIL)
        return _json({"errcode": 0, "errmsg": "ok"})

    def _wecom(self, seen: Seen) -> Answer:
        if seen.query.get("key") != WECOM_KEY:
            return _json({"errcode": 93000, "errmsg": "invalid webhook url, hint: [1780000000_1_abc]"})
        if len(seen.json()["markdown"]["content"].encode()) > 4096:
            return _json({"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
        return _json({"errcode": 0, "errmsg": "ok"})

    def _wecomapp(self, seen: Seen) -> Answer:
        if seen.path == "/wecomapp/cgi-bin/gettoken":
            if seen.query.get("corpid") != WECOM_CORP:
                return _json({"errcode": 40013, "errmsg": "invalid corpid"})
            if seen.query.get("corpsecret") != WECOM_APP_SECRET:
                return _json({"errcode": 40001, "errmsg": "invalid credential, hint: [1780000000_2_def]"})
            with self.lock:
                token = f"at-{len(self.tokens) + 1}-Yt7Rq9Lm2Xc4"
                self.tokens[token] = True
            return _json({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})
        assert seen.path == "/wecomapp/cgi-bin/message/send"
        token = seen.query.get("access_token", "")
        if token not in self.tokens:
            return _json({"errcode": 40014, "errmsg": "invalid access_token"})
        if not self.tokens[token]:
            return _json(WECOM_EXPIRED)
        body = seen.json()
        if body["touser"] != WECOM_USER:
            return _json({"errcode": 0, "errmsg": "ok", "invaliduser": body["touser"]})
        return _json({"errcode": 0, "errmsg": "ok", "msgid": "msg-1"})

    def _feishu(self, seen: Seen) -> Answer:
        if seen.path.rsplit("/", 1)[-1] != FEISHU_HOOK:
            return _json({"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        body = seen.json()
        timestamp = str(body.get("timestamp", ""))
        key = f"{timestamp}\n{FEISHU_SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if not timestamp.isdigit() or not _fresh(int(timestamp) * 1000) or body.get("sign") != expected:
            return _json(FEISHU_SIGN_FAIL)
        return _json({"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"})

    def _webhook(self, seen: Seen) -> Answer:
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(seen.headers.get("X-Ducha-Signature", ""), expected):
            return 401, b"bad signature", {}
        if not seen.headers.get("Idempotency-Key"):
            return 400, b"no idempotency key", {}
        return 202, b"", {}

    def _sms(self, seen: Seen) -> Answer:
        if seen.headers.get("Authorization") != f"Bearer {SMS_KEY}":
            return _json({"code": 401, "message": "unauthorized"}, status=401)
        return _json({"code": 0, "message": "queued", "id": "sms-1"})

    def _apprise(self, seen: Seen) -> Answer:
        return _json({})


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:  # the fake logs nothing
        pass

    def _handle(self) -> None:
        split = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(self.command, split.path, dict(parse_qsl(split.query)), dict(self.headers.items()), body)
        status, payload, headers = self.server.providers.answer(seen)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _Server(ThreadingHTTPServer):
    providers: Providers
    daemon_threads = True


@pytest.fixture(scope="module")
def server() -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.providers = Providers()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def providers(server: _Server) -> Providers:
    server.providers = Providers()
    return server.providers


@pytest.fixture
def base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with http.make_client() as made:
        yield made


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def channels_file(base: str, closed_port: int, **secrets: str) -> ChannelsFile:
    """Every channel kind on the fake providers; ``secrets`` replace the right ones (to test a wrong one)."""
    s = {
        "ding_secret": DING_SECRET,
        "wecom_key": WECOM_KEY,
        "wecom_secret": WECOM_APP_SECRET,
        "feishu_secret": FEISHU_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "sms_key": SMS_KEY,
    } | secrets
    return ChannelsFile.model_validate(
        {
            "dingtalk": {
                "town-east": {
                    "webhook": f"{base}/dingtalk/robot/send?access_token={DING_TOKEN}",
                    "secret": s["ding_secret"],
                }
            },
            "wecom": {"office": {"webhook": f"{base}/wecom/cgi-bin/webhook/send?key={s['wecom_key']}"}},
            "wecom-app": {
                "district": {
                    "corp_id": WECOM_CORP,
                    "secret": s["wecom_secret"],
                    "agent_id": 1000002,
                    "base_url": f"{base}/wecomapp",
                }
            },
            "feishu": {
                "office": {
                    "webhook": f"{base}/feishu/open-apis/bot/v2/hook/{FEISHU_HOOK}",
                    "secret": s["feishu_secret"],
                }
            },
            "webhook": {"ops": {"url": f"{base}/webhook/notices", "secret": s["webhook_secret"]}},
            "sms": {
                "gov": {"url": f"{base}/sms/send", "key": s["sms_key"], "templates": {"overdue": "SMS_1001"}}
            },
            "apprise": {
                "ops": f"json://{base.removeprefix('http://')}/apprise/{APPRISE_TOKEN}",
                "down": f"json://127.0.0.1:{closed_port}/apprise/{APPRISE_TOKEN}",
            },
        }
    )


def make_channels(
    file: ChannelsFile, redactor: Redactor, client: httpx.Client, clock: FakeClock
) -> dict[str, Channel]:
    """Each channel of ``file`` by its address (``dingtalk:town-east``)."""
    wall: Callable[[], int] = lambda: WALL_MS  # noqa: E731
    made: dict[str, Channel] = {}
    for name, ding in file.dingtalk.items():
        made[f"dingtalk:{name}"] = DingTalkChannel(
            f"dingtalk:{name}", ding, redactor, client=client, clock=clock, wall_clock_ms=wall
        )
    for name, robot in file.wecom.items():
        made[f"wecom:{name}"] = WeComRobotChannel(
            f"wecom:{name}", robot, redactor, client=client, clock=clock
        )
    for name, app in file.wecom_app.items():
        made[f"wecom-app:{name}"] = WeComAppChannel(
            f"wecom-app:{name}", app, redactor, client=client, clock=clock
        )
    for name, feishu in file.feishu.items():
        made[f"feishu:{name}"] = FeishuChannel(
            f"feishu:{name}", feishu, redactor, client=client, clock=clock, wall_clock_ms=wall
        )
    for name, hook in file.webhook.items():
        made[f"webhook:{name}"] = WebhookChannel(
            f"webhook:{name}", hook, redactor, client=client, clock=clock
        )
    for name, gateway in file.sms.items():
        made[f"sms:{name}"] = SmsChannel(f"sms:{name}", gateway, redactor, client=client, clock=clock)
    for name, url in file.apprise.items():
        made[f"apprise:{name}"] = AppriseChannel(f"apprise:{name}", url, redactor)
    return made


@pytest.fixture
def chans(base: str, closed_port: int, client: httpx.Client, clock: FakeClock) -> dict[str, Channel]:
    file = channels_file(base, closed_port)
    return make_channels(file, Redactor(file.secrets()), client, clock)


def wrong(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, **secrets: str
) -> dict[str, Channel]:
    file = channels_file(base, closed_port, **secrets)
    return make_channels(file, Redactor(file.secrets()), client, clock)


ADDRESSED = {"wecom-app:district": {"to_address": WECOM_USER}, "sms:gov": {"to_address": "13800000001"}}


def send(channel: Channel, **changes: Any) -> Outcome:
    extra = ADDRESSED.get(channel.name, {}) | {"template": "overdue", "params": {"project": "道路硬化"}}
    return channel.send(message(**(extra | changes)))


# --- shared pieces -------------------------------------------------------------------------------


def test_truncate_cuts_at_a_utf8_boundary() -> None:
    assert http.truncate_bytes("督查", 6) == "督查"
    cut = http.truncate_bytes("督查提醒" * 10, 10)  # 3 bytes a character: "督查" + "…" is 9 bytes
    assert cut == "督查…" and len(cut.encode()) <= 10
    assert http.truncate_bytes("abcdef", 5) == "ab…"


def test_rate_limiter_is_a_token_bucket(clock: FakeClock) -> None:
    limiter = http.RateLimiter(20, clock)
    assert all(limiter.wait() == 0 for _ in range(20))
    assert limiter.wait() == pytest.approx(3.0)  # 20 a minute: one more every 3 s
    clock.now += 3
    assert limiter.wait() == 0
    assert limiter.wait() == pytest.approx(3.0)
    clock.now += 600  # a long pause refills the bucket, never beyond its size
    assert sum(limiter.wait() == 0 for _ in range(25)) == 20


def test_a_2xx_that_is_not_json_is_an_unknown_answer() -> None:
    outcome = http.read_answer(httpx.Response(200, content=HTML), Redactor())
    assert (
        isinstance(outcome, Outcome) and outcome.result is Result.RETRY and "unknown answer" in outcome.detail
    )


# --- DingTalk ------------------------------------------------------------------------------------


def test_dingtalk_signed_markdown_is_accepted(chans: dict[str, Channel], providers: Providers) -> None:
    outcome = send(chans["dingtalk:town-east"])
    assert outcome.result is Result.ACCEPTED, outcome
    (seen,) = providers.on("dingtalk")
    assert seen.query["timestamp"] == str(WALL_MS) and {"+", "/"} <= set(seen.query["sign"])
    assert seen.json() == {
        "msgtype": "markdown",
        "markdown": {
            "title": "督查提醒：项目逾期",
            "text": "#### 督查提醒：项目逾期\n\n东镇 道路硬化 已逾期 3 天，请尽快办理。",
        },
    }


def test_dingtalk_wrong_secret_fails_for_the_admin(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    channel = wrong(base, closed_port, client, clock, ding_secret="SECnot-the-robots-secret")[
        "dingtalk:town-east"
    ]
    outcome = send(channel)
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)
    assert "sign not match" in outcome.detail and "310000" in outcome.detail


def test_dingtalk_stale_timestamp_is_refused(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    file = channels_file(base, closed_port)
    channel = DingTalkChannel(
        "dingtalk:town-east",
        file.dingtalk["town-east"],
        Redactor(),
        client=client,
        wall_clock_ms=lambda: WALL_MS - 2 * HOUR_MS,
    )
    outcome = send(channel)
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)


def test_dingtalk_keyword_missing_fails_for_the_admin(
    chans: dict[str, Channel], providers: Providers
) -> None:
    outcome = send(chans["dingtalk:town-east"], subject="提醒", text="道路硬化 已逾期")
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)
    assert "keywords not in content" in outcome.detail


def test_dingtalk_unknown_token_fails_for_the_admin(
    base: str, client: httpx.Client, providers: Providers
) -> None:
    from notifications.channel_config import DingTalk

    config = DingTalk(webhook=f"{base}/dingtalk/robot/send?access_token=nope-nope-nope", secret=DING_SECRET)
    outcome = DingTalkChannel(
        "dingtalk:x", config, Redactor(), client=client, wall_clock_ms=lambda: WALL_MS
    ).send(message())
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)


def test_dingtalk_caps_long_text(chans: dict[str, Channel], providers: Providers) -> None:
    assert send(chans["dingtalk:town-east"], text="督" * 10_000).result is Result.ACCEPTED
    text = providers.on("dingtalk")[0].json()["markdown"]["text"]
    assert len(text.encode()) <= 20_000 and text.endswith("…")


def test_dingtalk_limiter_refuses_the_21st_in_a_minute_without_calling(
    chans: dict[str, Channel], providers: Providers, clock: FakeClock
) -> None:
    robot = chans["dingtalk:town-east"]
    assert [send(robot).result for _ in range(20)] == [Result.ACCEPTED] * 20
    refused = send(robot)
    assert refused.result is Result.RETRY and refused.retry_after == pytest.approx(3.0)
    assert len(providers.on("dingtalk")) == 20
    clock.now += 3.0
    assert send(robot).result is Result.ACCEPTED
    assert len(providers.on("dingtalk")) == 21


def test_a_channel_makes_its_own_client_again_after_close(
    base: str, closed_port: int, providers: Providers
) -> None:
    file = channels_file(base, closed_port)
    robot = WeComRobotChannel("wecom:office", file.wecom["office"], Redactor(file.secrets()))
    assert send(robot).result is Result.ACCEPTED
    robot.close()  # the end of a batch: the registry keeps the channel for the next one
    assert send(robot).result is Result.ACCEPTED
    robot.close()
    assert len(providers.on("wecom")) == 2


# --- every robot: an answer that says no is never accepted ---------------------------------------

NEVER_ACCEPTED = [
    # (channel, the provider's answer, result, tell_admin, retry_after)
    ("dingtalk:town-east", _json(DING_SIGN_FAIL), Result.FAILED, True, None),
    ("dingtalk:town-east", _json(DING_KEYWORD_FAIL), Result.FAILED, True, None),
    ("dingtalk:town-east", _json(DING_TOO_FAST), Result.RETRY, False, 60.0),
    ("dingtalk:town-east", _json({"errcode": 130102, "errmsg": "send too fast"}), Result.RETRY, False, 60.0),
    ("dingtalk:town-east", _json({"errcode": 400102, "errmsg": "robot stopped"}), Result.FAILED, True, None),
    ("dingtalk:town-east", _json({"errcode": 40035, "errmsg": "缺少参数 json"}), Result.FAILED, False, None),
    ("dingtalk:town-east", _json({"errcode": "0", "errmsg": "ok"}), Result.RETRY, False, None),
    ("dingtalk:town-east", _json({"errmsg": "ok"}), Result.RETRY, False, None),
    ("dingtalk:town-east", _json({"errcode": 0, "errmsg": "ok"}, status=403), Result.FAILED, True, None),
    ("dingtalk:town-east", (500, b"Internal Server Error", {}), Result.RETRY, False, None),
    ("dingtalk:town-east", (429, b"", {"Retry-After": "12"}), Result.RETRY, False, 12.0),
    ("dingtalk:town-east", (200, HTML, {"Content-Type": "text/html"}), Result.RETRY, False, None),
    ("dingtalk:town-east", (404, HTML, {"Content-Type": "text/html"}), Result.FAILED, True, None),
    ("wecom:office", _json(WECOM_FREQ), Result.RETRY, False, 60.0),
    ("wecom:office", _json({"errcode": 93000, "errmsg": "invalid webhook url"}), Result.FAILED, True, None),
    ("wecom:office", _json({"errcode": 93004, "errmsg": "robot disabled"}), Result.FAILED, True, None),
    ("wecom:office", _json({"errcode": -1, "errmsg": "system busy"}), Result.RETRY, False, None),
    ("wecom:office", _json({"errcode": 40058, "errmsg": "invalid parameter"}), Result.FAILED, False, None),
    ("wecom:office", (502, HTML, {}), Result.RETRY, False, None),
    ("wecom:office", (200, HTML, {}), Result.RETRY, False, None),
    ("feishu:office", _json(FEISHU_SIGN_FAIL), Result.FAILED, True, None),
    ("feishu:office", _json({"code": 19024, "msg": "Key Words Not Found"}), Result.FAILED, True, None),
    ("feishu:office", _json({"code": 19022, "msg": "Ip Not Allowed"}), Result.FAILED, True, None),
    ("feishu:office", _json({"code": 11232, "msg": "frequency limited psm"}), Result.RETRY, False, 60.0),
    ("feishu:office", _json({"code": 9499, "msg": "too many request"}), Result.RETRY, False, 60.0),
    (
        "feishu:office",
        _json({"StatusCode": 19001, "StatusMessage": "param invalid"}),
        Result.FAILED,
        False,
        None,
    ),
    ("feishu:office", (500, b"", {}), Result.RETRY, False, None),
    ("feishu:office", (200, HTML, {}), Result.RETRY, False, None),
    (
        "sms:gov",
        _json({"code": "isv.MOBILE_NUMBER_ILLEGAL", "message": "bad number"}),
        Result.FAILED,
        False,
        None,
    ),
    ("sms:gov", _json({"code": 1, "message": "no"}), Result.FAILED, False, None),
    ("sms:gov", _json({"message": "queued?"}), Result.RETRY, False, None),
    ("sms:gov", (429, b"slow down", {"Retry-After": "30"}), Result.RETRY, False, 30.0),
    ("sms:gov", (500, HTML, {}), Result.RETRY, False, None),
    ("sms:gov", (200, HTML, {}), Result.RETRY, False, None),
    ("webhook:ops", (429, b"", {"Retry-After": "7"}), Result.RETRY, False, 7.0),
    ("webhook:ops", (503, b"", {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}), Result.RETRY, False, None),
    ("webhook:ops", (408, b"", {}), Result.RETRY, False, None),
    ("webhook:ops", (422, b"bad notice", {}), Result.FAILED, False, None),
    ("webhook:ops", (404, b"", {}), Result.FAILED, True, None),
]


@pytest.mark.parametrize(("address", "answer", "result", "tell_admin", "after"), NEVER_ACCEPTED)
def test_an_answer_that_says_no_is_never_accepted(
    chans: dict[str, Channel],
    providers: Providers,
    address: str,
    answer: Answer,
    result: Result,
    tell_admin: bool,
    after: float | None,
) -> None:
    providers.script(address.split(":")[0], answer)
    outcome = send(chans[address])
    assert outcome.result is not Result.ACCEPTED
    assert (outcome.result, outcome.tell_admin, outcome.retry_after) == (result, tell_admin, after), outcome
    assert len(providers.seen) == 1  # the provider was asked, once


def test_a_network_error_is_a_retry(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock
) -> None:
    file = channels_file(f"http://127.0.0.1:{closed_port}", closed_port)
    for address, channel in make_channels(file, Redactor(file.secrets()), client, clock).items():
        outcome = send(channel)
        assert outcome.result is Result.RETRY, (address, outcome)
        if not address.startswith("apprise"):
            assert "ConnectError" in outcome.detail


# --- WeCom ---------------------------------------------------------------------------------------


def test_wecom_robot_markdown_is_accepted_and_capped(chans: dict[str, Channel], providers: Providers) -> None:
    assert send(chans["wecom:office"]).result is Result.ACCEPTED
    assert send(chans["wecom:office"], text="督" * 3000).result is Result.ACCEPTED
    short, long = (seen.json() for seen in providers.on("wecom"))
    assert short["msgtype"] == "markdown" and "督查提醒：项目逾期" in short["markdown"]["content"]
    assert len(long["markdown"]["content"].encode()) <= 4096 and long["markdown"]["content"].endswith("…")


def test_wecom_robot_wrong_key_fails_for_the_admin(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    outcome = send(wrong(base, closed_port, client, clock, wecom_key="not-the-key")["wecom:office"])
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True) and "93000" in outcome.detail


def test_wecom_app_caches_its_token(
    chans: dict[str, Channel], providers: Providers, clock: FakeClock
) -> None:
    app = chans["wecom-app:district"]
    assert [send(app).result for _ in range(3)] == [Result.ACCEPTED] * 3
    gettoken = [seen for seen in providers.on("wecomapp") if seen.path.endswith("/gettoken")]
    assert len(gettoken) == 1
    sent = [seen.json() for seen in providers.on("wecomapp") if seen.path.endswith("/message/send")]
    assert sent[0] == {
        "touser": WECOM_USER,
        "msgtype": "text",
        "agentid": 1000002,
        "text": {"content": "督查提醒：项目逾期\n东镇 道路硬化 已逾期 3 天，请尽快办理。"},
        "enable_duplicate_check": 1,
        "duplicate_check_interval": 1800,
    }
    clock.now += 7200 - 60  # the cached token is dropped 60 s before it runs out
    assert send(app).result is Result.ACCEPTED
    assert len([seen for seen in providers.on("wecomapp") if seen.path.endswith("/gettoken")]) == 2


def test_wecom_app_refreshes_an_expired_token_once_and_sends(
    chans: dict[str, Channel], providers: Providers
) -> None:
    app = chans["wecom-app:district"]
    assert send(app).result is Result.ACCEPTED
    for token in providers.tokens:
        providers.tokens[token] = False  # WeCom expired it early (another process fetched a new one)
    providers.seen.clear()
    outcome = send(app)
    assert outcome.result is Result.ACCEPTED, outcome
    assert [seen.path.rsplit("/", 1)[-1] for seen in providers.seen] == ["send", "gettoken", "send"]
    first, second = (seen.query["access_token"] for seen in providers.seen if seen.path.endswith("/send"))
    assert first != second and providers.tokens[second]


def test_wecom_app_refreshes_only_once(chans: dict[str, Channel], providers: Providers) -> None:
    providers.script(
        "wecomapp", _json({"errcode": 0, "errmsg": "ok", "access_token": "at-x-Kd8Wq2", "expires_in": 7200})
    )
    providers.script("wecomapp", _json(WECOM_EXPIRED))
    providers.script(
        "wecomapp", _json({"errcode": 0, "errmsg": "ok", "access_token": "at-y-Kd8Wq3", "expires_in": 7200})
    )
    providers.script("wecomapp", _json(WECOM_EXPIRED))
    outcome = send(chans["wecom-app:district"])
    assert outcome.result is Result.RETRY and len(providers.seen) == 4


def test_wecom_app_invalid_user_fails_for_the_admin(chans: dict[str, Channel], providers: Providers) -> None:
    outcome = send(chans["wecom-app:district"], to_address="USERX")
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)
    assert "invalid user" in outcome.detail and "USERX" in outcome.detail


def test_wecom_app_rate_limited_answer_retries(chans: dict[str, Channel], providers: Providers) -> None:
    app = chans["wecom-app:district"]
    assert send(app).result is Result.ACCEPTED
    providers.script("wecomapp", _json({"errcode": 45033, "errmsg": "api concurrent out of limit"}))
    outcome = send(app)
    assert (outcome.result, outcome.retry_after) == (Result.RETRY, 60.0)


def test_wecom_app_wrong_secret_fails_for_the_admin_without_sending(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    outcome = send(
        wrong(base, closed_port, client, clock, wecom_secret="not-the-secret")["wecom-app:district"]
    )
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True) and "40001" in outcome.detail
    assert [seen.path.rsplit("/", 1)[-1] for seen in providers.seen] == ["gettoken"]


def test_wecom_app_needs_a_user_id(chans: dict[str, Channel], providers: Providers) -> None:
    outcome = send(chans["wecom-app:district"], to_address=None)
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)
    assert providers.seen == []


# --- Feishu --------------------------------------------------------------------------------------


def test_feishu_signed_text_is_accepted(chans: dict[str, Channel], providers: Providers) -> None:
    assert send(chans["feishu:office"]).result is Result.ACCEPTED
    body = providers.on("feishu")[0].json()
    assert body["msg_type"] == "text" and body["timestamp"] == str(WALL_MS // 1000)
    assert body["content"] == {"text": "督查提醒：项目逾期\n东镇 道路硬化 已逾期 3 天，请尽快办理。"}


def test_feishu_older_status_code_answer_is_accepted(chans: dict[str, Channel], providers: Providers) -> None:
    providers.script("feishu", _json({"StatusCode": 0, "StatusMessage": "success"}))
    assert send(chans["feishu:office"]).result is Result.ACCEPTED


def test_feishu_wrong_secret_fails_for_the_admin(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    outcome = send(wrong(base, closed_port, client, clock, feishu_secret="not-the-secret")["feishu:office"])
    assert (outcome.result, outcome.tell_admin) == (
        Result.FAILED,
        True,
    ) and "sign match fail" in outcome.detail


# --- webhook and SMS -----------------------------------------------------------------------------


def test_webhook_signature_and_idempotency_key_arrive(
    chans: dict[str, Channel], providers: Providers
) -> None:
    outcome = send(chans["webhook:ops"])
    assert outcome.result is Result.ACCEPTED, outcome
    (seen,) = providers.on("webhook")
    assert seen.headers["Idempotency-Key"] == "notice-42-overdue"
    expected = hmac.new(WEBHOOK_SECRET.encode(), seen.body, hashlib.sha256).hexdigest()
    assert seen.headers["X-Ducha-Signature"] == f"sha256={expected}"
    assert seen.json() == {
        "key": "notice-42-overdue",
        "subject": "督查提醒：项目逾期",
        "text": "东镇 道路硬化 已逾期 3 天，请尽快办理。",
        "html": "<p>东镇 道路硬化 已逾期 3 天</p>",
        "to": {"name": "张三", "address": None},
    }


def test_webhook_wrong_secret_fails_for_the_admin(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    outcome = send(wrong(base, closed_port, client, clock, webhook_secret="not-the-secret")["webhook:ops"])
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True) and "401" in outcome.detail


def test_sms_sends_the_gateways_template(chans: dict[str, Channel], providers: Providers) -> None:
    assert send(chans["sms:gov"]).result is Result.ACCEPTED
    (seen,) = providers.on("sms")
    assert seen.json() == {"phone": "13800000001", "template": "SMS_1001", "params": {"project": "道路硬化"}}
    assert seen.headers["Idempotency-Key"] == "notice-42-overdue"
    providers.script("sms", _json({"code": "OK", "message": "OK"}))
    assert send(chans["sms:gov"]).result is Result.ACCEPTED


def test_sms_refuses_before_calling(chans: dict[str, Channel], providers: Providers) -> None:
    unmapped = send(chans["sms:gov"], template="supervision")
    assert (unmapped.result, unmapped.tell_admin) == (Result.FAILED, True)
    no_phone = send(chans["sms:gov"], to_address=None)
    assert (no_phone.result, no_phone.tell_admin) == (Result.FAILED, True)
    assert providers.seen == []


def test_sms_wrong_key_fails_for_the_admin(
    base: str, closed_port: int, client: httpx.Client, clock: FakeClock, providers: Providers
) -> None:
    outcome = send(wrong(base, closed_port, client, clock, sms_key="not-the-key")["sms:gov"])
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)


# --- apprise -------------------------------------------------------------------------------------


def test_apprise_success_and_failure(chans: dict[str, Channel], providers: Providers) -> None:
    outcome = send(chans["apprise:ops"])
    assert outcome == Outcome.accepted("apprise reported success")
    (seen,) = providers.on("apprise")
    assert seen.path == f"/apprise/{APPRISE_TOKEN}"
    assert (seen.json()["title"], seen.json()["message"]) == (
        "督查提醒：项目逾期",
        "东镇 道路硬化 已逾期 3 天，请尽快办理。",
    )
    assert send(chans["apprise:down"]).result is Result.RETRY


def test_apprise_url_it_does_not_understand_fails_for_the_admin() -> None:
    outcome = AppriseChannel("apprise:bad", "nosuchscheme://whatever", Redactor()).send(message())
    assert (outcome.result, outcome.tell_admin) == (Result.FAILED, True)


# --- no secret in a log line or a detail ---------------------------------------------------------


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_logs() -> Iterator[_Capture]:
    """Every logger at DEBUG into a capture; the log record factory and redactors restored after."""
    old_factory = logging.getLogRecordFactory()
    names = ["", "apprise", "httpx", "httpcore"]
    old_levels = {name: logging.getLogger(name).level for name in names}
    capture = _Capture()
    capture.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(capture)
    for name in names:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in old_levels.items():
            logging.getLogger(name).setLevel(level)
        logging.setLogRecordFactory(old_factory)
        redact._redactors.clear()


def test_no_secret_in_logs_or_details(
    debug_logs: _Capture,
    base: str,
    closed_port: int,
    client: httpx.Client,
    clock: FakeClock,
    providers: Providers,
) -> None:
    file = channels_file(base, closed_port)
    redactor = Redactor(file.secrets())
    redact.install(redactor)
    outcomes: list[Outcome] = []
    good = make_channels(file, redactor, client, clock)
    for channel in good.values():
        outcomes += [send(channel), send(channel, to_address="USERX", subject="x", template="supervision")]
    providers.script("dingtalk", _json(DING_TOO_FAST))
    providers.script("wecomapp", _json(WECOM_EXPIRED))
    outcomes += [send(good["dingtalk:town-east"]), send(good["wecom-app:district"])]
    bad_secrets = {
        "ding_secret": "SECwrong-wrong-wrong",
        "wecom_key": "wc-key-wrong-wrong",
        "wecom_secret": "wa-secret-wrong-wrong",
        "feishu_secret": "fs-secret-wrong-wrong",
        "webhook_secret": "wh-secret-wrong-wrong",
        "sms_key": "sms-key-wrong-wrong",
    }
    bad_file = channels_file(base, closed_port, **bad_secrets)
    redactor.add(bad_file.secrets())
    outcomes += [send(channel) for channel in make_channels(bad_file, redactor, client, clock).values()]
    down = channels_file(f"http://127.0.0.1:{closed_port}", closed_port)
    redactor.add(down.secrets())
    outcomes += [send(channel) for channel in make_channels(down, redactor, client, clock).values()]

    results = {outcome.result for outcome in outcomes}
    assert results == {Result.ACCEPTED, Result.RETRY, Result.FAILED}
    logged = "\n".join(debug_logs.lines)
    assert "HTTP Request: POST" in logged and "apprise" in logged and "access_token=***" in logged
    secrets = [DING_TOKEN, DING_SECRET, WECOM_KEY, WECOM_APP_SECRET, FEISHU_HOOK, FEISHU_SECRET]
    secrets += [WEBHOOK_SECRET, SMS_KEY, APPRISE_TOKEN, *bad_secrets.values(), *providers.tokens]
    assert len(providers.tokens) >= 2
    for secret in secrets:
        assert secret not in logged, secret
        for outcome in outcomes:
            assert secret not in outcome.detail, (secret, outcome)
