from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tandem.api.presenting import money, timestamp
from tandem.api.types import Amount, BodyId, Flag, Input, LongText, OptionalText, Quantity, Url
from tandem.checkout.addresses import presented
from tandem.orders import domain
from tandem.orders.domain import CancelReason, HoldReason
from tandem.orders.models import Fulfillment, FulfillmentHold, LineItem, Notice, Order, Refund
from tandem.orders.service import notices_of, transactions_of
from tandem.payments import domain as payment_domain
from tandem.payments.models import PaymentTransaction
from tandem.timeline.messages import describe
from tandem.timeline.models import Event
from tandem.timeline.service import events_of

# -- requests --------------------------------------------------------------------------------


class CaptureIn(Input):
    amount: Amount | None = None


class HoldIn(Input):
    reason: HoldReason
    note: LongText | None = None


class ReleaseIn(Input):
    hold_ids: list[BodyId] | None = Field(default=None, max_length=100)


class CancelIn(Input):
    reason: CancelReason = CancelReason.OTHER
    refund: Flag = True
    restock: Flag = True
    notify_customer: Flag = True


class RefundLineIn(Input):
    line_item_id: BodyId
    quantity: Quantity
    restock_type: Literal["no_restock", "cancel", "return"] = "no_restock"


class RefundIn(Input):
    line_items: list[RefundLineIn] = Field(default_factory=list, max_length=100)
    amount: Amount | None = None
    note: LongText | None = None


class FulfillLineIn(Input):
    id: BodyId
    quantity: Quantity | None = None


class FulfillmentIn(Input):
    line_item_ids: list[BodyId] | None = Field(default=None, max_length=100)
    line_items: list[FulfillLineIn] | None = Field(default=None, max_length=100)
    tracking_company: OptionalText | None = None
    tracking_number: OptionalText | None = None
    tracking_url: Url | None = None
    notify_customer: Flag = True  # the shipping confirmation email


# -- responses -------------------------------------------------------------------------------


class LineItemOut(BaseModel):
    id: int
    variant_id: int
    product_title: str
    variant_title: str
    sku: str | None
    quantity: int
    price: str
    fulfilled_quantity: int
    fulfillable_quantity: int
    refunded_quantity: int
    returned_quantity: int
    selling_plan_id: int | None = None  # sold as a pre-order
    stock_allocated: bool = True  # False: a pre-order whose stock is taken when it ships


class TransactionOut(BaseModel):
    id: int
    kind: str
    status: str
    amount: str
    currency: str
    gateway: str
    gateway_reference: str | None
    parent_id: int | None
    payment_schedule_id: int | None = None  # a pre-order balance
    message: str | None
    created_at: str
    processed_at: str | None


class HoldOut(BaseModel):
    id: int
    reason: str
    note: str | None
    held_by: str
    created_at: str
    released_at: str | None
    released_by: str | None


class FulfillmentLineOut(BaseModel):
    line_item_id: int
    quantity: int


class FulfillmentOut(BaseModel):
    id: int
    order_id: int
    status: str
    tracking_company: str | None
    tracking_number: str | None
    tracking_url: str | None
    line_items: list[FulfillmentLineOut]
    created_at: str


class RefundLineOut(BaseModel):
    line_item_id: int
    quantity: int
    restock_type: str
    amount: str


class RefundOut(BaseModel):
    id: int
    order_id: int
    amount: str
    currency: str
    note: str | None
    status: str
    line_items: list[RefundLineOut]
    transactions: list[TransactionOut]
    created_at: str


class ActorOut(BaseModel):
    kind: str
    name: str
    id: int | None


class EventOut(BaseModel):
    id: int
    verb: str
    message: str
    actor: ActorOut
    data: dict
    created_at: str


class NoticeOut(BaseModel):
    id: int
    kind: str
    message: str
    amount: str | None
    created_at: str
    resolved_at: str | None
    resolved_by: str | None = None


class OrderSummary(BaseModel):
    id: int
    number: int
    name: str
    email: str
    customer_id: int | None
    currency: str
    total: str
    status: str
    financial_status: str
    fulfillment_status: str
    created_at: str
    updated_at: str


