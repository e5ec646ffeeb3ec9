"""The supplier refunds the retailer from the admin UI (SPEC §2.3): through the gateway with
automatic payments, otherwise by hand (`manual_pending` until the supplier marks it sent)."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem.admin import forms
from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep
from tandem.admin.routing import AdminRoute
from tandem.admin.supplier_cancellations import MAX_NOTE, optional_text, page_of
from tandem.api.types import Id
from tandem.i18n.labels import N_
from tandem.suppliers import refunds

router = APIRouter(route_class=AdminRoute)  # included under /admin/supplier_orders
BAD_AMOUNT = N_("Enter an amount such as 12.50, no more than what was collected and not refunded yet.")
EXPLAIN_REFUND = {
    "amount": BAD_AMOUNT,
    "nothing_collected": N_(
        "Nothing was collected from the retailer for this order: there is nothing to refund."
    ),
}
EXPLAIN_SENT = {
    "invalid_transition": N_("This refund cannot be marked as sent: it is not waiting to be sent by hand."),
}


@router.post("/{supplier_order_id}/refunds")
def refund_retailer(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    amount: Annotated[str, Form(max_length=30)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    back = page_of(supplier_order_id)
    try:
        value, text = _amount(amount), optional_text(note)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        refunds.refund_retailer,
        back=back,
        done=N_("The refund was recorded."),
        explain=EXPLAIN_REFUND,
        once=form_key,
        supplier_order_id=supplier_order_id,
        amount=value,
        note=text,
    )


@router.post("/{supplier_order_id}/refunds/{refund_id}/mark_sent")
def mark_sent(request: Request, supplier_order_id: Id, refund_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request,
        viewer,
        refunds.mark_sent,
        back=page_of(supplier_order_id),
        done=N_("The refund was marked as sent."),
        explain=EXPLAIN_SENT,
        supplier_order_id=supplier_order_id,
        refund_id=refund_id,
    )


def _amount(raw: str) -> Decimal:
    return forms.amount(raw, BAD_AMOUNT)
