"""Returns in the admin UI (SPEC §2.3): the retailer asks to return shipped items under the
supplier's return policy; the supplier approves or declines, then closes the return once the
goods are back (restocking them or not), which refunds the retailer minus the restocking fee.

Also what the pages need to offer a return: the policy, what each line may still return, and
until when.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, runtime_of
from tandem.admin.routing import AdminRoute
from tandem.admin.security import safe_next
from tandem.admin.supplier_cancellations import MAX_NOTE, optional_text, page_of, required_text
from tandem.api.types import Id
from tandem.errors import NotFound
from tandem.i18n.labels import N_
from tandem.stores.models import Store
from tandem.stores.schemas import ReturnPolicyIn
from tandem.suppliers import returns
from tandem.suppliers.domain import ReturnReason
from tandem.suppliers.schemas import ReturnPolicyOut

router = APIRouter(route_class=AdminRoute)  # included under /admin/supplier_orders
LIVE = {status.value for status in returns.LIVE}  # returns that hold on to their units
EXPLAIN_REQUEST = {
    "line_items": N_("The supplier’s return policy does not allow this return: %(reason)s"),
    "nothing_shipped": N_("Only items that were shipped can be returned."),
}
EXPLAIN_DECISION = {"invalid_transition": N_("This return no longer waits for this step.")}
MAX_SKUS = 1000


# -- the retailer asks -----------------------------------------------------------------------


@router.post("/{supplier_order_id}/returns")
def request_return(
    request: Request,
    supplier_order_id: Id,
    viewer: FormViewerDep,
    reason: Annotated[str, Form(max_length=30)] = "",
    line_id: Annotated[list[Id] | None, Form()] = None,
    quantity: Annotated[list[int] | None, Form()] = None,
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    back = safe_next(next) if next else page_of(supplier_order_id)
    try:
        why, lines, text = _reason(reason), _lines(line_id or [], quantity or []), optional_text(note)
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        returns.request_return,
        back=back,
        done=N_("Your return request was sent to the supplier."),
        explain=EXPLAIN_REQUEST,
        supplier_order_id=supplier_order_id,
        reason=why,
        lines=lines,
        note=text,
        actor=viewer.actor,
    )


def _reason(raw: str) -> ReturnReason:
    if raw not in {reason.value for reason in ReturnReason}:
        raise FormProblem(N_("Choose the reason for the return."))
    return ReturnReason(raw)


def _lines(line_ids: list[int], quantities: list[int]) -> list[returns.ReturnLineRequest]:
    """The form lists every returnable line with a quantity; 0 keeps a line."""
    if len(line_ids) != len(quantities) or any(count < 0 for count in quantities):
        raise FormProblem(N_("Choose how many of each item to return."))
    lines = [
        returns.ReturnLineRequest(line, count)
        for line, count in zip(line_ids, quantities, strict=True)
        if count
    ]
    if not lines:
        raise FormProblem(N_("Choose at least one item to return."))
    return lines


# -- the supplier decides --------------------------------------------------------------------


@router.post("/{supplier_order_id}/returns/{return_id}/approve")
def approve(request: Request, supplier_order_id: Id, return_id: Id, viewer: FormViewerDep) -> Response:
    _check_return_of(request, viewer.store_id, supplier_order_id, return_id)
    return perform(
        request,
        viewer,
        returns.decide,
        back=page_of(supplier_order_id),
        done=N_("You approved the return. Close it once the goods are back."),
        explain=EXPLAIN_DECISION,
        return_id=return_id,
        approve=True,
        message=None,
    )


@router.post("/{supplier_order_id}/returns/{return_id}/decline")
def decline(
    request: Request,
    supplier_order_id: Id,
    return_id: Id,
    viewer: FormViewerDep,
    message: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    _check_return_of(request, viewer.store_id, supplier_order_id, return_id)
    back = page_of(supplier_order_id)
    try:
        why = required_text(message, N_("Write a message telling the retailer why you decline the return."))
    except FormProblem as problem:
        return complain(request, viewer, back, problem)
    return perform(
        request,
        viewer,
        returns.decide,
        back=back,
        done=N_("You declined the return. The retailer sees your message."),
        explain=EXPLAIN_DECISION,
        return_id=return_id,
        approve=False,
        message=why,
    )


@router.post("/{supplier_order_id}/returns/{return_id}/close")
def close(
    request: Request,
    supplier_order_id: Id,
    return_id: Id,
    viewer: FormViewerDep,
    restock: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    _check_return_of(request, viewer.store_id, supplier_order_id, return_id)
    back = page_of(supplier_order_id)
    if restock not in ("true", "false"):
        return complain(request, viewer, back, FormProblem(N_("Choose whether the items go back in stock.")))
    return perform(
        request,
        viewer,
        returns.close,
        back=back,
        done=N_("The return was closed and the retailer refunded."),
        explain=EXPLAIN_DECISION,
        return_id=return_id,
        restock=restock == "true",
    )


def _check_return_of(request: Request, store_id: int, supplier_order_id: int, return_id: int) -> None:
    """A return is acted on from its own supplier order's page; any other pairing is a 404."""
    with runtime_of(request).uow(read_only=True) as uow:
        found = returns.get_return(uow, store_id=store_id, return_id=return_id)
    if found.supplier_order_id != supplier_order_id:
        raise NotFound("return not found")


