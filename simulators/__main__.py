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
    drop = sub.add_parser("drop", help="drop a feed's files for a window into the inbox bucket")
    drop.add_argument("feed")
    drop.add_argument("--start", required=True, help="window start, ISO time")
    drop.add_argument("--seed", type=int, default=7)
    source = sub.add_parser("source", help="bring a feed's source database to its state at AT")
    source.add_argument("feed")
    source.add_argument("--at", required=True, help="instant, ISO time")
    urls = sub.add_parser("sources", help="print the source databases' URL variables as JSON")
    urls.add_argument("--home", required=True, help="the hub's home folder")
    geo = sub.add_parser("districts", help="write the gu boundaries GeoJSON the portal draws")
    geo.add_argument("--out", default="hub/web/static/geo/seoul_gu.geojson")
    args = parser.parse_args(argv)
    if args.command == "districts":
        from pathlib import Path

        from simulators.districts import write

        write(Path(args.out))
        return 0
    if args.command == "sources":
        import json

        from simulators.sources import default_urls

        print(json.dumps(default_urls(args.home)))
        return 0
    if args.command == "source":
        from datetime import datetime

        from simulators.sources import SOURCES

        if args.feed not in SOURCES:
            parser.error(f"no source database for {args.feed!r}; sources: {', '.join(SOURCES)}")
        variable, write = SOURCES[args.feed]
        if not os.environ.get(variable):
            parser.error(f"set {variable} to the source database URL")
        rows = write(os.environ[variable], datetime.fromisoformat(args.at))
        print(f"{args.feed}: {rows} rows as of {args.at}")
        return 0
    if args.command == "drop":
        from datetime import datetime

        from simulators.drops import DROPS
        from simulators.inbox import drop as put

        if args.feed not in DROPS:
            parser.error(f"no file drop for {args.feed!r}; drops: {', '.join(DROPS)}")
        for key in put(DROPS[args.feed](datetime.fromisoformat(args.start), args.seed)):
            print(f"dropped {key}")
        return 0
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
