"""Headers every answer carries: no framing, no sniffing, scripts only from ducha itself, and no
caching of what a login sees."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# htmx is served from /static; no inline script, no other origin (an office network may have no
# internet, and a page must not load code from anywhere else). Inline styles: the tiles' colours.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
HEADERS = (
    ("Content-Security-Policy", POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)
CACHED = ("/static/", "/calendar/")


class SecurityHeaders:
    """A plain ASGI middleware that adds the headers to the start of each answer (Starlette's
    BaseHTTPMiddleware would pass every body through a stream and a task group of its own)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cached = str(scope["path"]).startswith(CACHED)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS:
                    headers.setdefault(name, value)
                if not cached:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, sending)
