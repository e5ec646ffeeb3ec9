"""Pre-orders over HTTP: selling plans, deposits, the balance charged by the worker, and
what staff and customers do when it does not go through (SPEC §2.4)."""

import re

import pytest

from tests.support.api import ADDRESS
from tests.support.mail import parts

DAY = 86400


def _schedule(shop, order_id: int) -> dict:
    [schedule] = shop.order(order_id)["payment_schedules"]
    return schedule


def _due(clock, worker, seconds: int = DAY + 1) -> None:
    clock.advance(seconds)
    worker.run_until_idle()


def _link(message, purpose: str) -> str:
    text = parts(message)["plain"]
    return re.search(rf"https?://\S+/p/{purpose}/\S+", text).group(0)


# -- selling plans ------------------------------------------------------------------------------


def test_a_selling_plan_is_created_with_its_variants_and_listed(shop):
    variant = shop.product()
    plan = shop.selling_plan(
        [variant["id"]],
        deposit=("fixed", "10.00"),
        balance_due={"trigger": "exact_time", "at": "2027-01-15T10:00:00+01:00"},
        inventory_reserve="on_fulfillment",
    )
    assert plan["deposit"] == {"type": "fixed", "value": "10.00"}
    assert plan["balance_due"] == {
        "trigger": "exact_time",
        "at": "2027-01-15T09:00:00Z",
        "after_seconds": None,
    }
    assert plan["inventory_reserve"] == "on_fulfillment"
    assert plan["variant_ids"] == [variant["id"]]
    assert shop.get("/selling_plans").json()["selling_plans"] == [plan]
    assert shop.get(f"/selling_plans/{plan['id']}").json() == plan


@pytest.mark.parametrize(
    ("deposit", "balance_due", "field"),
    [
        (("percentage", 101), {"trigger": "on_fulfillment"}, "deposit.value"),
        (("percentage", "12.5"), {"trigger": "on_fulfillment"}, "deposit.value"),
        (("fixed", "-1"), {"trigger": "on_fulfillment"}, "deposit.value"),
        (("percentage", 20), {"trigger": "exact_time"}, "balance_due.at"),
        (("percentage", 20), {"trigger": "exact_time", "at": "2026-11-01T00:00:00Z"}, "balance_due.at"),
        (("percentage", 20), {"trigger": "time_after_checkout"}, "balance_due.after_seconds"),
        (("percentage", 20), {"trigger": "on_fulfillment", "after_seconds": 60}, "balance_due.after_seconds"),
        (("percentage", 20), {"trigger": "on_fulfillment", "at": "2027-01-01T00:00:00Z"}, "balance_due.at"),
        (("percentage", 20), {"trigger": "whenever"}, "balance_due.trigger"),
    ],
)
def test_an_invalid_plan_is_refused_naming_the_field(shop, deposit, balance_due, field):
    variant = shop.product()
    response = shop.post(
        "/selling_plans",
        {
            "name": "Bad",
            "deposit": {"type": deposit[0], "value": deposit[1]},
            "balance_due": balance_due,
            "inventory_reserve": "on_sale",
            "variant_ids": [variant["id"]],
        },
    )
    assert response.status_code == 422, response.text
    assert field in response.text
    assert shop.get("/selling_plans").json()["selling_plans"] == []


def test_a_plan_cannot_name_another_stores_variant(shop, make_store):
    theirs = make_store("Other").product()
    response = shop.post(
        "/selling_plans",
        {
            "name": "Theirs",
            "deposit": {"type": "percentage", "value": 20},
            "balance_due": {"trigger": "on_fulfillment"},
            "variant_ids": [theirs["id"]],
        },
    )
    assert response.status_code == 422
    assert "variant_ids[0]" in response.text


def test_a_checkout_cannot_use_a_plan_not_attached_to_the_variant(shop):
    planned, other = shop.product(sku="A"), shop.product(sku="B")
    plan = shop.selling_plan([planned["id"]])
    response = shop.preorder_checkout(other["id"], plan["id"])
    assert response.status_code == 422
    assert "line_items[0].selling_plan_id" in response.text
    assert shop.variant(other["id"])["available"] == 10


