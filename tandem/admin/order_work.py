"""Staff fulfil and refund the store's own items from the order page (SPEC §8).

Moving money asks twice: the refund form first shows what will happen, and only the
confirmation sent from that page acts (with the form's one-time key, so a double click or a
reload refunds once)."""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem import money
from tandem.admin import forms
from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.admin.supplier_cancellations import MAX_NOTE, optional_text
from tandem.api.types import Id
from tandem.i18n.labels import N_
from tandem.inventory.domain import RestockType
from tandem.orders import fulfillments, refunds, service
from tandem.orders.schemas import OrderOut, order_out

router = APIRouter(prefix="/admin/orders", include_in_schema=False, route_class=AdminRoute)
BAD_AMOUNT = N_("Enter an amount such as 12.50, no more than what was paid and not refunded yet.")
EXPLAIN_REFUND = {"amount": BAD_AMOUNT}


@router.post("/{order_id}/fulfill")
def fulfill(
    request: Request,
    order_id: Id,
    viewer: FormViewerDep,
    line_id: Annotated[list[Id] | None, Form()] = None,
    quantity: Annotated[list[int] | None, Form()] = None,
    tracking_company: Annotated[str, Form(max_length=255)] = "",
    tracking_number: Annotated[str, Form(max_length=255)] = "",
    tracking_url: Annotated[str, Form(max_length=2000)] = "",
    notify_customer: Annotated[bool, Form()] = False,
) -> Response:
    back = page_of(order_id)
    try:
        chosen = forms.line_counts(
            line_id or [], quantity or [], none_chosen=N_("Choose at least one item to fulfill.")
        )
        tracking = forms.tracking(tracking_company, tracking_number, tracking_url, required=False)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        fulfillments.fulfill_order,
        back=back,
        done=N_("The items were marked as fulfilled."),
        order_id=order_id,
        picks=[fulfillments.LinePick(line, count) for line, count in chosen],
        tracking=fulfillments.Tracking(**tracking),
        actor=viewer.actor,
        notify_customer=notify_customer,
    )


@router.post("/{order_id}/refund")
def refund(
    request: Request,
    order_id: Id,
    viewer: FormViewerDep,
    line_id: Annotated[list[Id] | None, Form()] = None,
    quantity: Annotated[list[int] | None, Form()] = None,
    restock: Annotated[bool, Form()] = False,
    amount: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
    confirmed: Annotated[bool, Form()] = False,
) -> Response:
    back = page_of(order_id)
    order = _order(request, viewer, order_id)
    try:
        wanted = _refund_request(order, line_id or [], quantity or [], restock, amount, note)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    if not confirmed:
        return _confirm_refund(request, viewer, order, wanted, form_key)
    return perform(
        request,
        viewer,
        refunds.refund_order,
        back=back,
        done=N_("The refund was made."),
        explain=EXPLAIN_REFUND,
        once=form_key,
        order_id=order_id,
        request=wanted,
        actor=viewer.actor,
    )


def page_of(order_id: int) -> str:
    return f"/admin/orders/{order_id}"


def _order(request: Request, viewer, order_id: int) -> OrderOut:
    with runtime_of(request).uow(read_only=True) as uow:
        return order_out(uow.session, service.get_order(uow, store_id=viewer.store_id, order_id=order_id))


def _refund_request(
    order: OrderOut, line_ids: list[int], quantities: list[int], restock: bool, amount: str, note: str
) -> refunds.RefundRequest:
    unclear = N_("Choose how many of each item to refund.")
    chosen = forms.line_counts(line_ids, quantities, none_chosen=None, unclear=unclear)
    lines = {line.id: line for line in order.line_items}
    wanted = [
        refunds.RefundLineRequest(line, count, _restock_type(lines.get(line), count, restock))
        for line, count in chosen
    ]
    value = forms.amount(amount, BAD_AMOUNT) if amount.strip() else None
    if not wanted and value is None:
        raise FormProblem(N_("Choose the items to refund, or enter an amount."))
    return refunds.RefundRequest(lines=wanted, amount=value, note=optional_text(note))


def _restock_type(line, count: int, restock: bool) -> RestockType:
    """Back in stock: units not shipped yet are simply freed; shipped ones come back as a return."""
    if not restock or line is None:
        return RestockType.NO_RESTOCK
    return RestockType.CANCEL if count <= line.fulfillable_quantity else RestockType.RETURN


def _confirm_refund(
    request: Request, viewer, order: OrderOut, wanted: refunds.RefundRequest, form_key: str
) -> Response:
    """The second step: what the refund will do, and the button that does it."""
    lines = {line.id: line for line in order.line_items}
    chosen = [(lines[line.line_item_id], line) for line in wanted.lines if line.line_item_id in lines]
    if wanted.amount is None:
        total = sum(money.to_minor(line.price, order.currency) * want.quantity for line, want in chosen)
    else:
        total = money.to_minor(wanted.amount, order.currency)
    return render(
        request,
        "confirm_refund.html",
        viewer=viewer,
        order=order,
        chosen=chosen,
        wanted=wanted,
        total=total,
        key=form_key,
    )
