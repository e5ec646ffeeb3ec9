"""Cancelling a supplier order from the admin UI (SPEC §2.3): the retailer requests it, the
supplier accepts or declines (saying why), or cancels on its own with a reason.

The buttons follow the supplier order's `allowed_actions`; a form posted anyway is refused by
the use case and the page says why, with nothing changed.
"""

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep
from tandem.admin.routing import AdminRoute
from tandem.admin.security import safe_next
from tandem.api.types import Id
from tandem.i18n.labels import N_
from tandem.suppliers import cancellations

router = APIRouter(route_class=AdminRoute)  # included under /admin/supplier_orders
MAX_TEXT = 255  # as the API's Text
MAX_NOTE = 5000  # as the API's LongText
CANNOT_REQUEST = {
    "invalid_transition": N_(
        "A cancellation cannot be requested now: only while the supplier has the order, nothing of it "
        "has shipped and no request awaits an answer."
    ),
}
NOTHING_TO_ANSWER = {"invalid_transition": N_("There is no cancellation request waiting for your answer.")}
CANNOT_CANCEL = {"invalid_transition": N_("This order can no longer be cancelled.")}


@router.post("/{supplier_order_id}/request_cancellation")
def request_cancellation(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    message: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    back = safe_next(next) if next else page_of(supplier_order_id)
    try:
        note = optional_text(message)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        cancellations.request_cancellation,
        back=back,
        done=N_("Your cancellation request was sent to the supplier."),
        explain=CANNOT_REQUEST,
        supplier_order_id=supplier_order_id,
        message=note,
        actor=viewer.actor,
    )


@router.post("/{supplier_order_id}/cancellation/accept")
def accept_cancellation(request: Request, supplier_order_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request,
        viewer,
        cancellations.answer_cancellation,
        back=page_of(supplier_order_id),
        done=N_("You accepted the cancellation. The order is cancelled and its items are back in stock."),
        explain=NOTHING_TO_ANSWER,
        supplier_order_id=supplier_order_id,
        accept=True,
        message=None,
    )


@router.post("/{supplier_order_id}/cancellation/decline")
def decline_cancellation(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    message: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    back = page_of(supplier_order_id)
    try:
        why = required_text(message, N_("Write a message telling the retailer why you decline."))
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        cancellations.answer_cancellation,
        back=back,
        done=N_("You declined the cancellation. The retailer sees your message."),
        explain=NOTHING_TO_ANSWER,
        supplier_order_id=supplier_order_id,
        accept=False,
        message=why,
    )


@router.post("/{supplier_order_id}/cancel")
def cancel(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    reason: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    back = page_of(supplier_order_id)
    try:
        why = required_text(reason, N_("Give the reason for cancelling: the retailer will see it."))
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        cancellations.supplier_cancels,
        back=back,
        done=N_("The order was cancelled. The retailer sees your reason."),
        explain=CANNOT_CANCEL,
        supplier_order_id=supplier_order_id,
        reason=why,
    )


# -- shared by the supplier-order forms -------------------------------------------------------


def page_of(supplier_order_id: int) -> str:
    return f"/admin/supplier_orders/{supplier_order_id}"


def required_text(raw: str, problem: str, *, limit: int = MAX_TEXT) -> str:
    """A short text the form must have (a reason, a message), as the API's Text."""
    text = raw.strip()
    if not text or "\x00" in text:
        raise FormProblem(problem)
    if len(text) > limit:
        raise FormProblem(N_("This text is too long: keep it under 255 characters."))
    return text


def optional_text(raw: str) -> str | None:
    """A note that may be left empty, as the API's LongText."""
    text = raw.strip()
    if "\x00" in text:
        raise FormProblem(N_("This text contains characters that cannot be saved."))
    return text or None