def test_more_variants_can_be_attached_to_a_plan(shop):
    first, second = shop.product(sku="A"), shop.product(sku="B")
    plan = shop.selling_plan([first["id"]])
    response = shop.post(
        f"/selling_plans/{plan['id']}/variants", {"variant_ids": [second["id"], first["id"]]}
    )
    assert response.json()["variant_ids"] == [first["id"], second["id"]]
    assert shop.preorder_checkout(second["id"], plan["id"]).status_code == 201


# -- checkout -----------------------------------------------------------------------------------


def test_a_preorder_pays_the_deposit_vaults_the_card_and_schedules_the_balance(shop, clock):
    variant = shop.product(price="100.00", quantity=5)
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 30))
    order = shop.preorder(variant["id"], plan["id"], 2, email="lea@example.com")

    assert order["financial_status"] == "partially_paid"
    assert order["total_captured"] == "60.00" and order["total_outstanding"] == "140.00"
    [schedule] = order["payment_schedules"]
    assert schedule["amount"] == "140.00" and schedule["status"] == "pending"
    assert schedule["due_at"] == "2026-11-23T09:00:00Z"
    customer = shop.get(f"/customers/{order['customer_id']}").json()
    [card] = customer["payment_methods"]
    assert card["status"] == "active" and card["last4"] == "4242"
    assert schedule["payment_method_id"] == card["id"]
    assert shop.variant(variant["id"])["available"] == 3  # on_sale: taken at checkout


def test_a_full_deposit_leaves_the_order_paid_with_nothing_scheduled(shop):
    variant = shop.product(price="40.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 100))
    order = shop.preorder(variant["id"], plan["id"])
    assert order["financial_status"] == "paid"
    assert order["payment_schedules"] == []


def test_no_deposit_places_the_order_unpaid_without_charging(shop):
    variant = shop.product(price="40.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 0))
    order = shop.preorder(variant["id"], plan["id"])
    assert order["financial_status"] == "pending"
    assert order["transactions"] == []
    assert _schedule(shop, order["id"])["amount"] == "40.00"
    unpaid = shop.get("/orders", params={"financial_status": "unpaid"}).json()["orders"]
    assert [o["id"] for o in unpaid] == [order["id"]]


def test_a_fixed_deposit_is_per_unit(shop):
    variant = shop.product(price="50.00")
    plan = shop.selling_plan([variant["id"]], deposit=("fixed", "15.00"))
    order = shop.preorder(variant["id"], plan["id"], 3)
    assert order["total_captured"] == "45.00"
    assert _schedule(shop, order["id"])["amount"] == "105.00"


def test_on_sale_stock_can_sell_out(shop):
    variant = shop.product(quantity=1)
    plan = shop.selling_plan([variant["id"]])
    shop.preorder(variant["id"], plan["id"])
    response = shop.preorder_checkout(variant["id"], plan["id"])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "out_of_stock"


def test_on_fulfillment_stock_is_taken_when_shipped_and_refused_when_gone(shop):
    variant = shop.product(quantity=1)
    plan = shop.selling_plan([variant["id"]], inventory_reserve="on_fulfillment")
    first = shop.preorder(variant["id"], plan["id"])
    second = shop.preorder(variant["id"], plan["id"])  # accepted although one unit exists
    assert shop.variant(variant["id"])["available"] == 1

    assert shop.post(f"/orders/{first['id']}/fulfillments", {}).status_code == 201
    assert shop.variant(variant["id"])["available"] == 0
    refused = shop.post(f"/orders/{second['id']}/fulfillments", {})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "out_of_stock"
    assert "inventory_out_of_stock" in refused.json()["error"]["message"]
    assert shop.order(second["id"])["fulfillment_status"] == "unfulfilled"
    held = shop.post(f"/orders/{second['id']}/holds", {"reason": "inventory_out_of_stock"})
    assert held.json()["fulfillment_status"] == "on_hold"


# -- the worker charges the balance ---------------------------------------------------------------


def test_the_worker_charges_the_balance_when_due(shop, clock, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 25))
    order = shop.preorder(variant["id"], plan["id"])
    worker.run_until_idle()
    assert _schedule(shop, order["id"])["status"] == "pending"  # not due yet

    _due(clock, worker)
    order = shop.order(order["id"])
    assert order["financial_status"] == "paid"
    assert order["payment_schedules"][0]["status"] == "paid"
    assert [t["amount"] for t in order["transactions"]] == ["25.00", "75.00"]


def test_a_declined_balance_fails_and_mails_a_link_to_update_the_card(
    shop, clock, worker, smtp, receiver, allow_private_webhooks
):
    shop.post("/webhooks", {"topic": "payment_schedules/failed", "address": receiver.url()})
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], card="tok_decline_after_first", email="lea@example.com")
    _due(clock, worker)

    schedule = _schedule(shop, order["id"])
    assert schedule["status"] == "failed" and schedule["last_error"] == "card declined"
    assert shop.order(order["id"])["financial_status"] == "partially_paid"
    failed = [m for m in smtp.wait_for(2) if "Payment failed" in m["Subject"]]
    assert failed and failed[0]["To"] == "lea@example.com"
    assert "/p/update_card/" in _link(failed[0], "update_card")
    [hook] = receiver.wait_for(1)
    assert hook.headers["X-Tandem-Topic"] == "payment_schedules/failed"
    assert hook.json()["id"] == schedule["id"] and hook.json()["status"] == "failed"


