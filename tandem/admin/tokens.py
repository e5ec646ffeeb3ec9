"""API tokens in the admin UI: create a named token (shown once), see when each was last used,
revoke one."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem.admin.acting import perform
from tandem.admin.deps import FormViewerDep, Viewer, ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.api.types import Id
from tandem.errors import InvalidInput
from tandem.i18n.labels import N_
from tandem.stores import tokens

router = APIRouter(prefix="/admin/tokens", include_in_schema=False, route_class=AdminRoute)
HERE = "/admin/tokens"
NAME_NEEDED = N_("Give the token a name of 1 to 100 characters. Nothing was saved.")


@router.get("")
def tokens_page(request: Request, viewer: ViewerDep) -> Response:
    return _page(request, viewer)


@router.post("")
def create_token(
    request: Request, viewer: FormViewerDep, name: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.uow() as uow:
            created, secret = tokens.create_token(
                uow, store_id=viewer.store_id, name=name, now=runtime.clock.now()
            )
    except InvalidInput:
        return _page(request, viewer, problem=viewer.gettext(NAME_NEEDED), status=422)
    # Shown in this answer only (no redirect, no cookie carries it): it is never shown again.
    return _page(request, viewer, new_token=secret, new_token_name=created.name, status=201)


@router.post("/{token_id}/revoke")
def revoke_token(request: Request, token_id: Id, viewer: FormViewerDep) -> Response:
    cache = request.app.state.token_cache

    def revoke(uow, **arguments) -> None:
        tokens.revoke_token(uow, **arguments)
        cache.clear()  # this process at once; the others within a second (tandem.auth.service)

    return perform(request, viewer, revoke, back=HERE, done=N_("The token was revoked."), token_id=token_id)


def _page(request: Request, viewer: Viewer, *, status: int = 200, **shown) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        rows = tokens.list_tokens(uow, store_id=viewer.store_id)
    return render(request, "tokens.html", viewer=viewer, rows=rows, status=status, **shown)
