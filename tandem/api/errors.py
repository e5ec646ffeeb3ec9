"""One place maps errors to HTTP: {"error": {"code", "message", "field"?, ...}}."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from tandem.errors import InvalidInput, TandemError, error_body, error_json

log = logging.getLogger(__name__)


def tandem_error_body(exc: TandemError) -> dict:
    extra = {k: v for k, v in exc.details.items() if v is not None}
    return error_body(exc.code, exc.message, **extra)


tandem_error_json = error_json


def field_path(loc: tuple) -> str:
    parts = [p for p in loc if p not in ("body", "query", "path", "header")]
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 429: "too_many_requests"}

# Deadlock, serialization failure, lock timeout (PostgreSQL); a busy database (SQLite).
CONTENTION_STATES = {"40P01", "40001", "55P03"}


def is_contention(exc: OperationalError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    return state in CONTENTION_STATES or "database is locked" in str(exc.orig)


def allowed_methods(request: Request) -> str:
    """Every method some route takes on this path (Starlette names only the first route's)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return ", ".join(sorted(methods))


def install(app: FastAPI) -> None:
    @app.exception_handler(TandemError)
    async def _tandem(request: Request, exc: TandemError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(tandem_error_body(exc), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return JSONResponse(
                error_body("invalid_json", "the request body is not valid JSON"), status_code=400
            )
        first = errors[0]
        field = field_path(tuple(first.get("loc", ())))
        details = [
            {"field": field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "")} for e in errors
        ]
        return JSONResponse(
            error_body("invalid", f"{field}: {first.get('msg', 'invalid')}", field=field, errors=details),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})  # Retry-After on a 429...
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request)
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(OperationalError)
    async def _database(request: Request, exc: OperationalError):
        if not is_contention(exc):
            return await _unexpected(request, exc)
        log.warning("database contention on %s %s: %s", request.method, request.url.path, exc.orig)
        return JSONResponse(
            error_body("busy", "the database was busy; nothing was changed, retry the request"),
            status_code=503,
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "something went wrong on our side"), status_code=500)


__all__ = ["InvalidInput", "install", "tandem_error_json"]
