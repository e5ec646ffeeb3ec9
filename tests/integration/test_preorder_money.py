"""Pre-order money adds up (SPEC §2.4, §6): deposit + balance − refunds is exactly what the
gateway took, net, whatever happened in between (declines, retries, bank challenges,
cancellation before fulfilment, refunds after it).

`hypothesis` is not in requirements.lock, so the scenarios are a table. Each row is played over
HTTP and the worker; the expected figures in the row are worked out by hand. The gateway side
is read from the test gateway's own records (testgw_operations), not from Tandem's.
"""

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from tandem.payments.test_gateway import TestGatewayOperation
from tandem.preorders import charging
from tandem.timeline.domain import Actor, ActorKind

DAY = 86400
DUE_IN_A_DAY = {"trigger": "time_after_checkout", "after_seconds": DAY}


@dataclass(frozen=True)
class Scenario:
    name: str
    price: str
    quantity: int
    deposit: tuple[str, str | int]
    steps: tuple
    # What should come out, worked out by hand:
    deposit_paid: str
    balance: str | None  # the schedule's amount; None: nothing left to schedule
    schedule_status: str | None
    refunded: str
    financial_status: str
    card: str = "tok_success"
    balance_due: dict | None = None


SCENARIOS = [
    Scenario(
        "percentage-deposit-then-balance-when-due",
        "100.00", 1, ("percentage", 20), ("due",),
        "20.00", "80.00", "paid", "0.00", "paid",
    ),
    Scenario(
        "balance-not-yet-due",
        "100.00", 2, ("percentage", 30), (),
        "60.00", "140.00", "pending", "0.00", "partially_paid",
    ),
    Scenario(
        "cancelled-before-the-balance-refunds-the-deposit",
        "100.00", 3, ("percentage", 20), ("cancel",),
        "60.00", "240.00", "cancelled", "60.00", "refunded",
    ),
    Scenario(
        "no-deposit-cancelled-moves-no-money",
        "40.00", 2, ("percentage", 0), ("cancel",),
        "0.00", "80.00", "cancelled", "0.00", "voided",
    ),
    Scenario(
        "full-deposit-one-unit-returned",
        "40.00", 2, ("percentage", 100), ("fulfil", ("returned", 1)),
        "80.00", None, None, "40.00", "partially_refunded",
    ),
    Scenario(
        "fixed-deposit-per-unit-one-unit-returned",
        "50.00", 3, ("fixed", "15.00"), ("due", "fulfil", ("returned", 1)),
        "45.00", "105.00", "paid", "50.00", "partially_refunded",
    ),
    # A fixed deposit above the price is refused when the plan is made (422 on deposit.value,
    # tests/e2e/test_strict_input_api.py), so no order can carry one.
    Scenario(
        "balance-paid-then-cancelled-before-fulfilment-refunds-both",
        "100.00", 2, ("percentage", 20), ("due", "cancel"),
        "40.00", "160.00", "paid", "200.00", "refunded",
    ),
    Scenario(
        "declined-balance-retried-with-a-new-card-then-partly-refunded",
        "100.00", 2, ("percentage", 25), ("due", "new_card", "fulfil", ("amount", "30.00")),
        "50.00", "150.00", "paid", "30.00", "partially_refunded",
        card="tok_decline_after_first",
    ),
    Scenario(
        "declined-balance-then-cancelled",
        "100.00", 1, ("percentage", 10), ("due", "cancel"),
        "10.00", "90.00", "cancelled", "10.00", "refunded",
        card="tok_decline_after_first",
    ),
    Scenario(
        "staff-collect-declined-then-a-card-they-enter",
        "80.00", 1, ("percentage", 50), ("collect_declined", "collect_with_new_card", "fulfil"),
        "40.00", "40.00", "paid", "0.00", "paid",
        card="tok_decline_after_first",
    ),
    Scenario(
        "gateway-errors-then-a-replaced-card-then-all-returned",
        "100.00", 1, ("percentage", 0), ("due", "retry", "replace_card", "fulfil", ("returned", 1)),
        "0.00", "100.00", "paid", "100.00", "refunded",
        card="tok_error",
    ),
    Scenario(
        "rounded-deposit-collected-early-then-all-returned",
        "99.99", 3, ("percentage", 33), ("collect", "fulfil", ("returned", 3)),
        "98.99", "200.98", "paid", "299.97", "refunded",
    ),
    Scenario(
        "bank-challenge-confirmed-then-one-unit-returned",
        "100.00", 2, ("percentage", 20), ("due", "confirm", "fulfil", ("returned", 1)),
        "40.00", "160.00", "paid", "100.00", "partially_refunded",
        card="tok_requires_action",
    ),
    Scenario(
        "bank-challenge-never-confirmed-then-cancelled",
        "100.00", 2, ("percentage", 20), ("due", "cancel"),
        "40.00", "160.00", "cancelled", "40.00", "refunded",
        card="tok_requires_action",
    ),
    Scenario(
        "balance-due-on-fulfilment-then-a-cent-refunded",
        "60.00", 2, ("percentage", 20), ("fulfil", ("amount", "0.01")),
        "24.00", "96.00", "paid", "0.01", "partially_refunded",
        balance_due={"trigger": "on_fulfillment"},
    ),
    Scenario(
        "refunded-in-two-parts-across-deposit-and-balance",
        "100.00", 2, ("percentage", 20), ("due", "fulfil", ("amount", "150.00"), ("amount", "50.00")),
        "40.00", "160.00", "paid", "200.00", "refunded",
    ),
]  # fmt: skip