class OrderOut(OrderSummary):
    checkout_id: int | None
    subtotal: str
    shipping_total: str
    total_captured: str
    total_refunded: str
    total_outstanding: str
    cancel_reason: str | None
    cancelled_at: str | None
    shipping_address: dict
    note: str | None
    tags: list
    line_items: list[LineItemOut]
    transactions: list[TransactionOut]
    holds: list[HoldOut]
    fulfillments: list[FulfillmentOut]
    refunds: list[RefundOut]
    notices: list[NoticeOut]
    supplier_orders: list[dict]
    payment_schedules: list[dict]
    events: list[EventOut]
    allowed_actions: list[str]


class OrderPage(BaseModel):
    orders: list[OrderSummary]
    next_cursor: str | None


def summary_fields(order: Order) -> dict:
    cur = order.currency
    return dict(
        id=order.id,
        number=order.number,
        name=order.name,
        email=order.email,
        customer_id=order.customer_id,
        currency=cur,
        total=money(order.total, cur),
        status=order.status,
        financial_status=order.financial_status,
        fulfillment_status=order.fulfillment_status,
        created_at=timestamp(order.created_at),
        updated_at=timestamp(order.updated_at),
    )


def order_out(session: Session, order: Order, *, transactions: list | None = None) -> OrderOut:
    """An order as the API shows it, read from the database (but `transactions`, if given)."""
    return order_out_of(
        order,
        transactions=transactions_of(session, order.id) if transactions is None else transactions,
        notices=notices_of(session, order.id),
        supplier_orders=_supplier_orders(session, order),
        payment_schedules=_payment_schedules(session, order),
        events=events_of(session, subject_type="order", subject_id=order.id),
    )


def placed_order_json(session: Session, placed) -> str:
    """A just-placed order (orders.placing.PlacedOrder) as JSON: from the record itself, or
    from the database if a follower (a rule, a supplier order, a schedule) changed it."""
    if placed.json is None:
        if placed.changed_by_followers:
            # Its payment is the one in hand: its row learns the order id later in this transaction.
            stored = session.get(Order, placed.id, populate_existing=True)
            placed.json = order_out(session, stored, transactions=placed.transactions).model_dump_json()
        else:
            placed.json = order_out_of(
                placed,
                transactions=placed.transactions,
                notices=[],
                supplier_orders=[],
                payment_schedules=[],
                events=placed.events,
            ).model_dump_json()
    return placed.json


def order_out_of(order, *, transactions, notices, supplier_orders, payment_schedules, events) -> OrderOut:
    """Map an order and what belongs to it; reads nothing."""
    cur = order.currency
    totals = payment_domain.totals(transactions)
    return OrderOut(
        **summary_fields(order),
        checkout_id=order.checkout_id,
        subtotal=money(order.subtotal, cur),
        shipping_total=money(order.shipping_total, cur),
        total_captured=money(totals.captured, cur),
        total_refunded=money(totals.refunded, cur),
        total_outstanding=money(
            max(order.total - totals.net_paid, 0) if order.status != "cancelled" else 0, cur
        ),
        cancel_reason=order.cancel_reason,
        cancelled_at=timestamp(order.cancelled_at),
        shipping_address=presented(order.shipping_address),
        note=order.note,
        tags=order.tags,
        line_items=[line_item_out(li, cur) for li in order.line_items],
        transactions=[transaction_out(t) for t in transactions],
        holds=[hold_out(h) for h in order.holds],
        fulfillments=[fulfillment_out(f) for f in order.fulfillments],
        refunds=[refund_out(r, cur, transactions) for r in order.refunds],
        notices=[notice_out(n, cur) for n in notices],
        supplier_orders=supplier_orders,
        payment_schedules=payment_schedules,
        events=[event_out(e, cur) for e in events],
        allowed_actions=[a.value for a in domain.allowed_actions(order)],
    )


def _supplier_orders(session: Session, order: Order) -> list[dict]:
    if not any(line.supplier_store_id for line in order.line_items):
        return []
    from tandem.suppliers.schemas import supplier_order_out  # it shows orders' fulfillments too
    from tandem.suppliers.supplier_orders import of_order

    return [
        supplier_order_out(session, s, viewer_store_id=order.store_id, with_events=False).model_dump()
        for s in of_order(session, order.id)
    ]


