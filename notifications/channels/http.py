"""What the HTTP channels share: the client, a rate limiter, reading an answer, cutting text to size.

An answer is read the same way everywhere before a channel looks at its own codes:

* a network error, a timeout, HTTP 408, 429 or 5xx is temporary: retry (after ``Retry-After`` seconds
  when the provider says so);
* a body that is not a JSON object is an unknown answer: retry on a 2xx (the provider may have taken
  the message or not: it is never counted as accepted), failed on any other status (a wrong URL or a
  proxy's page: the admin must look);
* otherwise the JSON object goes to the channel, which accepts only a 2xx whose code says success.

Every detail is passed through the channel's redactor before it leaves.
"""

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from notifications.channels.base import Outcome
from notifications.redact import Redactor

TIMEOUT_S = 10.0
ELLIPSIS = "…"
_SNIPPET = 300  # characters of an unexpected body kept in a detail


def make_client(timeout: float = TIMEOUT_S) -> httpx.Client:
    """A client that ignores the environment's proxies (``trust_env=False``): a robot's token must
    not travel through a proxy nobody configured for it."""
    return httpx.Client(timeout=timeout, trust_env=False)


def wall_clock_ms() -> int:
    """The machine's real time in milliseconds, for providers' signatures. Not ducha's clock: a
    simulated ``DUCHA_NOW`` would make every signature stale, and providers reject a timestamp more
    than an hour away from their own."""
    return time.time_ns() // 1_000_000


class RateLimiter:
    """A token bucket holding ``per_minute`` sends, refilled evenly over a minute (thread-safe)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] | None = None) -> None:
        self._capacity = float(per_minute)
        self._per_second = per_minute / 60.0
        self._clock = clock or time.monotonic
        self._tokens = self._capacity
        self._at = self._clock()
        self._lock = threading.Lock()

    def wait(self) -> float:
        """0 when a send may go now (and takes its place); otherwise the seconds to wait."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._at) * self._per_second)
            self._at = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return 0.0
            return (1.0 - self._tokens) / self._per_second


def limited(limiter: RateLimiter, name: str) -> Outcome | None:
    """A retry without calling the provider when ``limiter`` has no room; None when the send may go."""
    wait = limiter.wait()
    if wait > 0:
        return Outcome.retry(f"{name}: in-process rate limit reached, wait {wait:.1f} s", after=wait)
    return None


def network_retry(exc: httpx.HTTPError, redactor: Redactor) -> Outcome:
    """A network failure or timeout as a retry, its text redacted (an error may quote the URL)."""
    return Outcome.retry(redactor(f"network error: {type(exc).__name__}: {exc}"))


def encode_json(payload: Mapping[str, Any]) -> bytes:
    """The body as sent (compact UTF-8, as httpx itself encodes it): what a signature signs."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def post_json(
    client: httpx.Client,
    url: str,
    body: bytes,
    redactor: Redactor,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response | Outcome:
    """POST ``body`` (JSON bytes); the response, or a retry when the network failed."""
    try:
        return client.post(url, content=body, headers={"Content-Type": "application/json", **(headers or {})})
    except httpx.HTTPError as exc:
        return network_retry(exc, redactor)


def retry_after(response: httpx.Response) -> float | None:
    """A numeric ``Retry-After`` header in seconds (an HTTP date is not read)."""
    value = response.headers.get("Retry-After", "").strip()
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None


def is_temporary(response: httpx.Response) -> bool:
    return response.status_code in (408, 429) or response.status_code >= 500


def snippet(response: httpx.Response, redactor: Redactor) -> str:
    """The start of a body, on one line and redacted, for a detail."""
    return redactor(" ".join(response.text[:_SNIPPET].split()))


@dataclass(frozen=True)
class Answer:
    """A provider's JSON object and the HTTP status it came with."""

    status: int
    body: dict[str, Any]

    @property
    def success(self) -> bool:
        return 200 <= self.status < 300


def read_answer(response: httpx.Response, redactor: Redactor) -> Answer | Outcome:
    """The provider's JSON object, or the Outcome when there is none to read (see the module)."""
    if is_temporary(response):
        detail = f"HTTP {response.status_code}: {snippet(response, redactor)}"
        return Outcome.retry(detail, after=retry_after(response))
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return Answer(response.status_code, body)
    detail = f"HTTP {response.status_code}, not a JSON object: {snippet(response, redactor)}"
    if response.is_success:
        return Outcome.retry(f"unknown answer: {detail}")
    return Outcome.failed(detail, tell_admin=True)


def int_code(body: Mapping[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` that holds an integer (not a bool): a provider's result code."""
    for key in keys:
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def judge(
    answer: Answer,
    code: int | None,
    detail: str,
    *,
    admin: frozenset[int] = frozenset(),
    slow: frozenset[int] = frozenset(),
) -> Outcome:
    """A robot's code as an Outcome: 0 on a 2xx is accepted, ``slow`` codes retry after 60 s, -1
    (system busy) retries, ``admin`` codes fail for the admin to mend, every other code fails. A missing
    code is an unknown answer: retry, never accepted."""
    if code is None:
        return Outcome.retry(f"unknown answer, no result code: {detail}")
    if code == 0:
        if answer.success:
            return Outcome.accepted(detail)
        return Outcome.failed(f"HTTP {answer.status} with code 0: {detail}", tell_admin=True)
    if code in slow:
        return Outcome.retry(detail, after=60.0)
    if code == -1:
        return Outcome.retry(detail)
    return Outcome.failed(detail, tell_admin=code in admin)


def truncate_bytes(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` UTF-8 bytes, cut at a character boundary and ending in "…"."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = max(0, limit - len(ELLIPSIS.encode()))
    return data[:room].decode(errors="ignore") + ELLIPSIS


class HttpChannel:
    """What every HTTP channel holds: its name, redactor, HTTP client, clock and rate limiter."""

    def __init__(
        self,
        name: str,
        redactor: Redactor,
        per_minute: int,
        client: httpx.Client | None,
        clock: Callable[[], float] | None,
    ) -> None:
        self.name = name
        self._redact = redactor
        self._given = client
        self._made: httpx.Client | None = None
        self._made_lock = threading.Lock()
        self._clock = clock or time.monotonic
        self._limiter = RateLimiter(per_minute, self._clock)

    def _http(self) -> httpx.Client:
        """The client given, or this channel's own (made again after ``close``: a batch may follow)."""
        if self._given is not None:
            return self._given
        with self._made_lock:
            if self._made is None:
                self._made = make_client()
            return self._made

    def close(self) -> None:
        """Close the client this channel made (a client given to it is its owner's to close)."""
        with self._made_lock:
            if self._made is not None:
                self._made.close()
                self._made = None

    def _post(
        self, url: str, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> Answer | Outcome:
        """POST ``payload`` and read the answer's JSON object (or the Outcome when there is none)."""
        response = post_json(self._http(), url, encode_json(payload), self._redact, headers)
        if isinstance(response, Outcome):
            return response
        return read_answer(response, self._redact)