def cents(amount: str) -> int:
    return int(Decimal(amount) * 100)


# -- playing a scenario ---------------------------------------------------------------------------


class Play:
    def __init__(self, shop, clock, worker, runtime, order: dict):
        self.shop, self.clock, self.worker, self.runtime = shop, clock, worker, runtime
        self.order_id, self.customer_id = order["id"], order["customer_id"]

    def __call__(self, step) -> None:
        kind, *args = step if isinstance(step, tuple) else (step,)
        getattr(self, kind)(*args)
        self.worker.run_until_idle()

    @property
    def schedule(self) -> dict:
        [schedule] = self.shop.order(self.order_id)["payment_schedules"]
        return schedule

    def _ok(self, response, status: int = 200) -> dict:
        assert response.status_code == status, response.text
        return response.json()

    def due(self) -> None:
        self.clock.advance(seconds=DAY + 1)

    def retry(self) -> None:  # the worker's first retry after a gateway error
        self.clock.advance(seconds=301)
        self.worker.run_until_idle()
        assert self.schedule["attempts"] == 2

    def new_card(self) -> None:
        path = f"/customers/{self.customer_id}/payment_methods"
        self._ok(self.shop.post(path, {"card_token": "tok_success"}), 201)

    def replace_card(self) -> None:
        path = f"/customers/{self.customer_id}/payment_methods/{self.schedule['payment_method_id']}"
        self._ok(self.shop.put(path, {"card_token": "tok_success"}))

    def charge_request(self, body: dict | None = None):
        schedule = self.schedule
        return self.shop.post(f"/orders/{self.order_id}/payment_schedules/{schedule['id']}/charge", body)

    def collect(self) -> None:
        assert self._ok(self.charge_request())["status"] == "paid"

    def collect_declined(self) -> None:
        assert self.charge_request().status_code == 402
        assert self.schedule["status"] == "failed"

    def collect_with_new_card(self) -> None:
        assert self._ok(self.charge_request({"card_token": "tok_success"}))["status"] == "paid"

    def confirm(self) -> None:
        schedule = self.schedule
        assert schedule["status"] == "awaiting_customer"
        customer = Actor(ActorKind.CUSTOMER, "camille@example.com", self.customer_id)
        with self.runtime.uow() as uow:
            charging.confirm(uow, schedule["id"], actor=customer, now=self.clock.now())

    def fulfil(self) -> None:
        self._ok(self.shop.post(f"/orders/{self.order_id}/fulfillments", {}), 201)

    def cancel(self) -> None:
        self._ok(self.shop.post(f"/orders/{self.order_id}/cancel", {"reason": "customer"}))

    def _refund(self, body: dict) -> None:
        self._ok(self.shop.post(f"/orders/{self.order_id}/refunds", body), 201)

    def amount(self, amount: str) -> None:
        self._refund({"amount": amount})

    def returned(self, quantity: int) -> None:
        [line] = self.shop.order(self.order_id)["line_items"]
        self._refund(
            {"line_items": [{"line_item_id": line["id"], "quantity": quantity, "restock_type": "return"}]}
        )


# -- what the gateway took ------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayMoney:
    charged: dict[str, int]  # reference -> amount of every successful charge
    refunded: dict[str, int]  # reference of the charge -> amount given back on it

    @property
    def net(self) -> int:
        return sum(self.charged.values()) - sum(self.refunded.values())


