"""Pre-orders in the admin UI (SPEC §2.4): the payment schedule panel of an order page and its
actions (collect the balance now with the card on file, send an invoice, change the due date),
and marking an order's notice as dealt with (a manual refund sent by hand is recorded).

Collecting twice cannot charge twice: `charge_now` locks the order, refuses a schedule that is
no longer unpaid (409) or has a charge in flight, and charges under a gateway idempotency key
per attempt. A second submit of the same form is therefore refused and says the payment was
already collected; no form nonce is needed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem.admin.acting import FormProblem, complain, perform, refusal
from tandem.admin.deps import FormViewerDep, Viewer, runtime_of
from tandem.admin.pages import redirect
from tandem.admin.presenting import card_name
from tandem.admin.routing import AdminRoute
from tandem.admin.security import Flash
from tandem.api.types import Id
from tandem.customers.domain import PaymentMethodStatus
from tandem.customers.models import PaymentMethod
from tandem.db import UnitOfWork
from tandem.errors import TandemError
from tandem.i18n.labels import N_
from tandem.orders import refunds
from tandem.orders.schemas import OrderOut
from tandem.preorders import charging, schedules
from tandem.preorders.domain import ScheduleStatus

router = APIRouter(prefix="/admin/orders", include_in_schema=False, route_class=AdminRoute)

NOTHING_TO_COLLECT = N_("Nothing to collect: this payment was already paid or cancelled.")
COLLECTED = N_("The payment was collected.")
CHALLENGED = N_("The bank asked the customer to confirm the payment: they were sent a link.")
REFUND_RECORDED = N_("The refund you sent was recorded.")
NOTICE_RESOLVED = N_("The notice was marked as resolved.")


# -- the panel on the order page ---------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRow:
    """One payment of a pre-order's balance as the order page shows it."""

    schedule: dict  # schedule_out
    card: str | None  # "Visa •••• 4242"
    card_usable: bool
    due_date: str  # the due date in the store's time zone, for the form: "2026-11-23"
    due_time: str  # "10:00"

    @property
    def actions(self) -> list[str]:
        return self.schedule["actions"]


def panel(uow: UnitOfWork, order: OrderOut, viewer: Viewer) -> list[ScheduleRow]:
    return [_row(uow, schedule, viewer) for schedule in order.payment_schedules]


def _row(uow: UnitOfWork, schedule: dict, viewer: Viewer) -> ScheduleRow:
    card_id = schedule["payment_method_id"]
    card = uow.session.get(PaymentMethod, card_id) if card_id else None
    due = _local(schedule["due_at"], viewer.timezone)
    return ScheduleRow(
        schedule=schedule,
        card=card_name(card),
        card_usable=card is not None and card.status == PaymentMethodStatus.ACTIVE,
        due_date=due.strftime("%Y-%m-%d") if due else "",
        due_time=due.strftime("%H:%M") if due else "",
    )


def _local(moment: str | None, timezone: str) -> datetime | None:
    return datetime.fromisoformat(moment).astimezone(ZoneInfo(timezone)) if moment else None


# -- actions -----------------------------------------------------------------------------------


@router.post("/{order_id}/payment_schedules/{schedule_id}/charge")
def charge(request: Request, order_id: Id, schedule_id: Id, viewer: FormViewerDep) -> Response:
    explain = {
        "invalid_transition": NOTHING_TO_COLLECT,
        "charge_in_progress": N_("A charge of this payment is already in progress."),
        "no_payment_method": N_("There is no card on file for this payment: send an invoice instead."),
        "payment_declined": N_(
            "The card was declined: the payment failed and the customer was asked for a new card."
        ),
        "gateway_error": N_("The payment gateway did not answer: try again in a moment."),
        "payment_pending": N_("The payment could not be confirmed yet: it will be settled shortly."),
    }
    return _act(
        request,
        viewer,
        order_id,
        charging.charge_now,
        done=lambda schedule: COLLECTED if schedule.status == ScheduleStatus.PAID else CHALLENGED,
        explain=explain,
        schedule_id=schedule_id,
        card_token=None,
    )


@router.post("/{order_id}/payment_schedules/{schedule_id}/send_invoice")
def send_invoice(request: Request, order_id: Id, schedule_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request,
        viewer,
        schedules.send_invoice,
        back=order_page(order_id),
        done=N_("The invoice is on its way to the customer."),
        explain={"invalid_transition": NOTHING_TO_COLLECT},
        order_id=order_id,
        schedule_id=schedule_id,
        actor=viewer.actor,
    )


@router.post("/{order_id}/payment_schedules/{schedule_id}/due_date")
def change_due_date(
    request: Request,
    order_id: Id,
    schedule_id: Id,
    viewer: FormViewerDep,
    due_date: Annotated[str, Form(max_length=20)] = "",
    due_time: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    try:
        due_at = store_time(due_date, due_time, viewer.timezone)
    except FormProblem as problem:
        return complain(request, viewer, order_page(order_id), problem)
    explain = {
        "due_at": N_("The new due date must be in the future."),
        "invalid_transition": N_("The due date of this payment can no longer be changed."),
    }
    return perform(
        request,
        viewer,
        schedules.change_due_date,
        back=order_page(order_id),
        done=N_("The due date was changed."),
        explain=explain,
        order_id=order_id,
        schedule_id=schedule_id,
        due_at=due_at,
        actor=viewer.actor,
    )


@router.post("/{order_id}/notices/{notice_id}/resolve")
def resolve_notice(request: Request, order_id: Id, notice_id: Id, viewer: FormViewerDep) -> Response:
    return _act(
        request,
        viewer,
        order_id,
        refunds.resolve_notice,
        done=lambda notice: REFUND_RECORDED if notice.kind == "manual_refund_required" else NOTICE_RESOLVED,
        explain={"notice_resolved": N_("This notice was already resolved.")},
        notice_id=notice_id,
    )


def store_time(day: str, clock: str, timezone: str) -> datetime:
    """A date and a time typed in the store's time zone, in UTC."""
    try:
        local = datetime.combine(
            date.fromisoformat(day.strip()), time.fromisoformat(clock.strip() or "00:00")
        )
        return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise FormProblem(N_("Enter the new due date and time.")) from None


def _act(
    request: Request,
    viewer: Viewer,
    order_id: int,
    use_case: Callable[..., Any],
    /,
    *,
    done: Callable[[Any], str],
    explain: dict[str, str],
    **arguments,
) -> Response:
    """Like `perform`, for use cases whose outcome decides what to tell: `done(result)`."""
    runtime, back = runtime_of(request), order_page(order_id)
    try:
        with runtime.uow() as uow:
            result = use_case(
                uow,
                store_id=viewer.store_id,
                order_id=order_id,
                actor=viewer.actor,
                now=runtime.clock.now(),
                **arguments,
            )
            message = done(result)
    except TandemError as exc:
        if exc.status == 404:
            raise
        return redirect(request, back, Flash("error", refusal(viewer, exc, explain)))
    return redirect(request, back, Flash("success", viewer.gettext(message)))


def order_page(order_id: int) -> str:
    return f"/admin/orders/{order_id}"
