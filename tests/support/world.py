"""A retailer and its supplier with one of everything an API path can name (for the fuzz and
cross-store tests)."""

from dataclasses import dataclass

from tests.support.api import StoreClient
from tests.support.network import build


@dataclass
class World:
    retailer: StoreClient
    supplier: StoreClient
    ids: dict[str, int]  # path parameter or body field -> an id of theirs
    notice: tuple[int, int]  # (order_id, notice_id) of a manual refund notice


def _open_and_ship(network, clock, worker) -> dict:
    order = network.retailer.place_order(network.variant["id"], 2)
    clock.advance(seconds=120)
    worker.run_until_idle()
    [supplier_order] = network.retailer.order(order["id"])["supplier_orders"]
    shipped = network.supplier.post(
        f"/supplier_orders/{supplier_order['id']}/fulfillments",
        {"tracking_company": "DHL", "tracking_number": "1"},
    )
    assert shipped.status_code == 201, shipped.text
    return supplier_order


def _preorder(shop, email: str) -> dict:
    variant = shop.product(price="100.00", sku=f"PRE-{email[0]}", title="Pre-order coat")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], email=email)
    return {"plan_id": plan["id"], "order": order}


def _notice(shop) -> tuple[int, int]:
    """A pre-order cancelled after its card was removed: a manual refund notice."""
    order = _preorder(shop, "noor@example.com")["order"]
    card = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    assert shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}").status_code == 200
    assert shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"}).status_code == 200
    [notice] = shop.order(order["id"])["notices"]
    return order["id"], notice["id"]


def everything(make_store, clock, worker, receiver) -> World:
    """One of everything an API path or body can name, owned by a retailer and its supplier."""
    network = build(make_store, retailer_payments=True, supplier_payments=True)
    retailer, supplier = network.retailer, network.supplier
    retailer.patch("/store", {"billing_card_token": "tok_success"})
    supplier.patch("/store", {"return_policy": {"window_days": 30, "restocking_fee_percent": 0}})
    supplier_order = _open_and_ship(network, clock, worker)
    refund = supplier.post(f"/supplier_orders/{supplier_order['id']}/refunds", {"amount": "5.00"})
    assert refund.status_code == 201, refund.text
    clock.advance(days=2)
    line = supplier_order["line_items"][0]["id"]
    returned = retailer.post(
        f"/supplier_orders/{supplier_order['id']}/returns",
        {"reason": "size_or_fit", "line_items": [{"id": line, "quantity": 1}]},
    )
    assert returned.status_code == 201, returned.text
    preorder = _preorder(retailer, "lea@example.com")
    order = retailer.order(preorder["order"]["id"])
    [schedule] = order["payment_schedules"]
    card = retailer.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    notice_order, notice = _notice(retailer)
    rule = retailer.post("/automation_rules", {"name": "Big", "condition": "total > 900.0", "action": "hold"})
    webhook = retailer.post("/webhooks", {"topic": "orders/create", "address": receiver.url()})
    assert (rule.status_code, webhook.status_code) == (201, 201), (rule.text, webhook.text)
    own = retailer.place_order(retailer.product(sku="OWN-1")["id"])  # a webhook delivery, left pending
    held = retailer.post(f"/orders/{own['id']}/holds", {"reason": "other"})
    assert held.status_code == 201, held.text
    checkout = retailer.checkout(network.variant["id"])
    assert checkout.status_code == 201, checkout.text
    ids = {
        "checkout_id": checkout.json()["id"],
        "connection_id": network.connection_id,
        "customer_id": order["customer_id"],
        "delivery_id": retailer.get("/webhook_deliveries").json()["deliveries"][0]["id"],
        "email_id": retailer.get("/emails").json()["emails"][0]["id"],
        "order_id": order["id"],
        "payment_method_id": card["id"],
        "plan_id": preorder["plan_id"],
        "product_id": network.variant["product_id"],
        "variant_id": network.variant["id"],
        "schedule_id": schedule["id"],
        "supplier_order_id": supplier_order["id"],
        "refund_id": refund.json()["id"],
        "return_id": returned.json()["id"],
        "rule_id": rule.json()["id"],
        "webhook_id": webhook.json()["id"],
        # named in bodies
        "supplier_product_id": network.supplier_variant["product_id"],
        "line_item_id": order["line_items"][0]["id"],
        "hold_id": held.json()["holds"][0]["id"],
    }
    return World(retailer, supplier, ids, (notice_order, notice))
