from typing import Annotated

from fastapi import APIRouter, Query

from tandem.api.deps import CallerDep, IdempotentDep, Now, PageDep, ReadUoW, UoW
from tandem.api.types import Id, SearchText
from tandem.catalog import service as catalog
from tandem.catalog.api import product_out
from tandem.orders.schemas import FulfillmentOut, fulfillment_out
from tandem.suppliers import cancellations, refunds, returns, service, supplier_orders
from tandem.suppliers.models import SupplierOrder
from tandem.suppliers.schemas import (
    CancellationRequestIn,
    CatalogOut,
    ConnectionIn,
    ConnectionList,
    ConnectionOut,
    ImportIn,
    MessageIn,
    ReturnCloseIn,
    ReturnIn,
    ReturnOut,
    SupplierCancelIn,
    SupplierFulfillmentIn,
    SupplierOrderList,
    SupplierOrderOut,
    SupplierRefundIn,
    SupplierRefundOut,
    supplier_order_out,
)

router = APIRouter(tags=["supplier network"])


@router.post("/connections", response_model=ConnectionOut, status_code=201)
def request_connection(body: ConnectionIn, caller: CallerDep, uow: UoW, now: Now):
    connection = service.request_connection(
        uow, store_id=caller.store_id, supplier_store_id=body.supplier_store_id, now=now
    )
    return ConnectionOut.of(connection, service.stores_of(uow, [connection]))


@router.get("/connections", response_model=ConnectionList)
def list_connections(caller: CallerDep, uow: ReadUoW):
    connections = service.list_connections(uow, store_id=caller.store_id)
    stores = service.stores_of(uow, connections)
    return ConnectionList(connections=[ConnectionOut.of(c, stores) for c in connections])


@router.post("/connections/{connection_id}/accept", response_model=ConnectionOut)
def accept_connection(connection_id: Id, caller: CallerDep, uow: UoW, now: Now):
    connection = service.answer_connection(
        uow, store_id=caller.store_id, connection_id=connection_id, accept=True, now=now
    )
    return ConnectionOut.of(connection, service.stores_of(uow, [connection]))


@router.post("/connections/{connection_id}/decline", response_model=ConnectionOut)
def decline_connection(connection_id: Id, caller: CallerDep, uow: UoW, now: Now):
    connection = service.answer_connection(
        uow, store_id=caller.store_id, connection_id=connection_id, accept=False, now=now
    )
    return ConnectionOut.of(connection, service.stores_of(uow, [connection]))


@router.get("/connections/{connection_id}/products", response_model=CatalogOut)
def supplier_catalog(connection_id: Id, caller: CallerDep, uow: ReadUoW, now: Now):
    products = service.supplier_catalog(uow, store_id=caller.store_id, connection_id=connection_id)
    return CatalogOut(products=[product_out(uow, p, now) for p in products])


@router.post("/products/import", status_code=201)
def import_product(body: ImportIn, caller: CallerDep, uow: UoW, now: Now):
    product = service.import_product(
        uow,
        store_id=caller.store_id,
        supplier_product_id=body.supplier_product_id,
        price=body.price,
        title=body.title,
        now=now,
    )
    return product_out(uow, catalog.get_product(uow, store_id=caller.store_id, product_id=product.id), now)


@router.get("/supplier_orders", response_model=SupplierOrderList)
def list_supplier_orders(
    caller: CallerDep,
    uow: ReadUoW,
    page: PageDep,
    status: Annotated[SearchText | None, Query()] = None,
):
    found = supplier_orders.list_visible(uow, store_id=caller.store_id, status=status, page=page)
    return SupplierOrderList(
        supplier_orders=[
            supplier_order_out(uow.session, s, viewer_store_id=caller.store_id, with_events=False)
            for s in found.items
        ],
        next_cursor=found.next_cursor,
    )