def test_a_new_card_retries_a_failed_balance(shop, clock, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], card="tok_decline_after_first")
    _due(clock, worker)
    assert _schedule(shop, order["id"])["status"] == "failed"

    added = shop.post(f"/customers/{order['customer_id']}/payment_methods", {"card_token": "tok_success"})
    assert added.status_code == 201
    assert _schedule(shop, order["id"])["payment_method_id"] == added.json()["id"]
    worker.run_until_idle()
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"


def test_a_bank_challenge_waits_for_the_customer_and_mails_a_confirmation_link(shop, clock, worker, smtp):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], card="tok_requires_action")
    assert order["financial_status"] == "partially_paid"  # the deposit was on-session
    _due(clock, worker)

    assert _schedule(shop, order["id"])["status"] == "awaiting_customer"
    [message] = [m for m in smtp.wait_for(2) if "Confirm your payment" in m["Subject"]]
    assert "/p/confirm_payment/" in _link(message, "confirm_payment")


def test_a_confirmation_the_gateway_could_not_finish_is_refused_and_changes_nothing(
    shop, clock, worker, runtime
):
    from sqlalchemy import update

    from tandem.errors import Conflict
    from tandem.payments.models import PaymentTransaction
    from tandem.preorders import charging
    from tandem.timeline.domain import SYSTEM

    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], card="tok_requires_action")
    _due(clock, worker)
    schedule = _schedule(shop, order["id"])
    with runtime.uow() as uow:  # an earlier confirmation met a gateway error
        uow.session.execute(
            update(PaymentTransaction)
            .where(PaymentTransaction.payment_schedule_id == schedule["id"])
            .where(PaymentTransaction.status == "awaiting_customer")
            .values(status="error")
        )
        uow.commit()

    with runtime.uow() as uow, pytest.raises(Conflict) as refused:
        charging.confirm(uow, schedule["id"], actor=SYSTEM, now=clock.now())

    assert refused.value.code == "nothing_to_confirm"
    assert _schedule(shop, order["id"]) == schedule


