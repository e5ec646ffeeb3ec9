"""Supplier orders in the admin UI (SPEC §2.3): the supplier's incoming orders, one supplier
order's page with its actions, the retailer's fulfillment request, and the panel the retailer's
order page shows for each of its supplier orders.

A retailer may open its own supplier orders here too: the same page with the retailer's
actions (the fulfillment request, a cancellation request, a return). The supplier sees an
order only once it is open (`supplier_orders.get_visible`); before that it is a 404, as in
the API. Cancellations, refunds and returns have their own modules, included below.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from tandem.admin import forms, supplier_cancellations, supplier_refunds, supplier_returns
from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.admin.security import safe_next
from tandem.admin.supplier_returns import ReturnOptions, return_options
from tandem.api.types import Id
from tandem.db import UnitOfWork
from tandem.i18n.labels import N_
from tandem.orders.schemas import OrderOut
from tandem.stores.models import Store
from tandem.stores.service import get_store
from tandem.suppliers import refunds, supplier_orders
from tandem.suppliers.domain import SupplierAction, SupplierOrderStatus
from tandem.suppliers.models import SupplierOrder
from tandem.suppliers.schemas import supplier_order_out

router = APIRouter(prefix="/admin/supplier_orders", include_in_schema=False, route_class=AdminRoute)
router.include_router(supplier_cancellations.router)
router.include_router(supplier_refunds.router)
router.include_router(supplier_returns.router)

S = SupplierOrderStatus
# What the supplier sees: an order exists for it from `open` on.
TABS: dict[str, tuple[SupplierOrderStatus, ...]] = {
    "to_fulfill": (S.OPEN, S.PARTIALLY_FULFILLED),
    "fulfilled": (S.FULFILLED,),
    "all": (S.OPEN, S.PARTIALLY_FULFILLED, S.FULFILLED, S.CANCELLED),
}
LIST_SIZE = 100


# -- the supplier's list ---------------------------------------------------------------------


@router.get("")
def supplier_orders_page(
    request: Request, viewer: ViewerDep, status: Annotated[str, Query(max_length=30)] = "to_fulfill"
) -> Response:
    status = status if status in TABS else "to_fulfill"
    with runtime_of(request).uow(read_only=True) as uow:
        found = _incoming(uow, viewer.store_id, TABS[status])
        rows = [
            supplier_order_out(uow.session, s, viewer_store_id=viewer.store_id, with_events=False)
            for s in found
        ]
        retailers = _names(uow, {s.retailer_store_id for s in found})
    return render(
        request,
        "supplier_orders.html",
        viewer=viewer,
        rows=rows,
        retailers=retailers,
        tab=status,
        limit=LIST_SIZE,
    )


def _incoming(uow: UnitOfWork, store_id: int, statuses: tuple[str, ...]) -> list[SupplierOrder]:
    """Orders addressed to the store as a supplier; a store that is also a retailer finds its own
    supplier orders on its orders' pages instead."""
    found = [
        supplier_order
        for status in statuses
        for supplier_order in supplier_orders.list_visible(
            uow, store_id=store_id, status=status, limit=LIST_SIZE
        )
        if supplier_order.supplier_store_id == store_id
    ]
    return sorted(found, key=lambda s: s.id, reverse=True)[:LIST_SIZE]


# -- one supplier order ----------------------------------------------------------------------


