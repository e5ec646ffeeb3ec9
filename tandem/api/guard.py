"""The outermost middleware: what every request meets before any route reads it.

- a body larger than TANDEM_MAX_BODY_BYTES is refused (413): at once when Content-Length says
  so, else as soon as the chunks read add up to more (chunked uploads);
- an API call is authenticated before its body is read (no token + any body -> 401), then
  counted against TANDEM_API_RATE_LIMIT (429) when set;
- API responses are never cached or sniffed; every response asks for HTTPS (HSTS) when
  TANDEM_BASE_URL is https.
Everything here is O(1) per request: the checkout path goes through it.
"""

from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tandem.api.deps import caller_of, token_of
from tandem.api.throttling import ApiRateLimit
from tandem.auth.secrets import digest
from tandem.errors import TandemError, error_body

API_PREFIX = "/api/"
API_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]
HSTS = (b"strict-transport-security", b"max-age=31536000")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than {limit} bytes")


class RequestGuard:
    def __init__(
        self, app: ASGIApp, *, fastapi_app, max_body_bytes: int, api_limit: ApiRateLimit | None, hsts: bool
    ):
        self.app, self.fastapi_app, self.max_body_bytes = app, fastapi_app, max_body_bytes
        self.api_limit, self.hsts = api_limit, hsts
        self._templates: list | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_api = scope["path"].startswith(API_PREFIX)
        extra = (API_HEADERS if is_api else []) + ([HSTS] if self.hsts else [])
        send = _adding_headers(send, extra) if extra else send
        if _declared_length(scope) > self.max_body_bytes:
            await self._refuse(scope, receive, send, BodyTooLarge(self.max_body_bytes))
            return
        receive = _bounded(receive, self.max_body_bytes)
        if is_api and (refused := await self._admit_api_call(scope, receive)) is not None:
            scope["tandem.route"] = self._template(scope)
            await refused(scope, receive, send)
            return
        if limit_headers := scope.get("tandem.rate_limit_headers"):
            send = _adding_headers(send, [(k.lower().encode(), v.encode()) for k, v in limit_headers.items()])
        try:
            await self.app(scope, receive, send)
        except BodyTooLarge as exc:  # read outside a route (the route's own answer is the same)
            await self._refuse(scope, receive, send, exc)

    async def _admit_api_call(self, scope: Scope, receive: Receive) -> Response | None:
        """Who calls (401 before the body is read), and whether their token may call now."""
        request = Request(scope, receive)
        try:
            scope["tandem.caller"] = await caller_of(request)
        except (TandemError, OperationalError) as exc:
            return await self._answer(request, exc)
        if self.api_limit is None:
            return None
        allowance = self.api_limit.hit(digest(token_of(request)))
        scope["tandem.rate_limit_headers"] = allowance.headers
        if allowance.allowed:
            return None
        body = error_body("too_many_requests", "too many requests for this API token; retry later")
        return JSONResponse(body, status_code=429, headers=allowance.headers)

    def _template(self, scope: Scope) -> str | None:
        """The API route a refused request was for (the router never saw it), from the paths
        the OpenAPI document lists: its metrics and log line name the route, not "unmatched"."""
        if self._templates is None:
            paths = self.fastapi_app.openapi().get("paths", {})
            self._templates = [(compile_path(path)[0], path) for path in paths]
        return next((path for regex, path in self._templates if regex.match(scope["path"])), None)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        scope.setdefault("tandem.route", self._template(scope))
        response = await self._answer(Request(scope, receive), exc)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)

    async def _answer(self, request: Request, exc: Exception) -> Response:
        handlers = self.fastapi_app.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                return await handlers[kind](request, exc)
        raise exc


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _bounded(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def receive_bounded() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_bounded


def _adding_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            present = {name.lower() for name, _ in message.get("headers", [])}
            added = [(name, value) for name, value in extra if name not in present]
            message["headers"] = [*message.get("headers", []), *added]
        await send(message)

    return send_with_headers