def test_gateway_errors_make_a_balance_overdue_and_the_worker_tries_again(shop, clock, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 0))
    order = shop.preorder(variant["id"], plan["id"], card="tok_error")
    _due(clock, worker)
    schedule = _schedule(shop, order["id"])
    assert schedule["status"] == "overdue" and schedule["attempts"] == 1
    _due(clock, worker, 301)
    assert _schedule(shop, order["id"])["attempts"] == 2

    replaced = shop.put(
        f"/customers/{order['customer_id']}/payment_methods/{schedule['payment_method_id']}",
        {"card_token": "tok_success"},
    )
    assert replaced.status_code == 200
    worker.run_until_idle()
    assert _schedule(shop, order["id"])["status"] == "paid"


# -- staff actions ------------------------------------------------------------------------------------


def test_staff_collect_early_with_the_card_on_file_once(shop):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    schedule = _schedule(shop, order["id"])
    path = f"/orders/{order['id']}/payment_schedules/{schedule['id']}/charge"

    first = shop.post(path, key="collect-1")
    again = shop.post(path, key="collect-1")
    assert first.status_code == 200 and first.json()["status"] == "paid"
    assert again.json() == first.json()
    assert shop.post(path).status_code == 409  # already paid
    order = shop.order(order["id"])
    assert order["financial_status"] == "paid"
    assert len(order["transactions"]) == 2


def test_staff_can_charge_a_card_they_enter(shop):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], card="tok_decline_after_first")
    schedule = _schedule(shop, order["id"])
    path = f"/orders/{order['id']}/payment_schedules/{schedule['id']}/charge"

    declined = shop.post(path)
    assert declined.status_code == 402
    assert _schedule(shop, order["id"])["status"] == "failed"
    paid = shop.post(path, {"card_token": "tok_success"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid"


def test_staff_change_the_due_date_and_the_charge_follows_it(shop, clock, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    schedule = _schedule(shop, order["id"])
    path = f"/orders/{order['id']}/payment_schedules/{schedule['id']}"

    past = shop.patch(path, {"due_at": "2026-11-21T09:00:00Z"})
    assert past.status_code == 422 and "due_at" in past.text
    moved = shop.patch(path, {"due_at": "2026-11-25T09:00:00Z"})
    assert moved.json()["due_at"] == "2026-11-25T09:00:00Z"

    _due(clock, worker)  # the old date: nothing happens
    assert _schedule(shop, order["id"])["status"] == "pending"
    _due(clock, worker, 2 * DAY)
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.patch(path, {"due_at": "2026-12-25T09:00:00Z"}).status_code == 409


def test_staff_send_an_invoice(shop, smtp, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], email="lea@example.com")
    schedule = _schedule(shop, order["id"])
    sent = shop.post(f"/orders/{order['id']}/payment_schedules/{schedule['id']}/send_invoice")
    assert sent.status_code == 200
    worker.run_until_idle()
    [invoice] = [m for m in smtp.wait_for(2) if "Invoice" in m["Subject"]]
    assert "/p/pay_invoice/" in _link(invoice, "pay_invoice")
    assert "80.00" in parts(invoice)["plain"]


def test_a_schedule_of_another_store_is_not_found(shop, make_store):
    variant = shop.product()
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    schedule = _schedule(shop, order["id"])
    other = make_store("Other")
    assert other.post(f"/orders/{order['id']}/payment_schedules/{schedule['id']}/charge").status_code == 404
    assert shop.post(f"/orders/{order['id']}/payment_schedules/999/charge").status_code == 404


# -- cancel and refund ----------------------------------------------------------------------------------


def test_cancelling_a_partially_paid_preorder_refunds_the_deposit_and_cancels_the_schedule(shop):
    variant = shop.product(price="100.00", quantity=3)
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    cancelled = shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"})
    assert cancelled.status_code == 200, cancelled.text
    order = shop.order(order["id"])
    assert order["status"] == "cancelled" and order["financial_status"] == "refunded"
    assert order["total_refunded"] == "20.00"
    assert order["payment_schedules"][0]["status"] == "cancelled"
    assert shop.variant(variant["id"])["available"] == 3


def test_a_fulfilled_preorder_cannot_be_cancelled_but_is_refunded_line_by_line(shop, clock, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], 2)
    _due(clock, worker)
    shop.post(f"/orders/{order['id']}/fulfillments", {})
    assert shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"}).status_code == 409

    line = shop.order(order["id"])["line_items"][0]
    refund = shop.post(
        f"/orders/{order['id']}/refunds",
        {"line_items": [{"line_item_id": line["id"], "quantity": 1, "restock_type": "return"}]},
    )
    assert refund.status_code == 201
    order = shop.order(order["id"])
    assert order["financial_status"] == "partially_refunded" and order["total_refunded"] == "100.00"


def test_a_customer_cancellation_whose_card_was_removed_leaves_a_manual_refund_notice(shop):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    card = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    assert shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}").status_code == 200

    shop.post(f"/orders/{order['id']}/cancel", {"reason": "customer"})
    order = shop.order(order["id"])
    [notice] = order["notices"]
    assert notice["kind"] == "manual_refund_required" and notice["amount"] == "20.00"
    assert order["financial_status"] == "partially_paid" and order["total_refunded"] == "0.00"

    resolved = shop.post(f"/orders/{order['id']}/notices/{notice['id']}/resolve")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    order = shop.order(order["id"])
    assert order["financial_status"] == "refunded" and order["total_refunded"] == "20.00"
    assert shop.post(f"/orders/{order['id']}/notices/{notice['id']}/resolve").status_code == 409


