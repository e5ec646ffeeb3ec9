"""Admin routes answer with pages, never JSON: errors become the login redirect or an error page."""

from collections.abc import Callable
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from tandem.admin.deps import LoginRequired
from tandem.admin.pages import render
from tandem.errors import TandemError

LOGIN = "/admin/login"


class AdminRoute(APIRoute):
    def get_route_handler(self) -> Callable:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                return await handle(request)
            except LoginRequired as exc:
                return RedirectResponse(login_url(exc.next_url), status_code=303)
            except RequestValidationError:
                return error_page(request, 400)
            except TandemError as exc:
                return error_page(request, exc.status)

        return handle_page


def login_url(next_url: str | None) -> str:
    return f"{LOGIN}?{urlencode({'next': next_url})}" if next_url else LOGIN


def error_page(request: Request, status: int) -> Response:
    viewer = getattr(request.state, "viewer", None)
    return render(request, "error.html", viewer=viewer, status=status, status_code=status)
