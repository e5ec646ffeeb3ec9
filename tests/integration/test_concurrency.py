"""Races over real HTTP: parallel buyers for scarce stock, retries racing each other.

Run on PostgreSQL (row locks) and SQLite (one writer at a time)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.api import ADDRESS
from tests.support.live import serving


@pytest.fixture
def live(app):
    with serving(app) as url:
        yield url


def _buy(url: str, token: str, variant_id: int, n: int) -> tuple[int, int | None]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{url}/api/v1", headers=headers, timeout=60) as http:
        checkout = http.post(
            "/checkouts",
            json={
                "email": f"buyer{n}@example.com",
                "shipping_address": ADDRESS,
                "card_token": "tok_success",
                "line_items": [{"variant_id": variant_id, "quantity": 1}],
            },
        )
        if checkout.status_code != 201:
            return checkout.status_code, None
        done = http.post(f"/checkouts/{checkout.json()['id']}/complete")
        return done.status_code, done.json().get("id")


def test_fifty_parallel_buyers_for_ten_units_get_exactly_ten_orders(shop, live):
    variant = shop.product(quantity=10)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda n: _buy(live, shop.token, variant["id"], n), range(50)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 10
    assert set(statuses) == {201, 409}
    stock = shop.variant(variant["id"])
    assert (stock["available"], stock["committed"], stock["on_hand"], stock["reserved"]) == (0, 10, 10, 0)
    assert len(shop.get("/orders", params={"limit": 100}).json()["orders"]) == 10


def test_parallel_retries_of_one_completion_create_one_order(shop, live):
    variant = shop.product(quantity=5)
    checkout = shop.checkout(variant["id"]).json()

    def complete(_):
        with httpx.Client(base_url=f"{live}/api/v1", timeout=60) as http:
            return http.post(
                f"/checkouts/{checkout['id']}/complete",
                headers={"Authorization": f"Bearer {shop.token}", "Idempotency-Key": "same"},
            )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(complete, range(10)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(shop.get("/orders").json()["orders"]) == 1
    assert shop.variant(variant["id"])["committed"] == 1


def test_parallel_completions_without_a_key_create_one_order(shop, live):
    variant = shop.product(quantity=5)
    checkout = shop.checkout(variant["id"]).json()

    def complete(_):
        with httpx.Client(base_url=f"{live}/api/v1", timeout=60) as http:
            return http.post(
                f"/checkouts/{checkout['id']}/complete", headers={"Authorization": f"Bearer {shop.token}"}
            ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(complete, range(8)))
    assert statuses.count(201) == 1
    assert set(statuses) == {201, 409}
    assert len(shop.get("/orders").json()["orders"]) == 1


def test_parallel_refunds_never_exceed_what_was_captured(shop, live):
    order = shop.place_order(shop.product(price="10.00")["id"])

    def refund(n):
        with httpx.Client(base_url=f"{live}/api/v1", timeout=60) as http:
            return http.post(
                f"/orders/{order['id']}/refunds",
                json={"amount": "4.00"},
                headers={"Authorization": f"Bearer {shop.token}"},
            ).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(refund, range(6)))
    # One money operation at a time per order: the others get 409 (in progress) or 422 (too much).
    assert set(statuses) <= {201, 409, 422}
    assert 1 <= statuses.count(201) <= 2
    refunded = shop.order(order["id"])["total_refunded"]
    assert refunded == f"{4 * statuses.count(201)}.00"


def test_buyers_and_the_sweeper_reclaiming_lapsed_holds_together_sell_everything(shop, live, clock, worker):
    """Lapsed reservations are reclaimed by buyers and by the worker at once: no deadlock,
    no undersell (every unit sold), no oversell."""
    variant = shop.product(quantity=10)
    for n in range(10):
        assert shop.checkout(variant["id"], email=f"abandons{n}@example.com").status_code == 201
    clock.advance(minutes=11)
    sweeping = threading.Event()

    def sweep():
        while not sweeping.is_set():
            worker.run_once()

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        with ThreadPoolExecutor(max_workers=30) as pool:
            results = list(pool.map(lambda n: _buy(live, shop.token, variant["id"], n), range(30)))
    finally:
        sweeping.set()
        sweeper.join()
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 10
    assert set(statuses) == {201, 409}
    stock = shop.variant(variant["id"])
    assert (stock["available"], stock["committed"], stock["reserved"]) == (0, 10, 0)