def _gateway_money(runtime) -> GatewayMoney:
    """From the provider's own records: successful sales and captures (a charge the customer
    confirmed is its sale marked succeeded), less successful refunds."""
    with runtime.uow(read_only=True) as uow:
        ops = list(uow.session.scalars(select(TestGatewayOperation).order_by(TestGatewayOperation.id)))
    charged = {
        op.reference: op.amount for op in ops if op.kind in ("sale", "capture") and op.status == "succeeded"
    }
    refunded: dict[str, int] = {}
    for op in ops:
        if op.kind == "refund" and op.status == "succeeded":
            refunded[op.parent_reference] = refunded.get(op.parent_reference, 0) + op.amount
    return GatewayMoney(charged, refunded)


def _successes(order: dict, *kinds: str) -> dict[str, int]:
    return {
        t["gateway_reference"]: cents(t["amount"])
        for t in order["transactions"]
        if t["kind"] in kinds and t["status"] == "success"
    }


# -- the test -------------------------------------------------------------------------------------


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_deposit_plus_balance_less_refunds_is_what_the_gateway_took(shop, clock, worker, runtime, scenario):
    variant = shop.product(price=scenario.price, quantity=10)
    plan = shop.selling_plan(
        [variant["id"]], deposit=scenario.deposit, balance_due=scenario.balance_due or DUE_IN_A_DAY
    )
    placed = shop.preorder(variant["id"], plan["id"], scenario.quantity, card=scenario.card)
    play = Play(shop, clock, worker, runtime, placed)
    worker.run_until_idle()
    for step in scenario.steps:
        play(step)
    order = shop.order(placed["id"])
    gateway = _gateway_money(runtime)

    # The order is the deposit plus the balance, and the balance was scheduled as the rest.
    total = cents(scenario.price) * scenario.quantity
    balance = cents(scenario.balance) if scenario.balance else 0
    assert cents(scenario.deposit_paid) + balance == total == cents(order["total"])
    schedules = order["payment_schedules"]
    assert [(cents(s["amount"]), s["status"]) for s in schedules] == (
        [(balance, scenario.schedule_status)] if scenario.balance else []
    )
    # What Tandem says it took and gave back.
    balance_paid = balance if scenario.schedule_status == "paid" else 0
    captured = cents(scenario.deposit_paid) + balance_paid
    assert (cents(order["total_captured"]), order["total_refunded"]) == (captured, scenario.refunded)
    assert order["financial_status"] == scenario.financial_status
    # The invariant: deposit + balance − refunds = what the gateway took, net.
    assert captured - cents(scenario.refunded) == gateway.net
    # Charge by charge: every successful gateway charge is one of the order's payments (none
    # lost, none made twice), and every refund went against the charge the order names.
    assert _successes(order, "sale", "capture") == gateway.charged
    txs = order["transactions"]
    by_id = {t["id"]: t for t in txs}
    given_back: dict[str, int] = {}
    for t in txs:
        if t["kind"] == "refund" and t["status"] == "success":
            parent = by_id[t["parent_id"]]["gateway_reference"]
            given_back[parent] = given_back.get(parent, 0) + cents(t["amount"])
    assert given_back == gateway.refunded
    if balance_paid:
        [balance_charge] = [t for t in txs if t["payment_schedule_id"] and t["status"] == "success"]
        assert cents(balance_charge["amount"]) == balance
    assert order["notices"] == []  # every refund went back through the gateway


def test_collecting_with_the_card_on_file_while_the_bank_waits_never_leaves_the_order_stuck(
    shop, clock, worker, runtime
):
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 20))
    placed = shop.preorder(variant["id"], plan["id"], card="tok_requires_action")
    play = Play(shop, clock, worker, runtime, placed)
    play("due")
    schedule = play.schedule
    assert schedule["status"] == "awaiting_customer" and "charge" in schedule["actions"]

    # Staff press "charge" (the card on file): the bank challenges this off-session charge again.
    collected = play.charge_request()
    assert collected.status_code in (200, 402, 409), collected.text
    clock.advance(seconds=121)  # past any lease: the sweeper settles whatever is left
    worker.run_until_idle()

    order = shop.order(placed["id"])
    assert [t for t in order["transactions"] if t["status"] == "pending"] == []
    play("cancel")  # the order can still be cancelled, and the deposit goes back
    order = shop.order(placed["id"])
    assert (order["total_captured"], order["total_refunded"], order["financial_status"]) == (
        "20.00",
        "20.00",
        "refunded",
    )
    assert _gateway_money(runtime).net == 0
