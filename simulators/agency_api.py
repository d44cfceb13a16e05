"""A fake agency Open API in the data.go.kr convention, with faults injectable on request.

Query: ``serviceKey``, ``pageNo``, ``numOfRows``, ``returnType=json``, ``inqBginDt`` and
``inqEndDt`` (``YYYYMMDDHH`` in KST, end exclusive). Answers ``response.header.resultCode`` /
``resultMsg`` and ``response.body.items`` / ``totalCount``; a bad key gets the gateway's XML
error inside HTTP 200, as the real portal does.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from simulators import accidents, air_quality, iot_sensors, traffic
from simulators.defects import Defect, inject

AIR_QUALITY_PATH = "/B552584/ArpltnInforInqireSvc/getMsrstnAcctoRltmMesureDnsty"
TRAFFIC_PATH = "/6110000/TrafficCountService/getTrafficCountList"
ACCIDENTS_PATH = "/6110000/PedestrianAccidentService/getPedestrianAccidentList"
#: Paths whose JSON answer nests the list as ``items: {"item": [...]}``, as many data.go.kr
#: services do (the XML answers always do).
ITEM_WRAPPED = {ACCIDENTS_PATH}
MAX_ROWS = 10_000

MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html><head><title>공공데이터포털 점검 안내</title></head>"
    "<body><h1>서비스 점검 중입니다</h1><p>잠시 후 다시 이용해 주세요.</p></body></html>"
)
GATEWAY_KEY_ERROR = (
    "<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
    "<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg>"
    "<returnReasonCode>30</returnReasonCode></cmmMsgHeader></OpenAPI_ServiceResponse>"
)


@dataclass
class Fault:
    """One injected defect: ``kind`` in http_500, http_429, result_code, malformed_json, slow,
    total_changes, repeat_page, html_page, trickle (a byte every ``delay_s``), bad_count and
    nested_json (the broker); applied to the next ``times`` matching requests (``page``
    limits it)."""

    kind: str
    times: int = 1
    page: int | None = None
    retry_after: float | None = None
    code: str = "22"
    delay_s: float = 5.0


@dataclass
class AgencyState:
    service_key: str
    seed: int = 7
    faults: list[Fault] = field(default_factory=list)
    defects: list[Defect] = field(default_factory=list)  # value defects in every answer
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, page: int) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.page is None or fault.page == page):
                    fault.times -= 1
                    return fault
        return None


def _kst(value: str) -> datetime:
    """YYYYMMDDHH or YYYYMMDDHHMM in KST."""
    fmt = "%Y%m%d%H%M" if len(value) == 12 else "%Y%m%d%H"
    return datetime.strptime(value, fmt).replace(tzinfo=air_quality.KST)


def _xml_envelope(
    code: str, msg: str, items: list[dict], total: int, page: int, rows: int
) -> bytes:
    from xml.sax.saxutils import escape

    body = "".join(
        "<item>"
        + "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in item.items() if v is not None)
        + "</item>"
        for item in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><header>'
        f"<resultCode>{code}</resultCode><resultMsg>{msg}</resultMsg></header><body><items>{body}</items>"
        f"<numOfRows>{rows}</numOfRows><pageNo>{page}</pageNo><totalCount>{total}</totalCount></body></response>"
    ).encode()


def _envelope(code: str, msg: str, items: list[Any], total: int, page: int, rows: int) -> bytes:
    doc = {
        "response": {
            "header": {"resultCode": code, "resultMsg": msg},
            "body": {
                "items": items,
                "totalCount": total,
                "pageNo": page,
                "numOfRows": rows,
            },
        }
    }
    return json.dumps(
        doc, ensure_ascii=False, separators=(",", ":")
    ).encode()  # compact, as APIs send it


def make_handler(state: AgencyState) -> type[BaseHTTPRequestHandler]:
    sources: dict[str, Callable[[datetime, datetime], list[dict[str, str]]]] = {
        AIR_QUALITY_PATH: lambda s, e: air_quality.readings(s, e, seed=state.seed),
        TRAFFIC_PATH: lambda s, e: traffic.counts(s, e, seed=state.seed),
        ACCIDENTS_PATH: lambda s, e: accidents.accidents(s, e, seed=state.seed),
    }
    routes = {
        path: (lambda s, e, source=source: inject(source(s, e), state.defects))
        for path, source in sources.items()
    }

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(
            self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
        ):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client stopped waiting (a deadline): nothing to tell it

        def _trickle(self, body: bytes, ctype: str, every_s: float) -> None:
            """A server that sends its answer one byte at a time (never idle long enough
            for a per-read time-out to fire)."""
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for byte in body:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(every_s)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as it should

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path not in ("/_sim/faults", "/_sim/defects"):
                return self._send(404, b"not found", "text/plain")
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"[]")
            with state.lock:
                if path == "/_sim/faults":
                    state.faults = [Fault(**f) for f in body]
                else:
                    state.defects = [Defect(**d) for d in body]
            self._send(200, b"{}", "application/json")

        def _problem(self, status: int, kind: str, title: str, detail: str) -> None:
            body = json.dumps(
                {
                    "type": f"https://uri.etsi.org/ngsi-ld/errors/{kind}",
                    "title": title,
                    "detail": detail,
                }
            ).encode()
            self._send(status, body, "application/json")

        def _broker(self, query: dict[str, str]) -> None:
            """``GET /ngsi-ld/v1/entities``: the IoT platform's context broker."""
            try:
                limit = int(query.get("limit", "20"))
                offset = int(query.get("offset", "0"))
                if not 1 <= limit <= 1000 or offset < 0:
                    raise ValueError
            except ValueError:
                return self._problem(
                    400, "BadRequestData", "Invalid paging", "limit must be 1-1000"
                )
            fault = state.take_fault(offset // limit + 1)
            if fault and fault.kind in ("http_500", "http_429"):
                status = 500 if fault.kind == "http_500" else 429
                headers = (
                    {"Retry-After": f"{fault.retry_after:g}"}
                    if fault.retry_after is not None
                    else {}
                )
                return self._send(status, b"", "text/plain", headers)
            if fault and fault.kind == "bad_request":
                return self._problem(
                    400, "BadRequestData", "Invalid query", "q could not be parsed"
                )
            start, end = _time_range(query.get("q", ""))
            if start is None or end is None:
                return self._problem(
                    400,
                    "BadRequestData",
                    "Invalid query",
                    "q needs dateObserved>=...;dateObserved<...",
                )
            entities = (
                iot_sensors.current(start, end, seed=state.seed)
                if query.get("type") == "AirQualityObserved"
                else []
            )
            body = json.dumps(
                entities[offset : offset + limit], ensure_ascii=False, separators=(",", ":")
            ).encode()
            headers = (
                {"NGSILD-Results-Count": str(len(entities))} if query.get("count") == "true" else {}
            )
            if fault and fault.kind == "bad_count":  # a proxy that rewrote the header
                headers["NGSILD-Results-Count"] = "about 200"
            if fault and fault.kind == "nested_json":  # a broker bug: a runaway nesting
                body = b"[" * 100_000 + b"]" * 100_000
            self._send(200, body, "application/json", headers)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            state.requests.append(self.path)
            if url.path == "/ngsi-ld/v1/entities":
                return self._broker(query)
            route = routes.get(url.path)
            if route is None:
                return self._send(404, b"<html>404 Not Found</html>", "text/html")
            if query.get("serviceKey") != state.service_key:
                return self._send(200, GATEWAY_KEY_ERROR.encode(), "text/xml;charset=UTF-8")
            xml = query.get("returnType", "xml").lower() == "xml"  # data.go.kr's default is XML
            envelope = _xml_envelope if xml else _envelope
            ctype = "application/xml;charset=UTF-8" if xml else "application/json;charset=UTF-8"
            try:
                page = int(query.get("pageNo", "1"))
                rows = int(query.get("numOfRows", "10"))
                start, end = _kst(query["inqBginDt"]), _kst(query["inqEndDt"])
                if page < 1 or not 1 <= rows <= MAX_ROWS:
                    raise ValueError
            except (KeyError, ValueError):
                return self._send(
                    200, envelope("10", "INVALID_REQUEST_PARAMETER_ERROR", [], 0, 0, 0), ctype
                )

            fault = state.take_fault(page)
            if fault and fault.kind == "http_500":
                return self._send(500, b"<html>Internal Server Error</html>", "text/html")
            if fault and fault.kind == "http_429":
                after = (
                    {"Retry-After": f"{fault.retry_after:g}"}
                    if fault.retry_after is not None
                    else {}
                )
                return self._send(429, b"Too Many Requests", "text/plain", after)
            if fault and fault.kind == "slow":
                time.sleep(fault.delay_s)
            if fault and fault.kind == "trickle":
                items = route(start, end)
                body = envelope("00", "NORMAL_CODE", items[:rows], len(items), page, rows)
                return self._trickle(body, ctype, fault.delay_s)
            if fault and fault.kind == "malformed_json":
                return self._send(200, b'{"response": {"header": {"resultCode": "00", "re', ctype)
            if fault and fault.kind == "html_page":  # a portal maintenance page, with HTTP 200
                return self._send(200, MAINTENANCE_PAGE.encode(), "text/html;charset=UTF-8")
            if fault and fault.kind == "result_code":
                message = (
                    "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR"
                    if fault.code == "22"
                    else "SERVICE_ERROR"
                )
                return self._send(200, envelope(fault.code, message, [], 0, page, rows), ctype)

            items = route(start, end)
            total = len(items) + (1 if fault and fault.kind == "total_changes" else 0)
            shown = page - 1 if fault and fault.kind == "repeat_page" and page > 1 else page
            chunk = items[(shown - 1) * rows : shown * rows]  # repeat_page: a stale cached page
            if not xml and url.path in ITEM_WRAPPED:
                # the portal's XML-to-JSON conversion: one row is an object, not a list of one
                chunk = {"item": chunk[0] if len(chunk) == 1 else chunk}
            if not items:
                body = envelope("03", "NODATA_ERROR", [], 0, page, rows)
            else:
                body = envelope("00", "NORMAL_CODE", chunk, total, page, rows)
            self._send(200, body, ctype)

    return Handler


def _time_range(q: str) -> tuple[datetime | None, datetime | None]:
    """The [start, end) of an NGSI-LD ``q`` such as ``dateObserved>="...";dateObserved<"..."``."""
    start = end = None
    for term in filter(None, q.split(";")):
        for op in (">=", "<"):
            name, sep, value = term.partition(op)
            if sep and name == "dateObserved":
                try:
                    moment = datetime.fromisoformat(value.strip('"'))
                except ValueError:
                    return None, None
                if op == ">=":
                    start = moment
                else:
                    end = moment
                break
    return start, end


class AgencyApiServer:
    """Runs the fake API on 127.0.0.1 in a background thread (tests) or the foreground (demo)."""

    def __init__(self, service_key: str, *, port: int = 0, seed: int = 7) -> None:
        self.state = AgencyState(service_key=service_key, seed=seed)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.state))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> AgencyApiServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> AgencyApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
