"""Races in the supplier network, over the real lock paths (SPEC §6 invariant 3)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from tandem.errors import TandemError
from tandem.notifications.models import Email
from tandem.orders import service as orders
from tandem.orders.domain import HoldReason
from tandem.suppliers.models import SupplierOrder
from tandem.timeline.domain import Actor, ActorKind
from tandem.timeline.models import Event
from tandem.wiring import build_worker
from tests.integration.test_concurrency import _buy
from tests.support.live import serving
from tests.support.network import build, connect, import_product

STAFF = Actor(ActorKind.STAFF, "Camille")


def _place_orders(network, count: int) -> list[int]:
    return [
        network.retailer.place_order(network.variant["id"], email=f"b{n}@example.com")["id"]
        for n in range(count)
    ]


def _supplier_orders(runtime) -> list[SupplierOrder]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(SupplierOrder).order_by(SupplierOrder.id)))


@pytest.mark.timeout(300)
def test_a_hold_racing_the_release_never_lets_a_held_order_reach_the_supplier(make_store, runtime, clock):
    network = build(make_store, quantity=300)
    order_ids = _place_orders(network, 200)
    clock.advance(seconds=120)
    held, refused = [], []

    def hold_all():
        for order_id in reversed(order_ids):  # the worker releases oldest first: they meet midway
            try:
                with runtime.uow() as uow:
                    orders.place_hold(
                        uow,
                        store_id=network.retailer.store_id,
                        order_id=order_id,
                        reason=HoldReason.HIGH_RISK_OF_FRAUD,
                        note=None,
                        actor=STAFF,
                        now=clock.now(),
                    )
                held.append(order_id)
            except TandemError:
                refused.append(order_id)  # already with the supplier: too late to hold

    releasing = threading.Thread(
        target=build_worker(runtime, name="releaser").run_until_idle, kwargs={"max_rounds": 1000}
    )
    holding = threading.Thread(target=hold_all)
    releasing.start()
    holding.start()
    releasing.join()
    holding.join()
    build_worker(runtime).run_until_idle()
    statuses = {s.order_id: s.status for s in _supplier_orders(runtime)}
    print(f"\nheld before release: {len(held)}, released before the hold: {len(refused)}")
    assert len(held) + len(refused) == 200
    assert all(statuses[order_id] == "on_hold" for order_id in held)
    assert all(statuses[order_id] == "open" for order_id in refused)
    for order_id in held:
        assert network.retailer.order(order_id)["fulfillment_status"] == "on_hold"


@pytest.mark.timeout(300)
def test_two_workers_open_each_supplier_order_exactly_once(make_store, runtime, clock):
    network = build(make_store, quantity=300)
    _place_orders(network, 200)
    clock.advance(seconds=120)
    workers = [build_worker(runtime, name=f"w{n}", batch=7) for n in range(2)]
    threads = [threading.Thread(target=w.run_until_idle, kwargs={"max_rounds": 1000}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    supplier_orders = _supplier_orders(runtime)
    assert len(supplier_orders) == 200 and {s.status for s in supplier_orders} == {"open"}
    with runtime.uow(read_only=True) as uow:
        openings = uow.session.execute(
            select(Event.subject_id, func.count())
            .where(Event.subject_type == "supplier_order", Event.verb == "supplier_order_status_changed")
            .group_by(Event.subject_id)
        ).all()
        mails = uow.session.scalar(
            select(func.count()).select_from(Email).where(Email.template == "supplier_order_new")
        )
    assert {count for _, count in openings} == {2}  # pending_payment -> scheduled, scheduled -> open
    assert mails == 200


def test_two_retailers_selling_three_units_of_one_supplier_sell_exactly_three(make_store, app):
    network = build(make_store, quantity=3)
    other = make_store("Boutique Sud")
    connect(other, network.supplier)
    theirs = import_product(other, network.supplier_variant["product_id"])["variants"][0]
    buyers = [(network.retailer.token, network.variant["id"]), (other.token, theirs["id"])] * 10
    with serving(app) as url, ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda n: _buy(url, *buyers[n], n), range(20)))
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 3
    assert set(statuses) == {201, 409}
    stock = network.supplier.variant(network.supplier_variant["id"])
    assert (stock["available"], stock["committed"], stock["on_hand"]) == (0, 3, 3)
    assert len(_supplier_orders_of(make_store, network, other)) == 3


def _supplier_orders_of(make_store, network, other) -> list[dict]:
    return (
        network.retailer.get("/supplier_orders").json()["supplier_orders"]
        + other.get("/supplier_orders").json()["supplier_orders"]
    )


@pytest.mark.timeout(300)
def test_two_workers_cancel_each_unanswered_request_once(make_store, runtime, clock):
    network = build(make_store, quantity=100, retailer_payments=True, supplier_payments=True)
    network.retailer.patch("/store", {"billing_card_token": "tok_success"})
    _place_orders(network, 30)
    clock.advance(seconds=120)
    build_worker(runtime).run_until_idle()
    for supplier_order in network.retailer.get("/supplier_orders", params={"limit": 100}).json()[
        "supplier_orders"
    ]:
        network.retailer.post(f"/supplier_orders/{supplier_order['id']}/request_cancellation")
    clock.advance(days=14)
    workers = [build_worker(runtime, name=f"w{n}", batch=3) for n in range(2)]
    threads = [threading.Thread(target=w.run_until_idle, kwargs={"max_rounds": 1000}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {s.status for s in _supplier_orders(runtime)} == {"cancelled"}
    with runtime.uow(read_only=True) as uow:
        accepted = uow.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.subject_type == "supplier_order", Event.verb == "cancellation_accepted")
        )
    assert accepted == 30
    assert network.supplier.variant(network.supplier_variant["id"])["available"] == 100  # returned once each
