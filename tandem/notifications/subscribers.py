"""What the outbox does when orders change: customer emails and webhooks, in the same
transaction as the change (so a message exists exactly when its cause does)."""

from sqlalchemy import select

from tandem.bus import Bus
from tandem.customers import events as card_events
from tandem.customers.models import Customer
from tandem.db import any_of
from tandem.notifications import contexts, links
from tandem.notifications.domain import Topic
from tandem.notifications.service import (
    email_row,
    queue_deliveries,
    queue_email,
    queue_emails_later,
    queue_webhooks,
    staff_address,
)
from tandem.orders import events
from tandem.orders.domain import FinancialStatus, FulfillmentStatus
from tandem.orders.models import Fulfillment, Order, Refund
from tandem.orders.schemas import order_out, placed_order_json, refund_out
from tandem.orders.service import transactions_of
from tandem.preorders import events as preorder_events
from tandem.stores.models import Store
from tandem.suppliers import events as supplier_events


def subscribe(bus: Bus) -> None:
    bus.subscribe(events.OrdersPlaced, orders_placed)
    bus.subscribe(events.OrderFinancialStatusChanged, financial_status_changed)
    bus.subscribe(events.OrderCancelled, order_cancelled)
    bus.subscribe(events.OrderFulfilled, order_fulfilled)
    bus.subscribe(events.RefundCreated, refund_created)
    bus.subscribe(events.RefundSucceeded, refund_succeeded)
    bus.subscribe(events.ManualRefundRequired, manual_refund_required)
    bus.subscribe(supplier_events.SupplierOrderOpened, supplier_order_opened)
    bus.subscribe(supplier_events.SupplierOrderFulfilled, supplier_order_fulfilled)
    bus.subscribe(supplier_events.CancellationRequested, cancellation_requested)
    bus.subscribe(supplier_events.CancellationAnswered, cancellation_answered)
    bus.subscribe(supplier_events.SupplierOrderCancelled, supplier_order_cancelled)
    bus.subscribe(supplier_events.SupplierRefundManual, supplier_refund_manual)
    bus.subscribe(supplier_events.ReturnChanged, return_changed)
    bus.subscribe(preorder_events.ScheduleFailed, schedule_failed)
    bus.subscribe(preorder_events.ScheduleNeedsConfirmation, schedule_needs_confirmation)
    bus.subscribe(preorder_events.InvoiceSent, invoice_sent)
    bus.subscribe(card_events.CardUpdateRequested, card_update_requested)


def orders_placed(uow, event: events.OrdersPlaced) -> None:
    """Confirmations and webhooks for a batch of new orders, one statement per table; whether a
    webhook is due comes from the cached subscriptions, never from a query per order."""
    orders = event.orders
    recipients = _recipients(uow, orders)
    balances = _balances(uow, [o for o in orders if any(li.selling_plan_id for li in o.line_items)])
    base_url = uow.settings.base_url
    emails, webhooks = [], []
    for order in orders:
        config = uow.caches.store(uow.session, order.store_id)
        if order.email:
            name, locale = recipients.get(order.customer_id, (None, None))
            context = {"order": {**contexts.order_context(order), **balances.get(order.id, {})}}
            emails.append(
                email_row(
                    config,
                    "order_confirmation",
                    order.email,
                    name,
                    locale or config.locale,
                    context,
                    base_url,
                    event.at,
                    ("order", order.id),
                )
            )
        webhooks += _placed_webhooks(uow, order, config)
    queue_emails_later(uow, emails, now=event.at)
    queue_deliveries(uow.session, webhooks, now=event.at)


def _placed_webhooks(uow, order, config) -> list:
    topics = [Topic.ORDERS_CREATE] + ([Topic.ORDERS_PAID] if order.paid_at_placing else [])
    wanted = [(topic, config.subscribed(topic.value)) for topic in topics]
    if not any(subscriptions for _, subscriptions in wanted):
        return []
    body = placed_order_json(uow.session, order)
    return [(order.store_id, topic, subscriptions, body) for topic, subscriptions in wanted if subscriptions]


def _recipients(uow, orders) -> dict[int, tuple[str | None, str | None]]:
    """Customers' names (when they gave one) and languages, for a batch of orders."""
    ids = {o.customer_id for o in orders if o.customer_id}
    if not ids:
        return {}
    rows = uow.session.connection().execute(
        select(Customer.id, Customer.first_name, Customer.last_name, Customer.email, Customer.locale).where(
            any_of(uow.session, Customer.id, ids)
        )
    )
    return {r.id: (" ".join(p for p in (r.first_name, r.last_name) if p) or None, r.locale) for r in rows}