@router.get("/{supplier_order_id}")
def supplier_order_page(request: Request, supplier_order_id: Id, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        found = supplier_orders.get_visible(
            uow, store_id=viewer.store_id, supplier_order_id=supplier_order_id
        )
        view = supplier_order_out(uow.session, found, viewer_store_id=viewer.store_id)
        stores = _stores(uow, {found.retailer_store_id, found.supplier_store_id})
        as_supplier = found.supplier_store_id == viewer.store_id
        refundable = (
            refunds.refundable(uow.session, found) if SupplierAction.REFUND in view.allowed_actions else 0
        )
        options = return_options(stores[found.supplier_store_id], view.model_dump(), runtime.clock.now())
    return render(
        request,
        "supplier_order.html",
        viewer=viewer,
        so=view,
        as_supplier=as_supplier,
        retailer_name=stores[found.retailer_store_id].name,
        supplier_name=stores[found.supplier_store_id].name,
        seconds_left=seconds_left(view.status, view.release_at, runtime.clock.now()),
        refundable=refundable,
        returns=options,
    )


@router.post("/{supplier_order_id}/request_fulfillment")
def request_fulfillment(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    back = safe_next(next) if next else _page(supplier_order_id)
    done = N_("The fulfillment request was sent to the supplier.")
    return perform(
        request,
        viewer,
        supplier_orders.request_fulfillment,
        back=back,
        done=done,
        supplier_order_id=supplier_order_id,
        actor=viewer.actor,
    )


@router.post("/{supplier_order_id}/fulfill")
def fulfill(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    tracking_company: Annotated[str, Form(max_length=255)] = "",
    tracking_number: Annotated[str, Form(max_length=255)] = "",
    tracking_url: Annotated[str, Form(max_length=2000)] = "",
    line_id: Annotated[list[Id] | None, Form()] = None,
    quantity: Annotated[list[int] | None, Form()] = None,
) -> Response:
    back = _page(supplier_order_id)
    try:
        tracking = forms.tracking(tracking_company, tracking_number, tracking_url, required=True)
        picks = _picks(line_id or [], quantity or [])
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        supplier_orders.fulfill,
        back=back,
        done=N_("The items were marked as fulfilled."),
        supplier_order_id=supplier_order_id,
        picks=picks,
        tracking=tracking,
    )


@router.post("/{supplier_order_id}/mark_payment_received")
def mark_payment_received(request: Request, supplier_order_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request,
        viewer,
        supplier_orders.mark_payment_received,
        back=_page(supplier_order_id),
        done=N_("The payment was marked as received."),
        supplier_order_id=supplier_order_id,
    )


def _picks(line_ids: list[int], quantities: list[int]) -> list[supplier_orders.Pick]:
    chosen = forms.line_counts(line_ids, quantities, none_chosen=N_("Choose at least one item to fulfill."))
    return [supplier_orders.Pick(line, count) for line, count in chosen]


def _page(supplier_order_id: int) -> str:
    return f"/admin/supplier_orders/{supplier_order_id}"


# -- the panel on the retailer's order page ---------------------------------------------------


@dataclass(frozen=True)
class Panel:
    """One supplier order as its retailer sees it on the order page."""

    supplier_order: dict  # supplier_order_out, the retailer's view
    supplier_name: str
    seconds_left: int | None  # of the review window, while scheduled
    returns: ReturnOptions  # what the supplier's return policy allows


def panels(uow: UnitOfWork, order: OrderOut, now: datetime) -> list[Panel]:
    stores = _stores(uow, {s["supplier_store_id"] for s in order.supplier_orders})
    return [
        Panel(
            s,
            stores[s["supplier_store_id"]].name,
            seconds_left(s["status"], s["release_at"], now),
            return_options(stores[s["supplier_store_id"]], s, now),
        )
        for s in order.supplier_orders
    ]


def seconds_left(status: str, release_at: str | None, now: datetime) -> int | None:
    """Whole seconds until a scheduled supplier order goes to its supplier (0 once overdue)."""
    if status != S.SCHEDULED or release_at is None:
        return None
    return max(math.ceil((datetime.fromisoformat(release_at) - now).total_seconds()), 0)


def _names(uow: UnitOfWork, store_ids: set[int]) -> dict[int, str]:
    return {store_id: store.name for store_id, store in _stores(uow, store_ids).items()}


def _stores(uow: UnitOfWork, store_ids: set[int]) -> dict[int, Store]:
    return {store_id: get_store(uow, store_id=store_id) for store_id in store_ids}