# -- payment methods -----------------------------------------------------------------------------------


def test_revoking_the_only_card_fails_the_schedule_and_asks_for_a_new_one(shop, smtp, worker):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"], email="lea@example.com")
    card = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"][0]
    revoked = shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}")
    assert revoked.json()["status"] == "revoked" and revoked.json()["revoked_at"]
    schedule = _schedule(shop, order["id"])
    assert schedule["status"] == "failed" and schedule["payment_method_id"] is None
    worker.run_until_idle()
    asked = [m for m in smtp.wait_for(2) if "payment method" in m["Subject"].lower()]
    assert len(asked) == 1
    assert shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}").status_code == 409


def test_staff_send_a_link_to_update_a_card(shop, smtp, worker):
    customer = shop.post("/customers", {"email": "lea@example.com"}).json()
    card = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"}).json()
    sent = shop.post(f"/customers/{customer['id']}/payment_methods/{card['id']}/send_update_email")
    assert sent.status_code == 202
    worker.run_until_idle()
    [message] = smtp.wait_for(1)
    assert message["To"] == "lea@example.com"
    assert "/p/update_card/" in _link(message, "update_card")


def test_a_replaced_card_is_kept_with_its_successor(shop):
    customer = shop.post("/customers", {"email": "lea@example.com"}).json()
    old = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"}).json()
    new = shop.put(
        f"/customers/{customer['id']}/payment_methods/{old['id']}", {"card_token": "tok_decline"}
    ).json()
    methods = shop.get(f"/customers/{customer['id']}").json()["payment_methods"]
    assert [(m["id"], m["status"]) for m in methods] == [(old["id"], "replaced"), (new["id"], "active")]
    assert methods[0]["replaced_by_id"] == new["id"]
    again = shop.put(
        f"/customers/{customer['id']}/payment_methods/{old['id']}", {"card_token": "tok_success"}
    )
    assert again.status_code == 409
    unknown = shop.put(f"/customers/{customer['id']}/payment_methods/{new['id']}", {"card_token": "tok_nope"})
    assert unknown.status_code == 422 and "card_token" in unknown.text


# -- balances due at fulfilment, holds, tabs --------------------------------------------------------