def _balances(uow, orders) -> dict[int, dict]:
    """A pre-order's confirmation says what was paid today and when the rest is due."""
    if not orders:
        return {}
    from tandem.preorders.service import schedules_of

    found = {}
    for order in orders:
        schedules = schedules_of(uow.session, order.id)
        found[order.id] = {
            "paid_now": order.total - sum(s.amount for s in schedules),
            "balances": [contexts.schedule_context(s) for s in schedules],
        }
    return found


def financial_status_changed(uow, event: events.OrderFinancialStatusChanged) -> None:
    if event.order.financial_status == FinancialStatus.PAID:
        _order_webhook(uow, event.order, Topic.ORDERS_PAID, event.at)


def order_cancelled(uow, event: events.OrderCancelled) -> None:
    order = event.order
    if event.notify_customer:
        refunded = sum(r.amount for r in order.refunds if r.for_cancellation) or None
        cancellation = {"reason": order.cancel_reason, "refunded": refunded}
        _mail_customer(uow, order, "order_cancelled", {"cancellation": cancellation}, event.at)
    _order_webhook(uow, order, Topic.ORDERS_CANCELLED, event.at)


def order_fulfilled(uow, event: events.OrderFulfilled) -> None:
    order = event.order
    fulfillment = uow.session.get(Fulfillment, event.fulfillment_id)
    if event.notify_customer:
        context = {"fulfillment": contexts.fulfillment_context(order, fulfillment)}
        _mail_customer(uow, order, "shipping_confirmation", context, event.at)
    if order.fulfillment_status == FulfillmentStatus.FULFILLED:
        _order_webhook(uow, order, Topic.ORDERS_FULFILLED, event.at)


def refund_created(uow, event: events.RefundCreated) -> None:
    order = event.order

    def body() -> str:
        refund = uow.session.get(Refund, event.refund_id)
        return refund_out(refund, order.currency, transactions_of(uow.session, order.id)).model_dump_json()

    queue_webhooks(uow, store_id=order.store_id, topic=Topic.REFUNDS_CREATE, body=body, now=event.at)


def refund_succeeded(uow, event: events.RefundSucceeded) -> None:
    refund = uow.session.get(Refund, event.refund_id)
    if refund.for_cancellation:
        return  # the cancellation email already says so
    context = {"refund": contexts.refund_context(event.order, refund)}
    _mail_customer(uow, event.order, "refund_issued", context, event.at)


def manual_refund_required(uow, event: events.ManualRefundRequired) -> None:
    order = event.order
    base_url = uow.settings.base_url
    context = {
        "order": {**contexts.order_context(order), "url": f"{base_url}/admin/orders/{order.id}"},
        "notice": {"amount": event.amount, "currency": order.currency, "reason": event.reason},
    }
    _mail_staff(uow, order.store_id, "manual_refund_required", context, event.at, ("order", order.id))


def supplier_order_opened(uow, event: supplier_events.SupplierOrderOpened) -> None:
    supplier_order = event.supplier_order
    context = {"supplier_order": _supplier_order_context(uow, supplier_order, event.order)}
    _mail_staff(
        uow,
        supplier_order.supplier_store_id,
        "supplier_order_new",
        context,
        event.at,
        ("supplier_order", supplier_order.id),
    )
    _supplier_order_webhooks(uow, supplier_order, Topic.SUPPLIER_ORDERS_CREATED, event.at)


def supplier_order_fulfilled(uow, event: supplier_events.SupplierOrderFulfilled) -> None:
    _supplier_order_webhooks(uow, event.supplier_order, Topic.SUPPLIER_ORDERS_FULFILLED, event.at)


def cancellation_requested(uow, event: supplier_events.CancellationRequested) -> None:
    supplier_order = event.supplier_order
    context = {
        "supplier_order": _supplier_order_context(uow, supplier_order, event.order),
        "message": supplier_order.cancellation_message,
    }
    _mail_staff(
        uow,
        supplier_order.supplier_store_id,
        "cancellation_requested",
        context,
        event.at,
        ("supplier_order", supplier_order.id),
    )
    _supplier_order_webhooks(uow, supplier_order, Topic.SUPPLIER_ORDERS_CANCELLATION_REQUESTED, event.at)


