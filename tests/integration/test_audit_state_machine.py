"""Random sequences of everything staff, suppliers, customers, time and the worker do to orders,
with `tandem audit` as the invariant after every step (SPEC §6).

A few hundred steps per database in the normal suite; TANDEM_AUDIT_STEPS=10000 for a long run.
"""

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tandem.audit.service import audit
from tandem.db import make_engine
from tests.conftest import make_settings
from tests.support.api import ADDRESS
from tests.support.network import build, connect, import_product

STEPS = int(os.environ.get("TANDEM_AUDIT_STEPS", "300"))
STEPS_PER_RUN = 30
CARDS = ["tok_success", "tok_success", "tok_decline", "tok_decline_after_first", "tok_requires_action"]
WAITS = [1, 150, 3600, 86_400, 8 * 86_400]  # seconds: within / past the supplier delay, a day, a week+
HOLD_REASONS = ["high_risk_of_fraud", "incorrect_address", "other"]


class OrdersAtRandom(RuleBasedStateMachine):
    """The world (stores, products, clock, worker) is built once per test and shared by the runs."""

    world: "World"
    orders = Bundle("orders")  # (retailer key, order id)

    # -- customers ---------------------------------------------------------------------------

    @rule(
        target=orders,
        seller=st.sampled_from(["auto", "manual"]),
        item=st.sampled_from(["own", "linked", "preorder"]),
        quantity=st.integers(1, 2),
        card=st.sampled_from(CARDS),
    )
    def checkout(self, seller, item, quantity, card):
        store = self.world.retailers[seller]
        line = {"variant_id": self.world.variants[seller][item], "quantity": quantity}
        if item == "preorder":
            line["selling_plan_id"] = self.world.plans[seller]
        body = {
            "email": "camille@example.com",
            "line_items": [line],
            "shipping_address": ADDRESS,
            "card_token": card,
        }
        started = self.world.ok(store.post("/checkouts", body))
        if started.status_code != 201:
            return multiple()
        completed = self.world.ok(store.post(f"/checkouts/{started.json()['id']}/complete"))
        return (seller, completed.json()["id"]) if completed.status_code == 201 else multiple()

    @rule(seller=st.sampled_from(["auto", "manual"]))
    def abandon_a_checkout(self, seller):
        store = self.world.retailers[seller]
        body = {
            "email": "leo@example.com",
            "line_items": [{"variant_id": self.world.variants[seller]["own"], "quantity": 1}],
            "shipping_address": ADDRESS,
            "card_token": "tok_success",
        }
        self.world.ok(store.post("/checkouts", body))

    @rule(order=orders)
    def revoke_the_card(self, order):
        store, data = self.world.order(order)
        customer = data.get("customer_id")
        if customer is None:
            return
        for method in self.world.ok(store.get(f"/customers/{customer}")).json().get("payment_methods", []):
            self.world.ok(store.delete(f"/customers/{customer}/payment_methods/{method['id']}"))

    # -- the retailer's staff ----------------------------------------------------------------

    @rule(order=orders, reason=st.sampled_from(HOLD_REASONS))
    def hold(self, order, reason):
        self.world.act(order, "holds", {"reason": reason})

    @rule(order=orders)
    def release(self, order):
        self.world.act(order, "holds/release", {})

    @rule(order=orders)
    def capture(self, order):
        self.world.act(order, "capture")

    @rule(order=orders)
    def mark_as_paid(self, order):
        self.world.act(order, "mark_as_paid")

    @rule(order=orders, refund=st.booleans(), restock=st.booleans())
    def cancel(self, order, refund, restock):
        self.world.act(order, "cancel", {"reason": "customer", "refund": refund, "restock": restock})

    @rule(order=orders, amount=st.sampled_from(["1.00", "5.00", "30.00"]))
    def refund_an_amount(self, order, amount):
        self.world.act(order, "refunds", {"amount": amount, "line_items": []})

    @rule(order=orders, restock=st.sampled_from(["no_restock", "cancel", "return"]))
    def refund_a_line(self, order, restock):
        _, data = self.world.order(order)
        line = data["line_items"][0]
        self.world.act(
            order,
            "refunds",
            {"line_items": [{"line_item_id": line["id"], "quantity": 1, "restock_type": restock}]},
        )

    @rule(order=orders)
    def fulfil_own_items(self, order):
        self.world.act(order, "fulfillments", {"tracking_company": "La Poste", "tracking_number": "LP1"})

    @rule(order=orders)
    def collect_the_balance_early(self, order):
        store, data = self.world.order(order)
        for schedule in data.get("payment_schedules", []):
            self.world.ok(store.post(f"/orders/{order[1]}/payment_schedules/{schedule['id']}/charge"))

    @rule(order=orders)
    def request_fulfilment(self, order):
        store, _ = self.world.order(order)
        for supplier_order in self.world.supplier_orders(order):
            self.world.ok(store.post(f"/supplier_orders/{supplier_order}/request_fulfillment"))

    # -- the supplier ------------------------------------------------------------------------

    @rule(order=orders)
    def supplier_fulfils(self, order):
        for supplier_order in self.world.supplier_orders(order):
            body = {"tracking_company": "Colissimo", "tracking_number": "CO1"}
            self.world.ok(self.world.supplier.post(f"/supplier_orders/{supplier_order}/fulfillments", body))

    @rule(order=orders)
    def supplier_cancels(self, order):
        for supplier_order in self.world.supplier_orders(order):
            body = {"reason": "out of stock"}
            self.world.ok(self.world.supplier.post(f"/supplier_orders/{supplier_order}/cancel", body))

    @rule(order=orders, amount=st.sampled_from(["1.00", "10.00"]))
    def supplier_refunds(self, order, amount):
        for supplier_order in self.world.supplier_orders(order):
            body = {"amount": amount}
            self.world.ok(self.world.supplier.post(f"/supplier_orders/{supplier_order}/refunds", body))

    # -- time and the worker -----------------------------------------------------------------

    @rule(seconds=st.sampled_from(WAITS))
    def time_passes(self, seconds):
        self.world.clock.advance(seconds)
        self.world.worker.run_until_idle()

    @rule()
    def the_worker_runs(self):
        self.world.worker.run_until_idle()

    @invariant()
    def the_audit_is_clean(self):
        report = audit(self.world.engine)
        assert report.clean, [v.as_dict() for v in report.violations]