def test_an_on_fulfillment_balance_is_charged_when_the_items_ship(shop, worker):
    variant = shop.product(price="60.00")
    plan = shop.selling_plan([variant["id"]], balance_due={"trigger": "on_fulfillment"})
    order = shop.preorder(variant["id"], plan["id"])
    assert _schedule(shop, order["id"])["due_at"] is None
    worker.run_until_idle()
    assert _schedule(shop, order["id"])["status"] == "pending"

    shop.post(f"/orders/{order['id']}/fulfillments", {"tracking_number": "6A123"})
    assert _schedule(shop, order["id"])["due_at"] is not None
    worker.run_until_idle()
    order = shop.order(order["id"])
    assert order["payment_schedules"][0]["status"] == "paid"
    assert order["financial_status"] == "paid" and order["fulfillment_status"] == "fulfilled"


def test_a_preorder_can_wait_on_hold_for_its_delivery_date(shop):
    variant = shop.product()
    plan = shop.selling_plan([variant["id"]])
    order = shop.preorder(variant["id"], plan["id"])
    held = shop.post(
        f"/orders/{order['id']}/holds", {"reason": "unknown_delivery_date", "note": "Late batch"}
    )
    assert held.json()["fulfillment_status"] == "on_hold"
    assert shop.post(f"/orders/{order['id']}/fulfillments", {}).status_code == 409
    released = shop.post(f"/orders/{order['id']}/holds/release", {})
    assert released.json()["fulfillment_status"] == "unfulfilled"


def test_the_unpaid_and_unfulfilled_tabs_include_preorders(shop, clock, worker):
    variant = shop.product(price="50.00")
    plan = shop.selling_plan([variant["id"]])
    waiting = shop.preorder(variant["id"], plan["id"], email="a@example.com")
    settled = shop.preorder(variant["id"], plan["id"], email="b@example.com")
    shop.post(f"/orders/{settled['id']}/payment_schedules/{_schedule(shop, settled['id'])['id']}/charge")
    shipped = shop.place_order(shop.product(sku="NOW")["id"], email="c@example.com")
    shop.post(f"/orders/{shipped['id']}/fulfillments", {})

    def listed(**params):
        return {o["id"] for o in shop.get("/orders", params=params).json()["orders"]}

    assert listed(financial_status="unpaid") == {waiting["id"]}
    assert listed(fulfillment_status="unfulfilled") == {waiting["id"], settled["id"]}


def test_a_preorder_can_be_paid_with_a_card_already_on_file(shop):
    customer = shop.post("/customers", {"email": "lea@example.com"}).json()
    card = shop.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"}).json()
    variant = shop.product(price="80.00")
    plan = shop.selling_plan([variant["id"]])
    checkout = shop.post(
        "/checkouts",
        {
            "customer_id": customer["id"],
            "line_items": [{"variant_id": variant["id"], "quantity": 1, "selling_plan_id": plan["id"]}],
            "shipping_address": ADDRESS,
            "payment_method_id": card["id"],
        },
    ).json()
    assert checkout["due_now"] == "16.00"
    order = shop.post(f"/checkouts/{checkout['id']}/complete").json()
    assert _schedule(shop, order["id"])["payment_method_id"] == card["id"]
    assert len(shop.get(f"/customers/{customer['id']}").json()["payment_methods"]) == 1


def test_a_cart_mixing_a_preorder_and_an_item_in_stock_pays_one_in_full(shop):
    now, later = shop.product(price="30.00", sku="NOW"), shop.product(price="100.00", sku="LATER")
    plan = shop.selling_plan([later["id"]], deposit=("percentage", 10))
    checkout = shop.post(
        "/checkouts",
        {
            "email": "lea@example.com",
            "line_items": [
                {"variant_id": now["id"], "quantity": 1},
                {"variant_id": later["id"], "quantity": 1, "selling_plan_id": plan["id"]},
            ],
            "shipping_address": ADDRESS,
            "card_token": "tok_success",
        },
    ).json()
    assert checkout["total"] == "130.00" and checkout["due_now"] == "40.00"
    order = shop.post(f"/checkouts/{checkout['id']}/complete").json()
    assert order["total_captured"] == "40.00" and order["financial_status"] == "partially_paid"
    assert _schedule(shop, order["id"])["amount"] == "90.00"