def cancellation_answered(uow, event: supplier_events.CancellationAnswered) -> None:
    supplier_order = event.supplier_order
    context = {
        "supplier_order": _supplier_order_context(uow, supplier_order, event.order),
        "message": supplier_order.cancellation_reason,
    }
    template = "cancellation_accepted" if event.accepted else "cancellation_declined"
    _mail_staff(
        uow,
        supplier_order.retailer_store_id,
        template,
        context,
        event.at,
        ("supplier_order", supplier_order.id),
    )
    topic = (
        Topic.SUPPLIER_ORDERS_CANCELLATION_ACCEPTED
        if event.accepted
        else Topic.SUPPLIER_ORDERS_CANCELLATION_DECLINED
    )
    _supplier_order_webhooks(uow, supplier_order, topic, event.at)


def supplier_order_cancelled(uow, event: supplier_events.SupplierOrderCancelled) -> None:
    supplier_order = event.supplier_order
    if supplier_order.cancelled_by == "supplier":  # a request the retailer made is mailed when answered
        context = {
            "supplier_order": _supplier_order_context(uow, supplier_order, event.order),
            "message": supplier_order.cancellation_reason,
        }
        _mail_staff(
            uow,
            supplier_order.retailer_store_id,
            "supplier_order_cancelled",
            context,
            event.at,
            ("supplier_order", supplier_order.id),
        )
    _supplier_order_webhooks(uow, supplier_order, Topic.SUPPLIER_ORDERS_CANCELLED, event.at)


def supplier_refund_manual(uow, event: supplier_events.SupplierRefundManual) -> None:
    supplier_order = event.supplier_order
    context = {
        "supplier_order": _supplier_order_context(uow, supplier_order, event.order),
        "notice": {
            "amount": event.amount,
            "currency": supplier_order.currency,
            "reason": "the supplier refunds by hand",
        },
    }
    _mail_staff(
        uow,
        supplier_order.retailer_store_id,
        "manual_refund_required",
        context,
        event.at,
        ("supplier_order", supplier_order.id),
    )


def return_changed(uow, event: supplier_events.ReturnChanged) -> None:
    from tandem.suppliers.models import SupplierReturn

    supplier_order = event.supplier_order
    return_request = uow.session.get(SupplierReturn, event.return_id)
    lines = {line.id: line for line in supplier_order.lines}
    context = {
        "supplier_order": _supplier_order_context(uow, supplier_order, event.order),
        "return_request": {
            "id": return_request.id,
            "status": return_request.status,
            "reason": return_request.reason,
            "refund_amount": return_request.refund_amount,
            "lines": [
                {
                    "title": lines[rl.supplier_order_line_id].title,
                    "sku": lines[rl.supplier_order_line_id].sku,
                    "quantity": rl.quantity,
                }
                for rl in return_request.lines
            ],
        },
    }
    requested = return_request.status == "requested"
    store_id = supplier_order.supplier_store_id if requested else supplier_order.retailer_store_id
    _mail_staff(
        uow,
        store_id,
        "return_requested" if requested else "return_updated",
        context,
        event.at,
        ("supplier_order", supplier_order.id),
    )


# -- pre-orders: the customer is asked to act through a signed link --------------------------


def schedule_failed(uow, event: preorder_events.ScheduleFailed) -> None:
    order, schedule = event.order, event.schedule
    _schedule_webhook(uow, order, schedule, event.at)
    if event.reason == "card_removed":
        return  # one email for the removed card says it (card_update_requested)
    if schedule.payment_method_id is not None:
        subject = ("payment_method", schedule.payment_method_id)
    else:
        subject = ("customer", order.customer_id)
    link = _link(uow, order.store_id, "update_card", subject, event.at)
    if event.reason == "declined":
        context = {"link": link, "payment": contexts.schedule_context(schedule)}
        _mail_customer(uow, order, "payment_failed", context, event.at)
    else:  # nothing on file to charge
        context = {"link": link, "reason": "revoked", "payment_method": None}
        _mail_customer(uow, order, "payment_method_update", context, event.at)


def schedule_needs_confirmation(uow, event: preorder_events.ScheduleNeedsConfirmation) -> None:
    link = _link(
        uow, event.order.store_id, "confirm_payment", ("payment_schedule", event.schedule.id), event.at
    )
    context = {"link": link, "payment": contexts.schedule_context(event.schedule)}
    _mail_customer(uow, event.order, "payment_confirmation", context, event.at)


