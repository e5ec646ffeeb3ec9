from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from tandem.api.deps import CallerDep, IdempotentDep, Now, ReadUoW, RuntimeDep, UoW
from tandem.api.presenting import csv_response
from tandem.api.types import Id, SearchText
from tandem.inventory.domain import RestockType
from tandem.orders import export, fulfillments, listing, refunds, service
from tandem.orders.schemas import (
    CancelIn,
    CaptureIn,
    FulfillmentIn,
    FulfillmentOut,
    HoldIn,
    NoticeOut,
    OrderOut,
    OrderPage,
    OrderSummary,
    RefundIn,
    RefundOut,
    ReleaseIn,
    fulfillment_out,
    notice_out,
    order_out,
    refund_out,
    summary_fields,
)
from tandem.orders.service import transactions_of
from tandem.stores.service import get_store

router = APIRouter(tags=["orders"])


@router.get("/orders", response_model=OrderPage)
def list_orders(
    caller: CallerDep,
    uow: ReadUoW,
    financial_status: Annotated[SearchText | None, Query()] = None,
    fulfillment_status: Annotated[SearchText | None, Query()] = None,
    status: Annotated[SearchText | None, Query()] = None,
    q: Annotated[SearchText | None, Query()] = None,
    sort: Annotated[SearchText, Query()] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=250)] = 50,
    cursor: Annotated[SearchText | None, Query()] = None,
):
    query = listing.OrderQuery(
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        status=status,
        q=q,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    orders, next_cursor = listing.list_orders(uow, store_id=caller.store_id, query=query)
    return OrderPage(orders=[OrderSummary(**summary_fields(o)) for o in orders], next_cursor=next_cursor)


@router.get(
    "/orders.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per line item, with a header"}},
)
def export_orders(
    caller: CallerDep,
    runtime: RuntimeDep,
    financial_status: Annotated[SearchText | None, Query()] = None,
    fulfillment_status: Annotated[SearchText | None, Query()] = None,
    status: Annotated[SearchText | None, Query()] = None,
    q: Annotated[SearchText | None, Query()] = None,
    sort: Annotated[SearchText, Query()] = "-created_at",
):
    """The orders the same filters list, every page of them, as CSV (times in the store's zone)."""
    query = listing.OrderQuery(
        financial_status=financial_status,
        fulfillment_status=fulfillment_status,
        status=status,
        q=q,
        sort=sort,
    )
    with runtime.uow(read_only=True) as uow:  # a bad filter is a 422 before the download starts
        listing.list_orders(uow, store_id=caller.store_id, query=replace(query, limit=1))
        timezone = get_store(uow, store_id=caller.store_id).timezone
    rows = export.csv_rows(
        lambda: runtime.uow(read_only=True), store_id=caller.store_id, query=query, timezone=timezone
    )
    return csv_response(rows, export.filename(runtime.clock.now()))


@router.get("/orders/{order_id}", response_model=OrderOut)
def get_order(order_id: Id, caller: CallerDep, uow: ReadUoW):
    return order_out(uow.session, service.get_order(uow, store_id=caller.store_id, order_id=order_id))


@router.post("/orders/{order_id}/capture", response_model=OrderOut)
def capture(
    order_id: Id, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep, body: CaptureIn | None = None
):
    amount = body.amount if body else None

    def run():
        order = service.capture_order(
            uow, store_id=caller.store_id, order_id=order_id, amount=amount, actor=caller.actor, now=now
        )
        return order_out(uow.session, order)

    return idem.run(uow, run)


@router.post("/orders/{order_id}/mark_as_paid", response_model=OrderOut)
def mark_as_paid(order_id: Id, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep):
    def run():
        order = service.mark_as_paid(
            uow, store_id=caller.store_id, order_id=order_id, actor=caller.actor, now=now
        )
        return order_out(uow.session, order)

    return idem.run(uow, run)


@router.post("/orders/{order_id}/holds", response_model=OrderOut, status_code=201)
def place_hold(order_id: Id, body: HoldIn, caller: CallerDep, uow: UoW, now: Now):
    order = service.place_hold(
        uow,
        store_id=caller.store_id,
        order_id=order_id,
        reason=body.reason,
        note=body.note,
        actor=caller.actor,
        now=now,
    )
    return order_out(uow.session, order)