class World:
    def __init__(self, make_store, clock, worker, database_url):
        network = build(make_store, quantity=10_000, retailer_payments=True, supplier_payments=True)
        manual = make_store("Boutique Manuelle", capture="manual")
        connect(manual, network.supplier)
        network.retailer.patch("/store", {"billing_card_token": "tok_success"})
        self.retailers = {"auto": network.retailer, "manual": manual}
        self.supplier = network.supplier
        self.variants, self.plans = {}, {}
        supplier_product_id = network.supplier_variant["product_id"]
        for key, store in self.retailers.items():
            linked = (
                network.variant
                if key == "auto"
                else import_product(store, supplier_product_id)["variants"][0]
            )
            own = store.product(quantity=10_000, price="50.00", sku=f"OWN-{key}")
            preorder = store.product(quantity=10_000, price="80.00", title="Manteau", sku=f"PRE-{key}")
            plan = store.selling_plan(
                [preorder["id"]],
                deposit=("percentage", 25),
                balance_due={"trigger": "time_after_checkout", "after_seconds": 3600},
            )
            self.variants[key] = {"own": own["id"], "linked": linked["id"], "preorder": preorder["id"]}
            self.plans[key] = plan["id"]
        self.clock, self.worker = clock, worker
        self.done: Counter[str] = Counter()  # actions that succeeded, by kind
        self.engine = make_engine(make_settings(database_url), pool_size=1)

    def ok(self, response):
        """Any answer but a server error: the machine tries actions the state may refuse."""
        assert response.status_code < 500, response.text
        if response.status_code < 300 and response.request.method != "GET":
            self.done[_action(response.request.url.path)] += 1
        return response

    def order(self, order):
        store = self.retailers[order[0]]
        return store, self.ok(store.get(f"/orders/{order[1]}")).json()

    def act(self, order, action, body=None):
        store = self.retailers[order[0]]
        return self.ok(store.post(f"/orders/{order[1]}/{action}", body))

    def supplier_orders(self, order):
        return [so["id"] for so in self.order(order)[1].get("supplier_orders", [])]


@pytest.mark.timeout(1800 + STEPS)
def test_random_sequences_of_everything_keep_the_audit_clean(database_url, make_store, clock, worker):
    world = World(make_store, clock, worker, database_url)
    OrdersAtRandom.world = world
    try:
        run_state_machine_as_test(
            OrdersAtRandom,
            settings=settings(
                max_examples=max(1, STEPS // STEPS_PER_RUN),
                stateful_step_count=STEPS_PER_RUN,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        world.engine.dispose()
    # The machine did move orders, not just meet refusals (a broken harness would pass otherwise).
    moved = set(world.done) - {"checkouts", "complete"}
    assert world.done["complete"] > 0 and len(moved) >= 3, world.done


def _action(path: str) -> str:
    """/api/v1/orders/12/holds/release -> "release"; the last word that is not an id."""
    return next(part for part in reversed(path.split("/")) if not part.isdigit())