def invoice_sent(uow, event: preorder_events.InvoiceSent) -> None:
    link = _link(uow, event.order.store_id, "pay_invoice", ("payment_schedule", event.schedule.id), event.at)
    context = {"link": link, "payment": contexts.schedule_context(event.schedule)}
    _mail_customer(uow, event.order, "invoice", context, event.at)


def card_update_requested(uow, event: card_events.CardUpdateRequested) -> None:
    method = event.method
    customer = uow.session.get(Customer, method.customer_id)
    store = uow.session.get(Store, method.store_id)
    link = _link(uow, store.id, "update_card", ("payment_method", method.id), event.at)
    shown = {"brand": method.brand, "last4": method.last4}
    queue_email(
        uow.session,
        store=store,
        template="payment_method_update",
        to_address=customer.email,
        to_name=customer.name if (customer.first_name or customer.last_name) else None,
        locale=customer.locale or store.locale,
        context={"link": link, "reason": event.reason, "payment_method": shown},
        base_url=uow.settings.base_url,
        now=event.at,
        subject=("customer", customer.id),
    )


def _link(uow, store_id: int, purpose: str, subject: tuple[str, int], now) -> dict:
    settings = uow.settings
    issued = links.issue(
        uow.session,
        secret_key=settings.secret(),
        base_url=settings.base_url,
        store_id=store_id,
        purpose=purpose,
        subject_type=subject[0],
        subject_id=subject[1],
        now=now,
    )
    return {"url": issued.url, "expires_at": issued.expires_at.isoformat()}


def _schedule_webhook(uow, order: Order, schedule, now) -> None:
    from tandem.preorders.schemas import schedule_out

    queue_webhooks(
        uow,
        store_id=order.store_id,
        topic=Topic.PAYMENT_SCHEDULES_FAILED,
        body=lambda: schedule_out(schedule).model_dump_json(),
        now=now,
    )


def _mail_staff(uow, store_id: int, template: str, context: dict, now, subject: tuple[str, int]) -> None:
    store = uow.session.get(Store, store_id)
    address = staff_address(store)
    if address is None:
        return  # no contact address: the admin UI is where staff see it
    queue_email(
        uow.session,
        store=store,
        template=template,
        to_address=address,
        to_name=store.name,
        locale=store.locale,
        context=context,
        base_url=uow.settings.base_url,
        now=now,
        subject=subject,
    )


def _supplier_order_context(uow, supplier_order, order: Order) -> dict:
    session = uow.session
    return {
        "id": supplier_order.id,
        "order_name": order.name,
        "currency": supplier_order.currency,
        "retailer_name": session.get(Store, supplier_order.retailer_store_id).name,
        "supplier_name": session.get(Store, supplier_order.supplier_store_id).name,
        "lines": [
            {"title": line.title, "sku": line.sku, "quantity": line.quantity} for line in supplier_order.lines
        ],
        "url": f"{uow.settings.base_url}/admin/supplier_orders/{supplier_order.id}",
    }


def _supplier_order_webhooks(uow, supplier_order, topic: Topic, now) -> None:
    """Both stores hear of it, each with its own view (the supplier only once it is open)."""
    from tandem.suppliers.schemas import supplier_order_out

    viewers = [supplier_order.retailer_store_id]
    if supplier_order.opened_at is not None:
        viewers.append(supplier_order.supplier_store_id)
    for store_id in viewers:
        queue_webhooks(
            uow,
            store_id=store_id,
            topic=topic,
            now=now,
            body=lambda viewer=store_id: supplier_order_out(
                uow.session, supplier_order, viewer_store_id=viewer
            ).model_dump_json(),
        )


def _mail_customer(uow, order: Order, template: str, context: dict, now) -> None:
    if not order.email:
        return
    store = uow.session.get(Store, order.store_id)
    customer = uow.session.get(Customer, order.customer_id) if order.customer_id else None
    name = customer.name if customer and (customer.first_name or customer.last_name) else None
    queue_email(
        uow.session,
        store=store,
        template=template,
        to_address=order.email,
        to_name=name,
        locale=(customer.locale if customer else None) or store.locale,
        context={"order": contexts.order_context(order), **context},
        base_url=uow.settings.base_url,
        now=now,
        subject=("order", order.id),
    )


def _order_webhook(uow, order: Order, topic: Topic, now) -> None:
    queue_webhooks(
        uow,
        store_id=order.store_id,
        topic=topic,
        body=lambda: order_out(uow.session, order).model_dump_json(),
        now=now,
    )
