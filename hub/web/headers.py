"""Security headers on every answer, as a plain ASGI wrapper (no per-request task or copy of
the body, unlike Starlette's BaseHTTPMiddleware, which would slow the streamed downloads).

Pages carry no inline script, only the app's own files under /static, so the policy allows
none inline; styles stay inline (the page shell's one style sheet). The map's tile server, when
one is set, is the one outside origin images may come from. FastAPI's /docs page loads its own
scripts and keeps no CSP.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def csp(tiles_url: str | None = None) -> str:
    """The content security policy, with the tile server's origin among image sources."""
    images = "'self' data:"
    if tiles_url:
        parts = urlsplit(tiles_url.replace("{s}", "*"))
        images += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src {images}; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    )


ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
]
DOCS = ("/docs", "/redoc")


class SecurityHeaders:
    def __init__(self, app: ASGIApp, tiles_url: str | None = None) -> None:
        self.app = app
        self.with_csp = [*ALWAYS, (b"content-security-policy", csp(tiles_url).encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = ALWAYS if scope["path"].startswith(DOCS) else self.with_csp

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)
