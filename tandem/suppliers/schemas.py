from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tandem.api.presenting import money, timestamp
from tandem.api.types import Amount, BodyId, Flag, Input, LongText, Quantity, Text, Url
from tandem.catalog.schemas import ProductOut
from tandem.checkout.addresses import presented
from tandem.orders.models import Fulfillment, Order
from tandem.orders.schemas import EventOut, FulfillmentOut, event_out, fulfillment_out
from tandem.stores.models import Store
from tandem.suppliers import domain
from tandem.suppliers.domain import ReturnReason
from tandem.suppliers.models import Connection, SupplierOrder, SupplierRefund, SupplierReturn
from tandem.suppliers.refunds import refunds_of
from tandem.suppliers.returns import returns_of
from tandem.timeline.service import events_of

# -- requests --------------------------------------------------------------------------------


class ConnectionIn(Input):
    supplier_store_id: BodyId


class ImportIn(Input):
    supplier_product_id: BodyId
    price: Amount | None = None
    title: Text | None = None


class SupplierLineIn(Input):
    id: BodyId
    quantity: Quantity | None = None


class CancellationRequestIn(Input):
    message: LongText | None = None


class MessageIn(Input):
    message: Text


class SupplierCancelIn(Input):
    reason: Text


class SupplierRefundIn(Input):
    amount: Amount
    note: LongText | None = None


class ReturnLineIn(Input):
    id: BodyId  # a line of the supplier order
    quantity: Quantity


class ReturnIn(Input):
    reason: ReturnReason
    line_items: list[ReturnLineIn] = Field(min_length=1, max_length=100)
    note: LongText | None = None


class ReturnCloseIn(Input):
    restock: Flag = True


class SupplierFulfillmentIn(Input):
    tracking_company: Text
    tracking_number: Text
    tracking_url: Url | None = None
    line_item_ids: list[BodyId] | None = Field(default=None, max_length=100)
    line_items: list[SupplierLineIn] | None = Field(default=None, max_length=100)


# -- responses -------------------------------------------------------------------------------


class ReturnPolicyOut(BaseModel):
    window_days: int
    restocking_fee_percent: int
    label_provider: str
    final_sale_skus: list[str]

    @classmethod
    def of(cls, store: Store) -> "ReturnPolicyOut":
        return cls(
            window_days=store.return_window_days,
            restocking_fee_percent=store.restocking_fee_percent,
            label_provider=store.return_label_provider,
            final_sale_skus=list(store.final_sale_skus or []),
        )


class ConnectionOut(BaseModel):
    id: int
    retailer_store_id: int
    retailer_name: str
    supplier_store_id: int
    supplier_name: str
    status: str
    automatic_payments: bool
    return_policy: ReturnPolicyOut  # the supplier's
    created_at: str
    accepted_at: str | None

    @classmethod
    def of(cls, connection: Connection, stores: dict[int, Store]) -> "ConnectionOut":
        retailer, supplier = (
            stores[connection.retailer_store_id],
            stores[connection.supplier_store_id],
        )
        return cls(
            id=connection.id,
            retailer_store_id=retailer.id,
            retailer_name=retailer.name,
            supplier_store_id=supplier.id,
            supplier_name=supplier.name,
            status=connection.status,
            automatic_payments=retailer.collective_automatic_payments
            and supplier.collective_automatic_payments,
            return_policy=ReturnPolicyOut.of(supplier),
            created_at=timestamp(connection.created_at),
            accepted_at=timestamp(connection.accepted_at),
        )


class ConnectionList(BaseModel):
    connections: list[ConnectionOut]


class CatalogOut(BaseModel):
    products: list[ProductOut]


class CollectivePaymentOut(BaseModel):
    status: str
    amount: str
    currency: str
    automatic: bool


class SupplierLineOut(BaseModel):
    id: int
    line_item_id: int | None
    title: str
    sku: str | None
    quantity: int
    fulfilled_quantity: int
    wholesale_price: str


class SupplierRefundOut(BaseModel):
    id: int
    amount: str
    currency: str
    note: str | None
    status: str
    return_id: int | None
    created_at: str
    settled_at: str | None

    @classmethod
    def of(cls, refund: SupplierRefund, currency: str) -> "SupplierRefundOut":
        return cls(
            id=refund.id,
            amount=money(refund.amount, currency),
            currency=currency,
            note=refund.note,
            status=refund.status,
            return_id=refund.return_id,
            created_at=timestamp(refund.created_at),
            settled_at=timestamp(refund.settled_at),
        )


class ReturnLineOut(BaseModel):
    id: int
    quantity: int


