"""Pre-rendered agency answers for the HTTP connector benchmarks.

The simulators build each record in Python, which would dominate a 1M-row measurement; here
the pages are rendered once (same shapes as the simulators') and served as bytes, so the
figure is the connector's: requests, envelope checks, landing and parsing.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class StaticPages:
    """Serves ``pages[i]`` for data.go.kr ``pageNo=i+1`` or NGSI-LD ``offset=i*limit``."""

    def __init__(self, pages: list[bytes], *, total: int, limit: int) -> None:
        self.pages, self.total, self.limit = pages, total, limit
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                if url.path == "/ngsi-ld/v1/entities":
                    index = int(query.get("offset", "0")) // outer.limit
                    headers = {"NGSILD-Results-Count": str(outer.total)}
                else:
                    index, headers = int(query.get("pageNo", "1")) - 1, {}
                body = outer.pages[index] if 0 <= index < len(outer.pages) else b"[]"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> StaticPages:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ngsi_pages(entities: list[dict], limit: int) -> list[bytes]:
    return [
        json.dumps(entities[i : i + limit], ensure_ascii=False, separators=(",", ":")).encode()
        for i in range(0, len(entities), limit)
    ]