# -- what the pages show ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnableLine:
    id: int  # a supplier order line
    title: str
    sku: str | None
    room: int  # shipped and not in a return yet
    final_sale: bool


@dataclass(frozen=True)
class ReturnOptions:
    """The supplier's policy as it applies to one supplier order, for its retailer."""

    policy: ReturnPolicyOut
    lines: list[ReturnableLine]
    window_ends: datetime | None  # last shipment + the return window
    now: datetime

    @property
    def window_open(self) -> bool:
        return self.window_ends is not None and self.now <= self.window_ends

    @property
    def returnable(self) -> list[ReturnableLine]:
        return [line for line in self.lines if line.room and not line.final_sale]


def return_options(supplier: Store, so: dict, now: datetime) -> ReturnOptions:
    """`so` is a supplier order as `supplier_order_out` shows it, as a dict."""
    policy = ReturnPolicyOut.of(supplier)
    taken: dict[int, int] = {}
    for earlier in so["returns"]:
        if earlier["status"] in LIVE:
            for line in earlier["line_items"]:
                taken[line["id"]] = taken.get(line["id"], 0) + line["quantity"]
    lines = [
        ReturnableLine(
            line["id"],
            line["title"],
            line["sku"],
            max(line["fulfilled_quantity"] - taken.get(line["id"], 0), 0),
            bool(line["sku"]) and line["sku"] in policy.final_sale_skus,
        )
        for line in so["line_items"]
        if line["fulfilled_quantity"]
    ]
    shipped = [datetime.fromisoformat(f["created_at"]) for f in so["fulfillments"]]
    window_ends = max(shipped) + timedelta(days=policy.window_days) if shipped else None
    return ReturnOptions(policy, lines, window_ends, now)


# -- the supplier's policy, edited on the settings page -------------------------------------


def policy_from_form(
    *, window_days: str, restocking_fee_percent: str, label_provider: str, skus: str
) -> dict:
    """The return policy as the API's ReturnPolicyIn checks it; a FormProblem says what to fix."""
    try:
        policy = ReturnPolicyIn(
            window_days=_whole(window_days, N_("Enter the return window as a number of days, 0 to 365.")),
            restocking_fee_percent=_whole(
                restocking_fee_percent, N_("Enter the restocking fee as a percentage, 0 to 100.")
            ),
            label_provider=label_provider,
            final_sale_skus=_skus(skus),
        )
    except ValidationError as exc:
        raise FormProblem(_policy_problem(exc)) from None
    return policy.model_dump()


def _whole(raw: str, problem: str) -> int:
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        raise FormProblem(problem)
    return int(raw)


def _skus(raw: str) -> list[str]:
    """SKUs typed one per line or separated by commas."""
    skus = [sku.strip() for sku in raw.replace(",", "\n").splitlines() if sku.strip()]
    if len(skus) > MAX_SKUS or any(len(sku) > 255 or "\x00" in sku for sku in skus):
        raise FormProblem(N_("List at most 1000 final-sale SKUs, one per line, each under 255 characters."))
    return skus


def _policy_problem(error: ValidationError) -> str:
    field = str(error.errors()[0]["loc"][0])
    return {
        "window_days": N_("Enter the return window as a number of days, 0 to 365."),
        "restocking_fee_percent": N_("Enter the restocking fee as a percentage, 0 to 100."),
        "label_provider": N_("Choose who provides the return label."),
    }.get(field, N_("List at most 1000 final-sale SKUs, one per line, each under 255 characters."))