@router.post("/orders/{order_id}/holds/release", response_model=OrderOut)
def release_holds(order_id: Id, caller: CallerDep, uow: UoW, now: Now, body: ReleaseIn | None = None):
    order = service.release_holds(
        uow,
        store_id=caller.store_id,
        order_id=order_id,
        hold_ids=body.hold_ids if body else None,
        actor=caller.actor,
        now=now,
    )
    return order_out(uow.session, order)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
def cancel(
    order_id: Id, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep, body: CancelIn | None = None
):
    request = refunds.CancelRequest(**(body or CancelIn()).model_dump())

    def run():
        order = refunds.cancel_order(
            uow, store_id=caller.store_id, order_id=order_id, request=request, actor=caller.actor, now=now
        )
        return order_out(uow.session, order)

    return idem.run(uow, run)


@router.post("/orders/{order_id}/refunds", response_model=RefundOut, status_code=201)
def refund(order_id: Id, body: RefundIn, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep):
    request = refunds.RefundRequest(
        lines=[
            refunds.RefundLineRequest(line.line_item_id, line.quantity, RestockType(line.restock_type))
            for line in body.line_items
        ],
        amount=body.amount,
        note=body.note,
    )

    def run():
        created = refunds.refund_order(
            uow, store_id=caller.store_id, order_id=order_id, request=request, actor=caller.actor, now=now
        )
        order = service.get_order(uow, store_id=caller.store_id, order_id=order_id)
        return refund_out(created, order.currency, transactions_of(uow.session, order_id))

    return idem.run(uow, run, status=201)


@router.post("/orders/{order_id}/fulfillments", response_model=FulfillmentOut, status_code=201)
def fulfill(
    order_id: Id,
    caller: CallerDep,
    uow: UoW,
    now: Now,
    idem: IdempotentDep,
    body: FulfillmentIn | None = None,
):
    body = body or FulfillmentIn()
    picks = _picks(body)
    tracking = fulfillments.Tracking(body.tracking_company, body.tracking_number, body.tracking_url)

    def run():
        return fulfillment_out(
            fulfillments.fulfill_order(
                uow,
                store_id=caller.store_id,
                order_id=order_id,
                picks=picks,
                tracking=tracking,
                actor=caller.actor,
                now=now,
                notify_customer=body.notify_customer,
            )
        )

    return idem.run(uow, run, status=201)


@router.post("/orders/{order_id}/archive", response_model=OrderOut)
def archive(order_id: Id, caller: CallerDep, uow: UoW, now: Now):
    order = service.archive_order(
        uow, store_id=caller.store_id, order_id=order_id, archived=True, actor=caller.actor, now=now
    )
    return order_out(uow.session, order)


@router.post("/orders/{order_id}/unarchive", response_model=OrderOut)
def unarchive(order_id: Id, caller: CallerDep, uow: UoW, now: Now):
    order = service.archive_order(
        uow, store_id=caller.store_id, order_id=order_id, archived=False, actor=caller.actor, now=now
    )
    return order_out(uow.session, order)


def _picks(body: FulfillmentIn) -> list[fulfillments.LinePick] | None:
    if body.line_items is not None:
        return [fulfillments.LinePick(line.id, line.quantity) for line in body.line_items]
    if body.line_item_ids is not None:
        return [fulfillments.LinePick(line_id) for line_id in body.line_item_ids]
    return None


@router.post("/orders/{order_id}/notices/{notice_id}/resolve", response_model=NoticeOut)
def resolve_notice(order_id: Id, notice_id: Id, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep):
    """Staff dealt with the notice; a manual refund notice records the refund they made by hand."""

    def run():
        notice = refunds.resolve_notice(
            uow, store_id=caller.store_id, order_id=order_id, notice_id=notice_id, actor=caller.actor, now=now
        )
        order = service.get_order(uow, store_id=caller.store_id, order_id=order_id)
        return notice_out(notice, order.currency)

    return idem.run(uow, run)
