"""A payment whose outcome was lost (crash, timeout) is settled by the worker, once."""

import pytest
from sqlalchemy import func, select

from tandem.payments.test_gateway import TestGatewayOperation


class LosesAnswers:
    """Wraps the gateway: the provider does the work, then the answer never arrives."""

    def __init__(self, inner, *, reach_provider: bool = True):
        self.inner, self.reach_provider, self.name = inner, reach_provider, inner.name

    def __getattr__(self, method):
        async def call(**kwargs):
            if self.reach_provider:
                await getattr(self.inner, method)(**kwargs)
            raise TimeoutError("connection reset by peer")

        return call


def _gateway_operations(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(TestGatewayOperation))


@pytest.mark.parametrize("reach_provider", [True, False], ids=["after-charge", "before-charge"])
def test_a_checkout_whose_payment_answer_was_lost_becomes_an_order(
    shop, runtime, clock, worker, reach_provider
):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"]).json()
    real = runtime.gateway
    runtime.gateway = LosesAnswers(real, reach_provider=reach_provider)
    response = shop.post(f"/checkouts/{checkout['id']}/complete")
    runtime.gateway = real
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "payment_pending"
    assert shop.get("/orders").json()["orders"] == []
    assert shop.variant(variant["id"])["available"] == 0
    worker.run_until_idle()
    assert shop.get("/orders").json()["orders"] == []  # the request's lease has not run out yet
    clock.advance(seconds=121)
    worker.run_until_idle()
    orders = shop.get("/orders").json()["orders"]
    assert [o["financial_status"] for o in orders] == ["paid"]
    assert _gateway_operations(runtime) == 1
    assert shop.variant(variant["id"])["committed"] == 1
    placed = shop.order(orders[0]["id"])
    assert placed["events"][0]["actor"]["kind"] == "worker"


def test_a_lost_decline_reopens_the_checkout_and_frees_the_stock(shop, runtime, clock, worker):
    variant = shop.product(quantity=1)
    checkout = shop.checkout(variant["id"], card="tok_decline").json()
    real = runtime.gateway
    runtime.gateway = LosesAnswers(real)
    shop.post(f"/checkouts/{checkout['id']}/complete")
    runtime.gateway = real
    clock.advance(seconds=121)
    worker.run_until_idle()
    assert shop.get(f"/checkouts/{checkout['id']}").json()["status"] == "open"
    assert shop.variant(variant["id"])["available"] == 1


def test_a_capture_whose_answer_was_lost_is_settled_once(make_store, runtime, clock, worker):
    manual = make_store(capture="manual")
    order = manual.place_order(manual.product(price="30.00")["id"])
    real = runtime.gateway
    runtime.gateway = LosesAnswers(real)
    response = manual.post(f"/orders/{order['id']}/capture")
    runtime.gateway = real
    assert response.json()["error"]["code"] == "payment_pending"
    assert manual.post(f"/orders/{order['id']}/capture").status_code == 409  # one operation at a time
    clock.advance(seconds=121)
    worker.run_until_idle()
    captured = manual.order(order["id"])
    assert captured["financial_status"] == "paid"
    assert [t["status"] for t in captured["transactions"]] == ["success", "success"]
    assert _gateway_operations(runtime) == 2


def test_a_refund_whose_answer_was_lost_is_refunded_once(shop, runtime, clock, worker):
    order = shop.place_order(shop.product(price="30.00")["id"])
    real = runtime.gateway
    runtime.gateway = LosesAnswers(real)
    shop.post(f"/orders/{order['id']}/refunds", {"amount": "10.00"})
    runtime.gateway = real
    assert shop.order(order["id"])["refunds"][0]["status"] == "pending"
    clock.advance(seconds=121)
    worker.run_until_idle()
    after = shop.order(order["id"])
    assert (after["financial_status"], after["total_refunded"]) == ("partially_refunded", "10.00")
    assert after["refunds"][0]["status"] == "success"
    assert _gateway_operations(runtime) == 2
