"""The two checkout routes, dispatched before FastAPI's router.

In a flash sale nearly every request is one of these two, and routing a request through
FastAPI (matching it against every route, its exit stack, its exception wrappers) costs
more CPU than the handler itself once the database work is batched. This middleware sends
them straight to the same handler functions the router declares (and documents in
/openapi.json), answering errors with the app's own exception handlers.
"""

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

COMPLETE = re.compile(r"^/api/v1/checkouts/([^/]+)/complete$")


class HotRoutes:
    def __init__(self, app: ASGIApp, *, create, complete, fastapi_app):
        self.app, self.create, self.complete, self.fastapi_app = app, create, complete, fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self._handler(scope) if scope["type"] == "http" and scope["method"] == "POST" else None
        if handler is None:
            await self.app(scope, receive, send)
            return
        scope["app"] = self.fastapi_app
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:  # noqa: BLE001 - answered as the router would answer it
            response = await self._answer(request, exc)
        await response(scope, receive, send)

    def _handler(self, scope: Scope):
        path = scope["path"]
        if path == "/api/v1/checkouts":
            scope["path_params"] = {}
            scope["tandem.route"] = path  # the route's template, for /metrics and the logs
            return self.create
        if (match := COMPLETE.match(path)) is not None:
            scope["path_params"] = {"checkout_id": match.group(1)}
            scope["tandem.route"] = "/api/v1/checkouts/{checkout_id}/complete"
            return self.complete
        return None

    async def _answer(self, request: Request, exc: Exception):
        handlers = self.fastapi_app.exception_handlers
        for kind in type(exc).__mro__:
            if kind in handlers:
                return await handlers[kind](request, exc)
        raise exc
