"""The checkout server killed (SIGKILL) at random points of its batches, fifty times and more,
under a steady crowd of buyers: after a restart nothing is lost and nobody is charged twice.

Each round starts `tandem serve`, lets buyers create and complete checkouts (with an
Idempotency-Key, retried after the crash as a real client would), and kills the server after
a random moment: while batches reserve stock, while payments begin, while the gateway works
(it answers after 20 ms), while orders are written, or around a commit. At the end a worker
takes over what the dead processes left (their heartbeats stop) and every invariant is read
from the database."""

import asyncio
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from tandem.checkout.models import Checkout
from tandem.clock import SystemClock
from tandem.inventory.models import InventoryLevel, Reservation
from tandem.liveness import STALE_AFTER
from tandem.notifications.models import Email
from tandem.orders.models import LineItem, Order
from tandem.payments.models import PaymentTransaction
from tandem.payments.test_gateway import TestGatewayOperation
from tandem.timeline.models import Event
from tandem.wiring import build_worker
from tests.conftest import TEST_SECRET
from tests.support.api import ADDRESS

KILLS = 50
pytestmark = [pytest.mark.postgres_only, pytest.mark.timeout(900)]


@pytest.fixture
def database_url(postgres_url):
    return postgres_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`tandem serve` in a process group of its own, so SIGKILL takes all of it at once."""

    def __init__(self, database_url: str, port: int):
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": database_url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": TEST_SECRET,
            "TANDEM_TEST_GATEWAY_LATENCY_MS": "20",
        }
        command = [sys.executable, "-m", "tandem", "serve", "--no-worker", "--port", str(port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


class Crowd:
    """Buyers who remember every answer, and the completions that got none (to retry them)."""

    def __init__(self, token: str, variant_id: int):
        self.headers = {"Authorization": f"Bearer {token}"}
        self.variant_id = variant_id
        self.unanswered: dict[int, str] = {}  # checkout id -> Idempotency-Key
        self.answers: dict[str, list[tuple[int, dict]]] = {}  # key -> [(status, body)]
        self.serial = 0

    async def shop(self, url: str, seconds: float, buyers: int = 16) -> None:
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", headers=self.headers, timeout=10) as http:
            retries = [
                self._retry(http, checkout_id, key) for checkout_id, key in list(self.unanswered.items())
            ]
            tasks = [asyncio.ensure_future(t) for t in retries]
            tasks += [asyncio.ensure_future(self._buy_forever(http)) for _ in range(buyers)]
            await asyncio.sleep(seconds)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _buy_forever(self, http: httpx.AsyncClient) -> None:
        while True:
            self.serial += 1
            n = self.serial
            body = {
                "email": f"buyer{n}@example.com",
                "line_items": [{"variant_id": self.variant_id, "quantity": 1}],
                "shipping_address": ADDRESS,
                "card_token": "tok_success",
            }
            try:
                created = await http.post("/checkouts", json=body)
            except httpx.HTTPError:
                return  # the server died
            if created.status_code != 201:
                continue
            checkout_id, key = created.json()["id"], f"crash-{n}"
            self.unanswered[checkout_id] = key
            await self._retry(http, checkout_id, key)

    async def _retry(self, http: httpx.AsyncClient, checkout_id: int, key: str) -> None:
        try:
            answer = await http.post(f"/checkouts/{checkout_id}/complete", headers={"Idempotency-Key": key})
        except httpx.HTTPError:
            return  # no answer: retried with the same key in the next round
        self.answers.setdefault(key, []).append((answer.status_code, answer.json()))
        self.unanswered.pop(checkout_id, None)


def test_a_server_killed_at_random_points_loses_nothing_and_charges_nobody_twice(
    database_url, runtime, make_store
):
    shop = make_store("Flash")
    variant = shop.product(quantity=1_000_000, price="10.00")
    crowd, rng = Crowd(shop.token, variant["id"]), random.Random(20261129)
    for _ in range(KILLS):
        server = Server(database_url, _free_port())
        asyncio.run(crowd.shop(server.url, rng.uniform(0.2, 1.2)))
        server.kill()
    server = Server(database_url, _free_port())  # one more life, to answer the last retries
    asyncio.run(crowd.shop(server.url, 3, buyers=0))
    server.kill()
    interrupted = _in_flight(runtime)
    assert interrupted > 0  # some kills fell between a payment's start and its end
    time.sleep(STALE_AFTER.total_seconds() + 1)  # the dead servers' heartbeats are now stale
    runtime.clock = SystemClock()
    build_worker(runtime).run_until_idle(max_rounds=1000)
    print(f"{KILLS} kills; {interrupted} payments in flight taken over; {len(crowd.answers)} answered keys")

    with runtime.uow(read_only=True) as uow:
        session = uow.session
        _nothing_left_in_flight(session)
        orders = _every_charge_is_one_order(session)
        _every_order_is_whole(session, orders)
        _stock_adds_up(session, variant["id"])
    _answers_hold(crowd, orders)
    _replays_answer_the_same(shop, crowd)


def _in_flight(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(func.count()).where(PaymentTransaction.status == "pending"))


def _nothing_left_in_flight(session) -> None:
    waiting = session.scalar(
        select(func.count()).where(PaymentTransaction.status.in_(["pending", "awaiting_customer"]))
    )
    completing = session.scalar(select(func.count()).where(Checkout.status == "completing"))
    assert (waiting, completing) == (0, 0)


def _every_charge_is_one_order(session) -> dict[int, int]:
    """Each successful charge at the gateway is one order's payment; no checkout paid twice."""
    charged = set(
        session.scalars(
            select(TestGatewayOperation.idempotency_key).where(
                TestGatewayOperation.kind == "sale", TestGatewayOperation.status == "succeeded"
            )
        )
    )
    paid = session.execute(
        select(
            PaymentTransaction.idempotency_key, PaymentTransaction.checkout_id, PaymentTransaction.order_id
        ).where(PaymentTransaction.kind == "sale", PaymentTransaction.status == "success")
    ).all()
    assert {p.idempotency_key for p in paid} == charged
    assert all(p.order_id is not None for p in paid)
    per_checkout = Counter(p.checkout_id for p in paid)
    assert max(per_checkout.values()) == 1
    assert len(paid) > KILLS  # the crowd bought a lot
    return {p.checkout_id: p.order_id for p in paid}


