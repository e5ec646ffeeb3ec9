"""Who is looking at the admin UI, and the checks every admin request goes through."""

from dataclasses import dataclass
from typing import Annotated

from babel.support import NullTranslations
from fastapi import Depends, Form, Request

from tandem.admin.security import SESSION_COOKIE, same_token
from tandem.auth.service import StaffContext, staff_for_session
from tandem.errors import Forbidden, Unauthorized
from tandem.runtime import Runtime
from tandem.stores.service import get_store
from tandem.timeline.domain import Actor


class LoginRequired(Exception):
    """No valid staff session: the visitor is sent to the login page."""

    def __init__(self, next_url: str | None):
        super().__init__("login required")
        self.next_url = next_url


class CsrfRejected(Forbidden):
    code = "csrf_rejected"


@dataclass(frozen=True)
class Viewer:
    """The signed-in staff member, their store, and the language to speak to them."""

    staff: StaffContext
    store_name: str
    timezone: str
    locale: str
    translations: NullTranslations
    store_kinds: tuple[str, ...] = ()

    @property
    def store_id(self) -> int:
        return self.staff.store_id

    @property
    def is_retailer(self) -> bool:
        return "retailer" in self.store_kinds

    @property
    def is_supplier(self) -> bool:
        return "supplier" in self.store_kinds

    @property
    def actor(self) -> Actor:
        return self.staff.actor

    @property
    def csrf_token(self) -> str:
        return self.staff.csrf_token

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)


def runtime_of(request: Request) -> Runtime:
    return request.app.state.runtime


def get_viewer(request: Request) -> Viewer:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        try:
            staff = staff_for_session(
                uow, session_token=request.cookies.get(SESSION_COOKIE), now=runtime.clock.now()
            )
        except Unauthorized:
            raise LoginRequired(_return_to(request)) from None
        store = get_store(uow, store_id=staff.store_id)
        locale = staff.locale or store.locale
        viewer = Viewer(
            staff,
            store.name,
            store.timezone,
            locale,
            request.app.state.admin.catalogs.get(locale),
            store_kinds=tuple(store.kinds),
        )
    request.state.viewer = viewer
    return viewer


def _return_to(request: Request) -> str | None:
    if request.method != "GET":
        return None
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def get_viewer_of_form(
    viewer: Annotated[Viewer, Depends(get_viewer)], csrf_token: Annotated[str, Form()] = ""
) -> Viewer:
    """The viewer of a POST form, once its CSRF token matches the session's."""
    if not same_token(viewer.csrf_token, csrf_token):
        raise CsrfRejected("this form has expired or was not sent from Tandem; reload the page and try again")
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
FormViewerDep = Annotated[Viewer, Depends(get_viewer_of_form)]
