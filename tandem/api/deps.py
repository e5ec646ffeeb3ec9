"""Typed FastAPI dependencies, in one place."""

import hashlib
import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, TypeVar

import anyio.to_thread
from fastapi import Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter, ValidationError
from sqlalchemy.exc import OperationalError

from tandem.api.errors import tandem_error_json
from tandem.api.types import Id, SearchText
from tandem.auth.secrets import digest
from tandem.auth.service import Caller, authenticate_token, record_token_use, token_use_unrecorded
from tandem.checkout.lanes import CheckoutLanes
from tandem.db import UnitOfWork
from tandem.errors import TandemError
from tandem.idempotency import service as idempotency
from tandem.paging import PageRequest
from tandem.runtime import Runtime

log = logging.getLogger(__name__)


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_uow(runtime: RuntimeDep) -> Iterator[UnitOfWork]:
    with runtime.uow() as uow:
        yield uow


def get_read_uow(runtime: RuntimeDep) -> Iterator[UnitOfWork]:
    with runtime.uow(read_only=True) as uow:
        yield uow


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock.now()


async def get_caller(
    request: Request, authorization: Annotated[str | None, Header(include_in_schema=False)] = None
) -> Caller:
    """The calling store (the OpenAPI document declares the bearer scheme instead of the header)."""
    return await caller_of(request)


def token_of(request: Request) -> str | None:
    authorization = request.headers.get("authorization")
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def caller_of(request: Request) -> Caller:
    """The calling store: as found by api.guard, from the token cache (no database, no
    thread), else looked up."""
    if (known := request.scope.get("tandem.caller")) is not None:
        return known
    token = token_of(request)
    cache = request.app.state.token_cache
    if token and (caller := cache.get(digest(token))):
        return caller
    runtime = request.app.state.runtime

    def look_up() -> Caller:
        with runtime.uow(read_only=True) as uow:
            check = authenticate_token(uow, cache, token)
        now = runtime.clock.now()
        if token_use_unrecorded(check, now):
            _record_use(runtime, check.caller.actor.id, now)
        return check.caller

    return await anyio.to_thread.run_sync(look_up)


def _record_use(runtime: Runtime, token_id: int, now: datetime) -> None:
    """Best effort: a busy database does not turn a valid call away."""
    try:
        with runtime.uow() as uow:
            record_token_use(uow, token_id=token_id, now=now)
    except OperationalError as exc:
        log.info("last use of API token %s not recorded: %s", token_id, exc.orig)


def lanes_of(request: Request) -> CheckoutLanes:
    return request.app.state.checkout_lanes.current()


M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], raw: bytes) -> M:
    """A JSON body read by hand (the busiest routes skip FastAPI's per-request machinery);
    errors are the same 400 and 422 answers as everywhere else."""
    if not raw.strip():
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required"}])
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in errors]) from None


_ID = TypeAdapter(Id)


def path_id(request: Request, name: str) -> int:
    """An id from the path, read by hand (see parse_body); a 422 naming it if it is not one."""
    try:
        return _ID.validate_python(request.path_params[name])
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        raise RequestValidationError([{**e, "loc": ("path", name)} for e in errors]) from None


def path_and_headers(path: dict[str, dict], headers: dict[str, dict]) -> list[dict]:
    """OpenAPI for parameters read by hand: {name: schema}."""
    return [
        {"name": name, "in": "path", "required": True, "schema": schema} for name, schema in path.items()
    ] + [
        {"name": name, "in": "header", "required": False, "schema": schema}
        for name, schema in headers.items()
    ]


def json_body(model: type[BaseModel]) -> dict:
    """OpenAPI for a body read with parse_body (see tandem.api.app: its schema is listed)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def get_page(
    limit: Annotated[int, Query(ge=1, le=250, description="Items per page.")] = 50,
    cursor: Annotated[SearchText | None, Query(description="The `next_cursor` of the previous page.")] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor or None)


PageDep = Annotated[PageRequest, Depends(get_page)]
UoW = Annotated[UnitOfWork, Depends(get_uow)]
ReadUoW = Annotated[UnitOfWork, Depends(get_read_uow)]
Now = Annotated[datetime, Depends(get_now)]
CallerDep = Annotated[Caller, Depends(get_caller)]


class Idempotent:
    """Runs a money- or stock-moving request at most once per Idempotency-Key."""

    def __init__(self, runtime: Runtime, caller: Caller, key: str | None, fingerprint: str):
        self.runtime, self.caller, self.key, self.fingerprint = runtime, caller, key, fingerprint

    def run(self, uow: UnitOfWork, produce: Callable[[], BaseModel], status: int = 200) -> Response:
        if self.key is None:
            return _json(status, produce().model_dump_json())
        outcome = idempotency.claim(
            self.runtime, store_id=self.caller.store_id, key=self.key, fingerprint=self.fingerprint
        )
        if isinstance(outcome, idempotency.StoredResponse):
            return _json(outcome.status, outcome.body, replayed=True)
        uow.before_commit(outcome.bind)
        try:
            code, body = status, produce().model_dump_json()
        except TandemError as exc:
            code, body = exc.status, tandem_error_json(exc)
        except Exception:
            uow.rollback()
            idempotency.abandon(self.runtime, outcome)
            raise
        uow.rollback()  # end the read that rendered the body (SQLite: one writer at a time)
        idempotency.finish(self.runtime, outcome, status=code, body=body)
        return _json(code, body)


def _json(status: int, body: str, replayed: bool = False) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


async def fingerprint(request: Request) -> str:
    """What makes two requests with one Idempotency-Key the same request."""
    body = await request.body()
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()


async def get_idempotent(
    request: Request,
    runtime: RuntimeDep,
    caller: CallerDep,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Idempotent:
    return Idempotent(runtime, caller, idempotency_key, await fingerprint(request))


IdempotentDep = Annotated[Idempotent, Depends(get_idempotent)]