def _every_order_is_whole(session, orders: dict[int, int]) -> None:
    """Every order has its line, its timeline, its confirmation email; no order without a charge."""
    all_orders = dict(session.execute(select(Order.checkout_id, Order.id)).all())
    assert all_orders == orders
    lines = Counter(session.scalars(select(LineItem.order_id)))
    placed = Counter(session.scalars(select(Event.subject_id).where(Event.verb == "order_placed")))
    mails = Counter(session.scalars(select(Email.subject_id).where(Email.template == "order_confirmation")))
    for order_id in orders.values():
        assert (lines[order_id], placed[order_id], mails[order_id]) == (1, 1, 1), order_id


def _stock_adds_up(session, variant_id: int) -> None:
    level = session.get(InventoryLevel, variant_id)
    sold = session.scalar(
        select(func.coalesce(func.sum(LineItem.quantity), 0)).where(LineItem.variant_id == variant_id)
    )
    held = session.scalar(
        select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
            Reservation.variant_id == variant_id, Reservation.status == "active"
        )
    )
    assert level.allocated == sold + held
    assert level.on_hand == 1_000_000


def _answers_hold(crowd: Crowd, orders: dict[int, int]) -> None:
    """Every 201 a buyer got names the order of that checkout; a key never got two orders."""
    placed = set(orders.values())
    for key, answers in crowd.answers.items():
        created = {body["id"] for status, body in answers if status == 201}
        assert len(created) <= 1, key
        assert created <= placed, key
        assert {status for status, _ in answers} <= {201, 409}, (key, answers)


def _replays_answer_the_same(shop, crowd: Crowd) -> None:
    """A key that got an order gets the same order again, without a second charge."""
    keyed = [
        (key, body) for key, answers in crowd.answers.items() for status, body in answers if status == 201
    ]
    for key, body in keyed[:20]:
        checkout_id = body["checkout_id"]
        again = shop.post(f"/checkouts/{checkout_id}/complete", key=key)
        assert again.status_code == 201 and again.json()["id"] == body["id"]