class ReturnOut(BaseModel):
    id: int
    supplier_order_id: int
    status: str
    reason: str
    note: str | None
    decline_message: str | None
    line_items: list[ReturnLineOut]
    restocked: bool | None
    refund_amount: str | None
    restocking_fee: str | None
    created_at: str
    decided_at: str | None
    closed_at: str | None

    @classmethod
    def of(cls, return_request: SupplierReturn, currency: str) -> "ReturnOut":
        return cls(
            id=return_request.id,
            supplier_order_id=return_request.supplier_order_id,
            status=return_request.status,
            reason=return_request.reason,
            note=return_request.note,
            decline_message=return_request.decline_message,
            line_items=[
                ReturnLineOut(id=rl.supplier_order_line_id, quantity=rl.quantity)
                for rl in return_request.lines
            ],
            restocked=return_request.restocked,
            refund_amount=money(return_request.refund_amount, currency),
            restocking_fee=money(return_request.restocking_fee, currency),
            created_at=timestamp(return_request.created_at),
            decided_at=timestamp(return_request.decided_at),
            closed_at=timestamp(return_request.closed_at),
        )


class SupplierOrderOut(BaseModel):
    id: int
    order_id: int | None  # the retailer order: shown to the retailer only
    order_name: str
    retailer_store_id: int
    supplier_store_id: int
    status: str
    release_at: str | None
    opened_at: str | None
    cancellation_status: str | None
    cancellation_reason: str | None
    cancellation_message: str | None
    collective_payment: CollectivePaymentOut
    wholesale_total: str
    shipping_total: str
    currency: str
    shipping_address: dict
    line_items: list[SupplierLineOut]
    fulfillments: list[FulfillmentOut]
    refunds: list[SupplierRefundOut]
    returns: list[ReturnOut]
    events: list[EventOut]
    allowed_actions: list[str]
    created_at: str
    updated_at: str


class SupplierOrderList(BaseModel):
    supplier_orders: list[SupplierOrderOut]
    next_cursor: str | None = None


def supplier_order_out(
    session: Session,
    supplier_order: SupplierOrder,
    *,
    viewer_store_id: int,
    with_events: bool = True,
) -> SupplierOrderOut:
    order = session.get(Order, supplier_order.order_id)
    retailer_view, cur = (
        viewer_store_id == supplier_order.retailer_store_id,
        supplier_order.currency,
    )
    fulfillments = session.scalars(
        select(Fulfillment).where(Fulfillment.supplier_order_id == supplier_order.id).order_by(Fulfillment.id)
    )
    events = (
        events_of(session, subject_type="supplier_order", subject_id=supplier_order.id) if with_events else []
    )
    actions = domain.allowed_actions(
        supplier_order,
        store_is_supplier=not retailer_view,
        retailer_order_held=bool(order.active_holds),
    )
    return SupplierOrderOut(
        id=supplier_order.id,
        order_id=order.id if retailer_view else None,
        order_name=order.name,
        retailer_store_id=supplier_order.retailer_store_id,
        supplier_store_id=supplier_order.supplier_store_id,
        status=supplier_order.status,
        release_at=timestamp(supplier_order.release_at),
        opened_at=timestamp(supplier_order.opened_at),
        cancellation_status=supplier_order.cancellation_status,
        cancellation_reason=supplier_order.cancellation_reason,
        cancellation_message=supplier_order.cancellation_message,
        collective_payment=CollectivePaymentOut(
            status=supplier_order.payment_status,
            amount=money(supplier_order.payment_amount, cur),
            currency=cur,
            automatic=supplier_order.automatic_payments,
        ),
        wholesale_total=money(supplier_order.wholesale_total, cur),
        shipping_total=money(supplier_order.shipping_total, cur),
        currency=cur,
        shipping_address=presented(order.shipping_address),
        line_items=[
            SupplierLineOut(
                id=line.id,
                line_item_id=line.line_item_id if retailer_view else None,
                title=line.title,
                sku=line.sku,
                quantity=line.quantity,
                fulfilled_quantity=line.fulfilled_quantity,
                wholesale_price=money(line.wholesale_price, cur),
            )
            for line in supplier_order.lines
        ],
        fulfillments=[fulfillment_out(f) for f in fulfillments],
        refunds=[SupplierRefundOut.of(r, cur) for r in refunds_of(session, supplier_order.id)],
        returns=[ReturnOut.of(r, cur) for r in returns_of(session, supplier_order.id)],
        events=[event_out(e, cur) for e in events],
        allowed_actions=[a.value for a in actions],
        created_at=timestamp(supplier_order.created_at),
        updated_at=timestamp(supplier_order.updated_at),
    )
