"""``python -m simulators serve``: run the fake agency endpoints until stopped."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from simulators.agency_api import AgencyApiServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the fake agency Open API on 127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    key = os.environ.get("DATA_GO_KR_SERVICE_KEY")
    if not key:
        parser.error("set DATA_GO_KR_SERVICE_KEY to the key the fake API should accept")
    server = AgencyApiServer(key, port=args.port, seed=args.seed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"agency API listening on {server.base_url}", flush=True)
    try:
        server.httpd.serve_forever()
    finally:
        server.httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
