"""Email contexts built from orders, as plain JSON (see rendering.py for the contract)."""

from tandem.orders.models import Fulfillment, Order, Refund


def order_context(order: Order) -> dict:
    return {
        "name": order.name,
        "number": order.number,
        "created_at": order.created_at.isoformat(),
        "currency": order.currency,
        "subtotal": order.subtotal,
        "shipping_total": order.shipping_total,
        "total": order.total,
        "lines": [
            {
                "title": li.product_title,
                "variant_title": "" if li.variant_title == "Default" else li.variant_title,  # a lone variant
                "sku": li.sku,
                "quantity": li.quantity,
                "price": li.price,
                "total": li.price * li.quantity,
            }
            for li in order.line_items
        ],
        "shipping_address": order.shipping_address,
    }


def fulfillment_context(order: Order, fulfillment: Fulfillment) -> dict:
    titles = {li.id: li.product_title for li in order.line_items}
    return {
        "tracking_company": fulfillment.tracking_company,
        "tracking_number": fulfillment.tracking_number,
        "tracking_url": fulfillment.tracking_url,
        "lines": [{"title": titles[fl.line_item_id], "quantity": fl.quantity} for fl in fulfillment.lines],
        "complete": order.fulfillment_status == "fulfilled",
    }


def refund_context(order: Order, refund: Refund) -> dict:
    titles = {li.id: li.product_title for li in order.line_items}
    return {
        "amount": refund.amount,
        "note": refund.note,
        "lines": [{"title": titles[rl.line_item_id], "quantity": rl.quantity} for rl in refund.lines],
    }


def schedule_context(schedule) -> dict:
    """A pre-order balance, as the payment emails show it."""
    return {
        "amount": schedule.amount,
        "currency": schedule.currency,
        "due_at": schedule.due_at.isoformat() if schedule.due_at else None,
    }
