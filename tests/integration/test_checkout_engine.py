"""The batched checkout path: what its lanes, caches and the test gateway promise, on both
databases (the crowd tests and the kill test live in their own files)."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select, update

from tandem.batching import Lane
from tandem.caching import RECHECK_SECONDS
from tandem.db import insert_rows
from tandem.liveness import STALE_AFTER, Heartbeat, ProcessBeat
from tandem.payments.domain import Purpose
from tandem.payments.models import PaymentTransaction
from tandem.payments.test_gateway import TestGatewayOperation
from tandem.stores.models import Store
from tandem.timeline.models import Event
from tests.support.live import serving


@pytest.fixture
def live(app):
    with serving(app) as url:
        yield url


# -- lanes ------------------------------------------------------------------------------------------


def test_a_lane_serves_whatever_is_waiting_as_one_batch():
    batches = []

    async def work(items):
        batches.append(list(items))
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    async def crowd():
        lane = Lane("test", work)
        return await asyncio.gather(*(lane.submit(i) for i in range(5)))

    assert asyncio.run(crowd()) == [0, 10, 20, 30, 40]
    assert batches == [[0, 1, 2, 3, 4]]


def test_a_request_the_batch_code_did_not_expect_fails_alone():
    async def work(items):
        if 3 in items:
            raise RuntimeError("unexpected")
        return items

    async def crowd():
        lane = Lane("test", work)
        return await asyncio.gather(*(lane.submit(i) for i in range(5)), return_exceptions=True)

    results = asyncio.run(crowd())
    assert results[:3] == [0, 1, 2] and results[4] == 4
    assert isinstance(results[3], RuntimeError)


# -- the order in the response is the order as stored -------------------------------------------------


def test_a_completed_checkout_answers_the_order_exactly_as_it_is_stored(shop):
    checkout = shop.checkout(shop.product(price="12.50")["id"]).json()
    placed = shop.post(f"/checkouts/{checkout['id']}/complete", key="k-1").json()
    assert placed == shop.order(placed["id"])
    assert [e["verb"] for e in placed["events"]] == [
        "order_placed",
        "payment_captured",
        "financial_status_changed",
    ]


def test_a_batch_of_orders_gets_consecutive_numbers_and_ids_in_order(shop, runtime):
    variant = shop.product(quantity=20)
    checkouts = [shop.checkout(variant["id"], email=f"b{n}@example.com").json()["id"] for n in range(5)]
    orders = [shop.post(f"/checkouts/{c}/complete").json() for c in checkouts]
    numbers = [o["number"] for o in orders]
    assert numbers == list(range(numbers[0], numbers[0] + 5))
    with runtime.uow() as uow:
        ids = insert_rows(
            uow.session,
            Event.__table__,
            [
                {
                    "store_id": shop.store_id,
                    "subject_type": "test",
                    "subject_id": n,
                    "verb": f"v{n}",
                    "data": {"n": n},
                    "actor_kind": "system",
                    "actor_id": None,
                    "actor_name": "test",
                    "created_at": runtime.clock.now(),
                }
                for n in range(4)
            ],
        )
        stored = dict(uow.session.execute(select(Event.id, Event.verb).where(Event.id.in_(ids))).all())
        uow.rollback()
    assert [stored[i] for i in ids] == ["v0", "v1", "v2", "v3"]


# -- idempotency under a race ----------------------------------------------------------------------


def test_twenty_racing_retries_of_one_key_make_one_order_one_charge_and_identical_answers(
    shop, live, runtime
):
    checkout = shop.checkout(shop.product(quantity=5)["id"]).json()

    def complete(_):
        with httpx.Client(base_url=f"{live}/api/v1", timeout=60) as http:
            return http.post(
                f"/checkouts/{checkout['id']}/complete",
                headers={"Authorization": f"Bearer {shop.token}", "Idempotency-Key": "race"},
            )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(complete, range(20)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.text for a in answers}) == 1
    with runtime.uow(read_only=True) as uow:
        charges = uow.session.scalar(
            select(func.count()).select_from(TestGatewayOperation).where(TestGatewayOperation.kind == "sale")
        )
    assert charges == 1 and len(shop.get("/orders").json()["orders"]) == 1


# -- caches ----------------------------------------------------------------------------------------------


def test_a_store_change_made_here_is_seen_at_once(shop, runtime):
    with runtime.uow() as uow:
        assert runtime.caches.store(uow.session, shop.store_id).payment_capture == "automatic"
    shop.patch("/store", {"payment_capture": "manual"})
    with runtime.uow() as uow:
        assert runtime.caches.store(uow.session, shop.store_id).payment_capture == "manual"


def test_a_store_change_made_by_another_process_is_seen_within_a_second(shop, runtime):
    runtime.caches.forget(shop.store_id)
    with runtime.uow() as uow:
        assert runtime.caches.store(uow.session, shop.store_id).currency == "EUR"
        uow.session.execute(
            update(Store)
            .where(Store.id == shop.store_id)
            .values(currency="USD", config_version=Store.config_version + 1)
        )
        uow.commit()
        assert runtime.caches.store(uow.session, shop.store_id).currency == "EUR"  # not yet rechecked
        time.sleep(RECHECK_SECONDS + 0.1)
        assert runtime.caches.store(uow.session, shop.store_id).currency == "USD"


def test_a_new_webhook_subscription_gets_the_next_order_at_once(shop, allow_private_webhooks, receiver):
    shop.post("/webhooks", {"topic": "orders/create", "address": receiver.url()})
    shop.place_order(shop.product()["id"])
    [delivery] = shop.get("/webhook_deliveries").json()["deliveries"]
    assert delivery["topic"] == "orders/create"


# -- the test gateway, as a remote provider ---------------------------------------------------------------


@pytest.mark.unaudited  # calls the gateway alone: charges no order of Tandem's knows
def test_the_test_gateway_answers_a_retried_call_as_it_did_the_first_time(runtime):
    from tandem.payments.gateway import PaymentSource

    gateway = runtime.gateway

    async def charge():
        source = PaymentSource(card_token="tok_success")
        return await gateway.sale(source=source, amount=100, currency="EUR", idempotency_key="same-key")

    first, again = asyncio.run(charge()), asyncio.run(charge())
    assert first == again and first.succeeded and first.reference.startswith("tx_")


@pytest.mark.unaudited  # calls the gateway alone: charges no order of Tandem's knows
def test_the_test_gateway_can_be_as_slow_as_a_remote_provider(settings, clock):
    from tandem.payments.gateway import PaymentSource
    from tandem.runtime import build_runtime

    slow = build_runtime(settings.model_copy(update={"test_gateway_latency_ms": 150}), clock=clock)

    async def charges():
        source = PaymentSource(card_token="tok_success")
        started = time.perf_counter()
        await asyncio.gather(
            *(
                slow.gateway.sale(source=source, amount=100, currency="EUR", idempotency_key=f"slow-{n}")
                for n in range(10)
            )
        )
        return time.perf_counter() - started

    try:
        elapsed = asyncio.run(charges())
    finally:
        slow.close()
    assert 0.15 <= elapsed < 1.0  # ten calls at once take one round trip, not ten


# -- one payment sequence --------------------------------------------------------------------------------


def test_every_payment_purpose_has_its_finisher(runtime):
    for purpose in Purpose:
        if purpose is not Purpose.MANUAL:  # recorded settled: never in flight
            assert runtime.finishers[purpose] is not None


# -- liveness ----------------------------------------------------------------------------------------------


def test_a_payment_left_by_a_dead_process_is_taken_over_at_once(shop, runtime, clock, worker):
    from tandem.payments import service as payments
    from tandem.payments.domain import TransactionKind

    order = shop.place_order(shop.product()["id"])
    now = clock.now()
    with runtime.uow() as uow:
        for owner, beat in (("dead", now - STALE_AFTER * 2), ("alive", now)):
            uow.session.add(ProcessBeat(owner=owner, started_at=beat, beat_at=beat))
            tx = payments.pending(
                store_id=shop.store_id,
                kind=TransactionKind.REFUND,
                purpose=Purpose.ORDER_REFUND,
                amount=100,
                currency="EUR",
                gateway="test",
                now=now,
                order_id=order["id"],
                parent_id=order["transactions"][0]["id"],
                locked_by=owner,
            )
            payments.begin_many(uow.session, [tx])
        uow.commit()
    worker.run_until_idle()
    with runtime.uow(read_only=True) as uow:
        left = dict(
            uow.session.execute(
                select(PaymentTransaction.locked_by, PaymentTransaction.status).where(
                    PaymentTransaction.kind == "refund"
                )
            ).all()
        )
    assert left["alive"] == "pending"  # its caller may still answer: its lease holds
    assert "dead" not in left  # taken over: the sweeper owns it now, and settled it
    assert shop.order(order["id"])["total_refunded"] == "1.00"


def test_a_process_beats_until_it_stops(runtime, clock):
    beat = Heartbeat(runtime.database.engine, "beating", clock.now)
    beat.start()
    with runtime.uow(read_only=True) as uow:
        assert uow.session.get(ProcessBeat, "beating") is not None
    beat.stop()
    with runtime.uow(read_only=True) as uow:
        assert uow.session.get(ProcessBeat, "beating") is None
