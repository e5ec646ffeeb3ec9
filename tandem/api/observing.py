"""What operators see of each HTTP request: a request id, Prometheus figures by route template
and status, and (TANDEM_LOG_FORMAT=json) one JSON log line.

One ASGI wrapper around everything, the checkout hot path included, so it stays cheap: no
database, labels from the route template (never the raw path), the metric children cached.
"""

import logging
import os
import re
import time

import orjson
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem import metrics

log = logging.getLogger("tandem.requests")
HEADER = b"x-request-id"
# An id a proxy or client sends is kept if it is short and plain; otherwise a new one is made.
ACCEPTED_ID = re.compile(rb"^[A-Za-z0-9._:\-]{1,128}$")
UNMATCHED = "unmatched"  # 404s: one label, whatever paths scanners try


def request_id_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER and ACCEPTED_ID.match(value):
            return value.decode()
    return os.urandom(12).hex()


def route_of(scope: Scope) -> str:
    if template := scope.get("tandem.route"):
        return template
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not template:
        return UNMATCHED
    if isinstance(route, Mount):
        return template
    # A route of an included router knows its path without the prefix it was included under
    # (/api/v1): that prefix is the path's first segments, as literal as the router's prefix.
    extra = scope["path"].count("/") - template.count("/")
    if extra <= 0:
        return template
    return "/".join(scope["path"].split("/")[: extra + 1]) + template


class ObservedRequests:
    def __init__(self, app: ASGIApp, *, json_logs: bool = False):
        self.app, self.json_logs = app, json_logs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = scope["tandem.request_id"] = request_id_of(scope)
        reply = _Reply(send, request_id)
        try:
            await self.app(scope, receive, reply.send)
        except BaseException:
            reply.status = 500
            raise
        finally:
            seconds = time.perf_counter() - started
            route = route_of(scope)
            metrics.observe_request(scope["method"], route, reply.status, seconds)
            if self.json_logs:
                self._log(scope, route, reply.status, seconds, request_id)

    def _log(self, scope: Scope, route: str, status: int, seconds: float, request_id: str) -> None:
        client = scope.get("client")
        log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": client[0] if client else None,
                "scheme": scope.get("scheme"),
            },
        )


class _Reply:
    """Sends the response on, with the X-Request-ID header, and the id in a JSON error body."""

    def __init__(self, send: Send, request_id: str):
        self._send, self.request_id, self.status = send, request_id, 500
        self._held: Message | None = None
        self._body: list[bytes] = []

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            self.status = message["status"]
            message["headers"] = [*message.get("headers", ()), (HEADER, self.request_id.encode())]
            if self.status >= 400 and _is_json(message["headers"]):
                self._held = message  # the body gets the request id: hold the start until then
                return
        elif kind == "http.response.body" and self._held is not None:
            self._body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            await self._send_error(message)
            return
        await self._send(message)

    async def _send_error(self, last: Message) -> None:
        body = _with_request_id(b"".join(self._body), self.request_id)
        start, self._held = self._held, None
        start["headers"] = [
            (name, str(len(body)).encode() if name == b"content-length" else value)
            for name, value in start["headers"]
        ]
        await self._send(start)
        await self._send({**last, "body": body, "more_body": False})


def _is_json(headers) -> bool:
    return any(name == b"content-type" and value.startswith(b"application/json") for name, value in headers)


def _with_request_id(body: bytes, request_id: str) -> bytes:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    if isinstance(document, dict) and isinstance(document.get("error"), dict):
        document["error"]["request_id"] = request_id
        return orjson.dumps(document)
    return body


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the record's extra fields."""

    STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update((k, v) for k, v in record.__dict__.items() if k not in self.STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(log_format: str) -> None:
    """TANDEM_LOG_FORMAT: `text` (default) or `json` (one object per line, on stderr)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        formatter = JsonFormatter()
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
