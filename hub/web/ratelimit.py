"""Requests per address, for the public: a token bucket per client address in each web worker,
as a plain ASGI wrapper. Partners' requests (with an API key) have quotas of their own in the
catalog (``catalog.partners``) and pass through; so do the sign-in pages' own limits.

Each worker counts alone (no shared counter on the hot path): with N workers an address gets
up to N times the rate. A deployment behind a proxy sets the same limit there too
(nginx ``limit_req``), where it holds across every worker.
"""

from __future__ import annotations

import json
import time

from starlette.types import ASGIApp, Receive, Scope, Send

#: addresses remembered per worker; the stalest are forgotten first beyond this
REMEMBERED = 50_000


class PerAddress:
    def __init__(self, app: ASGIApp, per_minute: int) -> None:
        self.app = app
        self.rate = per_minute / 60.0
        self.burst = float(per_minute)
        self.buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, at)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or any(k == b"x-api-key" for k, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        now = time.monotonic()
        tokens, at = self.buckets.pop(address, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        if tokens < 1.0:
            self.buckets[address] = (tokens, now)
            wait = max(1, int((1.0 - tokens) / self.rate) + 1)
            body = json.dumps(
                {"detail": f"too many requests from {address}; retry in {wait} s"}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"retry-after", str(wait).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        self.buckets[address] = (tokens - 1.0, now)  # re-inserted: newest last
        if len(self.buckets) > REMEMBERED:
            del self.buckets[next(iter(self.buckets))]
        await self.app(scope, receive, send)