def _payment_schedules(session: Session, order: Order) -> list[dict]:
    if not any(line.selling_plan_id for line in order.line_items):
        return []
    from tandem.preorders.schemas import schedule_out
    from tandem.preorders.service import schedules_of

    return [schedule_out(s).model_dump() for s in schedules_of(session, order.id)]


def line_item_out(line: LineItem, currency: str) -> LineItemOut:
    return LineItemOut(
        id=line.id,
        variant_id=line.variant_id,
        product_title=line.product_title,
        variant_title=line.variant_title,
        sku=line.sku,
        quantity=line.quantity,
        price=money(line.price, currency),
        fulfilled_quantity=line.fulfilled_quantity,
        fulfillable_quantity=line.fulfillable_quantity,
        refunded_quantity=line.refunded_quantity,
        returned_quantity=line.returned_quantity,
        selling_plan_id=line.selling_plan_id,
        stock_allocated=line.stock_allocated,
    )


def transaction_out(tx: PaymentTransaction) -> TransactionOut:
    return TransactionOut(
        id=tx.id,
        kind=tx.kind,
        status=tx.status,
        amount=money(tx.amount, tx.currency),
        currency=tx.currency,
        gateway=tx.gateway,
        gateway_reference=tx.gateway_reference,
        parent_id=tx.parent_id,
        payment_schedule_id=tx.payment_schedule_id,
        message=tx.message,
        created_at=timestamp(tx.created_at),
        processed_at=timestamp(tx.processed_at),
    )


def hold_out(hold: FulfillmentHold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        reason=hold.reason,
        note=hold.note,
        held_by=hold.held_by,
        created_at=timestamp(hold.created_at),
        released_at=timestamp(hold.released_at),
        released_by=hold.released_by,
    )


def fulfillment_out(fulfillment: Fulfillment) -> FulfillmentOut:
    return FulfillmentOut(
        id=fulfillment.id,
        order_id=fulfillment.order_id,
        status=fulfillment.status,
        tracking_company=fulfillment.tracking_company,
        tracking_number=fulfillment.tracking_number,
        tracking_url=fulfillment.tracking_url,
        created_at=timestamp(fulfillment.created_at),
        line_items=[
            FulfillmentLineOut(line_item_id=fl.line_item_id, quantity=fl.quantity) for fl in fulfillment.lines
        ],
    )


def refund_out(refund: Refund, currency: str, txs: list[PaymentTransaction]) -> RefundOut:
    mine = [t for t in txs if t.refund_id == refund.id]
    return RefundOut(
        id=refund.id,
        order_id=refund.order_id,
        amount=money(refund.amount, currency),
        currency=currency,
        note=refund.note,
        status=refund_status(refund, mine),
        line_items=[
            RefundLineOut(
                line_item_id=rl.line_item_id,
                quantity=rl.quantity,
                restock_type=rl.restock_type,
                amount=money(rl.amount, currency),
            )
            for rl in refund.lines
        ],
        transactions=[transaction_out(t) for t in mine],
        created_at=timestamp(refund.created_at),
    )


def refund_status(refund: Refund, txs: list[PaymentTransaction]) -> str:
    """success once all its money went back; pending while the gateway works; else failed."""
    statuses = {t.status for t in txs}
    if not txs or statuses == {"success"}:
        return "success"
    if "pending" in statuses:
        return "pending"
    return "failed"


def notice_out(notice: Notice, currency: str) -> NoticeOut:
    return NoticeOut(
        id=notice.id,
        kind=notice.kind,
        message=notice.message,
        amount=money(notice.amount, currency),
        created_at=timestamp(notice.created_at),
        resolved_at=timestamp(notice.resolved_at),
        resolved_by=notice.resolved_by,
    )


def event_out(event: Event, currency: str) -> EventOut:
    return EventOut(
        id=event.id,
        verb=event.verb,
        message=describe(event.verb, event.data, currency),
        actor=ActorOut(kind=event.actor_kind, name=event.actor_name, id=event.actor_id),
        data=event.data,
        created_at=timestamp(event.created_at),
    )
