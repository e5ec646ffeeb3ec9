"""The admin web UI under /admin: log in, the orders list, an order's page and its actions.

Each route parses its input, calls one service function (the same as the API's,
acting as the signed-in staff member) and renders a page or redirects with a flash.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Query, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from tandem.admin import (
    connections,
    customers,
    home,
    order_filters,
    order_work,
    outbox,
    preorders,
    products,
    store_settings,
    supplier_orders,
    tokens,
)
from tandem.admin.deps import FormViewerDep, Viewer, ViewerDep, runtime_of
from tandem.admin.pages import AdminSite, redirect, render, site_of
from tandem.admin.routing import LOGIN, AdminRoute
from tandem.admin.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Flash,
    new_login_token,
    safe_next,
    same_token,
)
from tandem.api.presenting import csv_response
from tandem.api.throttling import client_address
from tandem.api.types import Id, LongText, SearchText
from tandem.auth import service as auth
from tandem.errors import InvalidInput, NotFound, TandemError, Unauthorized
from tandem.i18n.catalogs import LOCALES
from tandem.i18n.labels import N_, TOO_MANY_ATTEMPTS
from tandem.orders import domain, export, fulfillments, listing, refunds, service
from tandem.orders.domain import CancelReason, HoldReason
from tandem.orders.schemas import order_out
from tandem.preorders.domain import ScheduleStatus

STATIC = Path(__file__).parent / "static"
TABS = {
    "all": {},
    "unfulfilled": {"fulfillment_status": "unfulfilled"},
    "unpaid": {"financial_status": "unpaid"},
}
SORTS = ("-created_at", "created_at", "-number", "number", "-total", "total")
PAGE_SIZE = 50

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)


def mount(app: FastAPI) -> None:
    """Add the admin UI to `app`; catalogs and templates are built here, once."""
    app.state.admin = AdminSite(app.state.runtime.settings)
    app.mount("/admin/static", StaticFiles(directory=STATIC), name="admin-static")
    app.include_router(home.router)
    app.include_router(outbox.router)  # before `router`, whose last route catches every other path
    app.include_router(supplier_orders.router)
    app.include_router(preorders.router)
    app.include_router(order_work.router)
    app.include_router(products.router)
    app.include_router(customers.router)
    app.include_router(connections.router)
    app.include_router(store_settings.router)
    app.include_router(tokens.router)
    app.include_router(router)


# -- signing in ------------------------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_token()
    return _login_form(request, token, next_url=next)


@router.post("/login")
def log_in(
    request: Request,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if not same_token(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        error = N_("This form has expired. Please log in again.")
        return _login_form(request, new_login_token(), next_url=next, email=email, error=error, status=403)
    attempt = {"account": email.strip().lower(), "address": client_address(request)}
    throttle = request.app.state.limits.sign_in
    if refused := throttle.refusal(**attempt):
        response = _login_form(
            request, csrf_token, next_url=next, email=email, error=TOO_MANY_ATTEMPTS, status=429
        )
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    runtime = runtime_of(request)
    try:
        with runtime.uow() as uow:
            login = auth.log_in(uow, email=email, password=password, now=runtime.clock.now())
    except Unauthorized:
        throttle.failed(**attempt)
        error = N_("Wrong email or password.")
        return _login_form(request, csrf_token, next_url=next, email=email, error=error, status=401)
    response = redirect(request, safe_next(next))
    site_of(request).cookies.set_session(response, login.session_token)
    site_of(request).cookies.clear_login_token(response)
    return response


def _login_form(
    request: Request,
    token: str,
    *,
    next_url: str,
    email: str = "",
    error: str | None = None,
    status: int = 200,
) -> Response:
    response = render(
        request,
        "login.html",
        status=status,
        login_token=token,
        next_url=safe_next(next_url),
        email=email,
        error=error,
    )
    site_of(request).cookies.set_login_token(response, token)
    return response


@router.post("/logout")
def log_out(request: Request, viewer: FormViewerDep) -> Response:
    with runtime_of(request).uow() as uow:
        auth.log_out(uow, session_token=request.cookies[SESSION_COOKIE])
    response = redirect(request, LOGIN)
    site_of(request).cookies.clear_session(response)
    return response


@router.post("/locale")
def switch_locale(
    request: Request,
    viewer: FormViewerDep,
    locale: Annotated[str, Form(max_length=5)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if locale not in LOCALES:
        raise InvalidInput("locale", f"must be one of {', '.join(LOCALES)}")
    with runtime_of(request).uow() as uow:
        auth.set_staff_locale(uow, user_id=viewer.staff.user_id, locale=locale)
    return redirect(request, safe_next(next))


# -- orders ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListView:
    """The orders list as the URL asks for it: tab, sort, search and filters."""

    tab: str
    sort: str
    q: str
    chosen: order_filters.Chosen

    def query(self, cursor: str | None) -> listing.OrderQuery:
        return listing.OrderQuery(
            **{**TABS[self.tab], **self.chosen.statuses},
            q=self.q or None,
            sort=self.sort,
            limit=PAGE_SIZE,
            cursor=cursor,
            conditions=self.chosen.conditions,
        )


def list_view(
    viewer: ViewerDep,
    tab: Annotated[str, Query(max_length=20)] = "all",
    sort: Annotated[str, Query(max_length=20)] = "-created_at",
    q: Annotated[SearchText, Query()] = "",
    financial_status: Annotated[str, Query(max_length=30)] = "",
    fulfillment_status: Annotated[str, Query(max_length=30)] = "",
    attention: Annotated[str, Query(max_length=30)] = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
) -> ListView:
    chosen = order_filters.chosen(
        viewer.timezone,
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        attention=attention,
        since=since,
        until=until,
    )
    return ListView(tab if tab in TABS else "all", sort if sort in SORTS else SORTS[0], q, chosen)


ListViewDep = Annotated[ListView, Depends(list_view)]


@router.get("/orders")
def orders_page(
    request: Request,
    viewer: ViewerDep,
    view: ListViewDep,
    cursor: Annotated[SearchText | None, Query()] = None,
) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        orders, next_cursor = listing.list_orders(
            uow, store_id=viewer.store_id, query=view.query(cursor or None)
        )
        rows = order_filters.rows(uow, orders)
    return render(
        request,
        "orders.html",
        viewer=viewer,
        rows=rows,
        next_cursor=next_cursor,
        tab=view.tab,
        sort=view.sort,
        q=view.q,
        paged=bool(cursor),
        filters=view.chosen,
        link=order_filters.linker({"tab": view.tab, "sort": view.sort, "q": view.q, **view.chosen.params}),
        attention_kinds=order_filters.ATTENTION_KINDS,
    )


@router.get("/orders.csv")
def orders_csv(request: Request, viewer: ViewerDep, view: ListViewDep) -> Response:
    """The list as it is filtered on screen, every page of it, one row per line item."""
    runtime = runtime_of(request)
    rows = export.csv_rows(
        lambda: runtime.uow(read_only=True),
        store_id=viewer.store_id,
        query=view.query(None),
        timezone=viewer.timezone,
    )
    return csv_response(rows, export.filename(runtime.clock.now()))


@router.get("/orders/{order_id}")
def order_page(request: Request, order_id: Id, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        order = service.get_order(uow, store_id=viewer.store_id, order_id=order_id)
        view = order_out(uow.session, order)
        actions = {action.value for action in domain.allowed_actions(order)}
        own_lines = {line.id for line in fulfillments.own_lines(order)}
        suppliers = supplier_orders.panels(uow, view, runtime.clock.now())
        schedules = preorders.panel(uow, view, viewer)
    return render(
        request,
        "order.html",
        viewer=viewer,
        order=view,
        actions=actions,
        suppliers=suppliers,
        schedules=schedules,
        own_lines=own_lines,
        # "Mark as paid" is never the page's main action while a balance will be charged anyway.
        balance_scheduled=any(s["status"] == ScheduleStatus.PENDING for s in view.payment_schedules),
    )


@router.post("/orders/{order_id}/hold")
def hold(
    request: Request,
    order_id: Id,
    viewer: FormViewerDep,
    reason: Annotated[HoldReason, Form()],
    note: Annotated[LongText, Form()] = "",
) -> Response:
    done = N_("Fulfillment is on hold.")
    return _act(request, viewer, order_id, done, service.place_hold, reason=reason, note=note.strip() or None)


@router.post("/orders/{order_id}/release")
def release(
    request: Request, order_id: Id, viewer: FormViewerDep, hold_id: Annotated[Id | None, Form()] = None
) -> Response:
    done = N_("The hold was released.")
    hold_ids = [hold_id] if hold_id else None
    return _act(request, viewer, order_id, done, service.release_holds, hold_ids=hold_ids)


@router.post("/orders/{order_id}/capture")
def capture(request: Request, order_id: Id, viewer: FormViewerDep) -> Response:
    done = N_("The payment was captured.")
    return _act(request, viewer, order_id, done, service.capture_order, amount=None)


@router.post("/orders/{order_id}/mark_as_paid")
def mark_as_paid(
    request: Request, order_id: Id, viewer: FormViewerDep, confirmed: Annotated[bool, Form()] = False
) -> Response:
    if not confirmed:
        return _confirm(request, viewer, order_id, "mark_as_paid", {})
    done = N_("The order was marked as paid.")
    return _act(request, viewer, order_id, done, service.mark_as_paid)


@router.post("/orders/{order_id}/cancel")
def cancel(
    request: Request,
    order_id: Id,
    viewer: FormViewerDep,
    reason: Annotated[CancelReason, Form()] = CancelReason.OTHER,
    refund: Annotated[bool, Form()] = False,
    restock: Annotated[bool, Form()] = False,
    notify_customer: Annotated[bool, Form()] = False,
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    cancellation = refunds.CancelRequest(
        reason=reason, refund=refund, restock=restock, notify_customer=notify_customer
    )
    if not confirmed:
        return _confirm(request, viewer, order_id, "cancel", {"cancellation": cancellation})
    done = N_("The order was cancelled.")
    return _act(request, viewer, order_id, done, refunds.cancel_order, request=cancellation)


@router.post("/orders/{order_id}/archive")
def archive(request: Request, order_id: Id, viewer: FormViewerDep) -> Response:
    done = N_("The order was archived.")
    return _act(request, viewer, order_id, done, service.archive_order, archived=True)


@router.post("/orders/{order_id}/unarchive")
def unarchive(request: Request, order_id: Id, viewer: FormViewerDep) -> Response:
    done = N_("The order was unarchived.")
    return _act(request, viewer, order_id, done, service.archive_order, archived=False)


def _confirm(request: Request, viewer: Viewer, order_id: int, action: str, details: dict) -> Response:
    """The second step of an action that cannot be undone: what it will do, and its button."""
    with runtime_of(request).uow(read_only=True) as uow:
        order = order_out(uow.session, service.get_order(uow, store_id=viewer.store_id, order_id=order_id))
    return render(request, "confirm_action.html", viewer=viewer, order=order, action=action, **details)


def _act(
    http: Request, viewer: Viewer, order_id: int, done: str, use_case: Callable[..., object], /, **arguments
) -> Response:
    """Run one order use case as the viewer, then show the order with what happened."""
    runtime = runtime_of(http)
    try:
        with runtime.uow() as uow:
            use_case(
                uow,
                store_id=viewer.store_id,
                order_id=order_id,
                actor=viewer.actor,
                now=runtime.clock.now(),
                **arguments,
            )
    except TandemError as exc:
        if exc.status == 404:
            raise
        refused = viewer.gettext(N_("This action was refused: %(reason)s")) % {"reason": exc.message}
        return redirect(http, f"/admin/orders/{order_id}", Flash("error", refused))
    return redirect(http, f"/admin/orders/{order_id}", Flash("success", viewer.gettext(done)))


@router.get("/{path:path}")
def not_found(path: str) -> Response:
    raise NotFound("page not found")