@router.get("/supplier_orders/{supplier_order_id}", response_model=SupplierOrderOut)
def get_supplier_order(supplier_order_id: Id, caller: CallerDep, uow: ReadUoW):
    found = supplier_orders.get_visible(uow, store_id=caller.store_id, supplier_order_id=supplier_order_id)
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post("/supplier_orders/{supplier_order_id}/request_fulfillment", response_model=SupplierOrderOut)
def request_fulfillment(supplier_order_id: Id, caller: CallerDep, uow: UoW, now: Now):
    found = supplier_orders.request_fulfillment(
        uow, store_id=caller.store_id, supplier_order_id=supplier_order_id, actor=caller.actor, now=now
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post(
    "/supplier_orders/{supplier_order_id}/fulfillments", response_model=FulfillmentOut, status_code=201
)
def fulfill(
    supplier_order_id: Id,
    body: SupplierFulfillmentIn,
    caller: CallerDep,
    uow: UoW,
    now: Now,
    idem: IdempotentDep,
):
    picks = _picks(body)
    tracking = {"company": body.tracking_company, "number": body.tracking_number, "url": body.tracking_url}

    def run():
        return fulfillment_out(
            supplier_orders.fulfill(
                uow,
                store_id=caller.store_id,
                supplier_order_id=supplier_order_id,
                picks=picks,
                tracking=tracking,
                now=now,
            )
        )

    return idem.run(uow, run, status=201)


@router.post("/supplier_orders/{supplier_order_id}/payment/mark_received", response_model=SupplierOrderOut)
def mark_payment_received(supplier_order_id: Id, caller: CallerDep, uow: UoW, now: Now):
    found = supplier_orders.mark_payment_received(
        uow, store_id=caller.store_id, supplier_order_id=supplier_order_id, now=now
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


def _picks(body: SupplierFulfillmentIn) -> list[supplier_orders.Pick] | None:
    if body.line_items is not None:
        return [supplier_orders.Pick(line.id, line.quantity) for line in body.line_items]
    if body.line_item_ids is not None:
        return [supplier_orders.Pick(line_id) for line_id in body.line_item_ids]
    return None


# -- cancellations, refunds, returns ---------------------------------------------------------


@router.post("/supplier_orders/{supplier_order_id}/request_cancellation", response_model=SupplierOrderOut)
def request_cancellation(
    supplier_order_id: Id, caller: CallerDep, uow: UoW, now: Now, body: CancellationRequestIn | None = None
):
    found = cancellations.request_cancellation(
        uow,
        store_id=caller.store_id,
        supplier_order_id=supplier_order_id,
        message=body.message if body else None,
        actor=caller.actor,
        now=now,
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post("/supplier_orders/{supplier_order_id}/cancellation/accept", response_model=SupplierOrderOut)
def accept_cancellation(supplier_order_id: Id, caller: CallerDep, uow: UoW, now: Now):
    found = cancellations.answer_cancellation(
        uow, store_id=caller.store_id, supplier_order_id=supplier_order_id, accept=True, message=None, now=now
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post("/supplier_orders/{supplier_order_id}/cancellation/decline", response_model=SupplierOrderOut)
def decline_cancellation(supplier_order_id: Id, body: MessageIn, caller: CallerDep, uow: UoW, now: Now):
    found = cancellations.answer_cancellation(
        uow,
        store_id=caller.store_id,
        supplier_order_id=supplier_order_id,
        accept=False,
        message=body.message,
        now=now,
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post("/supplier_orders/{supplier_order_id}/cancel", response_model=SupplierOrderOut)
def supplier_cancel(supplier_order_id: Id, body: SupplierCancelIn, caller: CallerDep, uow: UoW, now: Now):
    found = cancellations.supplier_cancels(
        uow, store_id=caller.store_id, supplier_order_id=supplier_order_id, reason=body.reason, now=now
    )
    return supplier_order_out(uow.session, found, viewer_store_id=caller.store_id)


@router.post(
    "/supplier_orders/{supplier_order_id}/refunds", response_model=SupplierRefundOut, status_code=201
)
def refund_retailer(
    supplier_order_id: Id, body: SupplierRefundIn, caller: CallerDep, uow: UoW, now: Now, idem: IdempotentDep
):
    def run():
        refund = refunds.refund_retailer(
            uow,
            store_id=caller.store_id,
            supplier_order_id=supplier_order_id,
            amount=body.amount,
            note=body.note,
            now=now,
        )
        return SupplierRefundOut.of(refund, _currency(uow, supplier_order_id))

    return idem.run(uow, run, status=201)


@router.post(
    "/supplier_orders/{supplier_order_id}/refunds/{refund_id}/mark_sent", response_model=SupplierRefundOut
)
def mark_refund_sent(supplier_order_id: Id, refund_id: Id, caller: CallerDep, uow: UoW, now: Now):
    refund = refunds.mark_sent(
        uow, store_id=caller.store_id, supplier_order_id=supplier_order_id, refund_id=refund_id, now=now
    )
    return SupplierRefundOut.of(refund, _currency(uow, supplier_order_id))


@router.post("/supplier_orders/{supplier_order_id}/returns", response_model=ReturnOut, status_code=201)
def request_return(supplier_order_id: Id, body: ReturnIn, caller: CallerDep, uow: UoW, now: Now):
    lines = [returns.ReturnLineRequest(line.id, line.quantity) for line in body.line_items]
    created = returns.request_return(
        uow,
        store_id=caller.store_id,
        supplier_order_id=supplier_order_id,
        reason=body.reason,
        lines=lines,
        note=body.note,
        actor=caller.actor,
        now=now,
    )
    return ReturnOut.of(created, _currency(uow, supplier_order_id))


@router.get("/returns/{return_id}", response_model=ReturnOut)
def get_return(return_id: Id, caller: CallerDep, uow: ReadUoW):
    found = returns.get_return(uow, store_id=caller.store_id, return_id=return_id)
    return ReturnOut.of(found, _currency(uow, found.supplier_order_id))


@router.post("/returns/{return_id}/approve", response_model=ReturnOut)
def approve_return(return_id: Id, caller: CallerDep, uow: UoW, now: Now):
    found = returns.decide(
        uow, store_id=caller.store_id, return_id=return_id, approve=True, message=None, now=now
    )
    return ReturnOut.of(found, _currency(uow, found.supplier_order_id))


@router.post("/returns/{return_id}/decline", response_model=ReturnOut)
def decline_return(return_id: Id, body: MessageIn, caller: CallerDep, uow: UoW, now: Now):
    found = returns.decide(
        uow, store_id=caller.store_id, return_id=return_id, approve=False, message=body.message, now=now
    )
    return ReturnOut.of(found, _currency(uow, found.supplier_order_id))


@router.post("/returns/{return_id}/close", response_model=ReturnOut)
def close_return(return_id: Id, caller: CallerDep, uow: UoW, now: Now, body: ReturnCloseIn | None = None):
    found = returns.close(
        uow, store_id=caller.store_id, return_id=return_id, restock=body.restock if body else True, now=now
    )
    return ReturnOut.of(found, _currency(uow, found.supplier_order_id))


def _currency(uow, supplier_order_id: int) -> str:
    return uow.session.get(SupplierOrder, supplier_order_id).currency
