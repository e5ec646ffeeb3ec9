"""Deterministic races on PostgreSQL's row locks (threads paced by events, as in Saleor's
tests/race_condition.py): the interleavings that once deadlocked a buyer and the sweeper."""

import threading
import time

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import IntegrityError

from tandem.checkout import service as checkout
from tandem.inventory import service as inventory
from tandem.inventory.models import Reservation
from tests.support.api import ADDRESS

PAUSE = 0.4  # long enough for the other session to block on a lock


@pytest.fixture
def lapsed_unit(shop, clock):
    """Two units: one free, one held by a checkout whose reservation lapsed (not reclaimed yet)."""
    variant = shop.product(quantity=2)
    assert shop.checkout(variant["id"], email="gone@example.com").status_code == 201
    clock.advance(minutes=11)
    return variant["id"]


def _buy(runtime, store_id, variant_id, outcome):
    request = checkout.CheckoutRequest(
        lines=[checkout.LineRequest(variant_id, 1)],
        shipping_address=ADDRESS,
        email="late@example.com",
        card_token="tok_success",
    )
    try:
        with runtime.uow() as uow:
            outcome["checkout"] = checkout.create_checkout(
                uow, store_id=store_id, request=request, now=runtime.clock.now()
            )
    except Exception as exc:  # noqa: BLE001 - the test reports whatever went wrong
        outcome["error"] = exc


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.unaudited  # "another buyer" is a bare UPDATE of the stock row, without an order
def test_a_short_buyer_and_the_sweeper_never_deadlock(runtime, shop, lapsed_unit):
    """Another buyer takes the last free unit while ours waits on the stock row; ours then finds
    it short, which on PostgreSQL leaves the row locked by ours. Meanwhile the sweeper has locked
    the lapsed reservation and wants the stock row. Ours must let go of the row before reclaiming."""
    engine = runtime.database.engine
    other_writer_holds, release_other, sweeper_holds, release_sweeper = (threading.Event() for _ in range(4))
    outcome, sweep = {}, {}

    def other_writer():  # another buyer takes the last free unit, so ours has to wait and then fails
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE inventory_levels SET allocated = allocated + 1 WHERE variant_id = :v"),
                {"v": lapsed_unit},
            )
            other_writer_holds.set()
            release_other.wait(10)

    def sweeper():
        try:
            with runtime.uow() as uow:
                uow.session.execute(
                    update(Reservation)
                    .where(Reservation.variant_id == lapsed_unit)
                    .values(status="expired")
                    .execution_options(synchronize_session=False)
                )
                sweeper_holds.set()
                release_sweeper.wait(10)
                inventory.deallocate(uow.session, variant_id=lapsed_unit, quantity=1)
                uow.commit()
        except Exception as exc:  # noqa: BLE001
            sweep["error"] = exc

    threads = [threading.Thread(target=other_writer)]
    threads[0].start()
    other_writer_holds.wait(10)
    threads.append(threading.Thread(target=_buy, args=(runtime, shop.store_id, lapsed_unit, outcome)))
    threads[1].start()
    time.sleep(PAUSE)  # the buyer now waits for the stock row
    threads.append(threading.Thread(target=sweeper))
    threads[2].start()
    sweeper_holds.wait(10)
    release_other.set()  # the buyer's UPDATE finds no free unit
    time.sleep(PAUSE)
    release_sweeper.set()  # the sweeper now wants the stock row
    for thread in threads:
        thread.join(20)
    assert "error" not in sweep, sweep.get("error")
    assert "error" not in outcome, outcome.get("error")
    assert outcome["checkout"].status == "open"  # the unit the sweeper freed was sold: no undersell
    stock = shop.variant(lapsed_unit)
    assert (stock["reserved"], stock["available"], stock["on_hand"]) == (1, 0, 2)


def test_a_buyer_finds_units_the_sweeper_freed_just_before_it(runtime, shop, lapsed_unit, clock):
    assert shop.checkout(lapsed_unit, email="last-free@example.com").status_code == 201
    with runtime.uow() as uow:
        inventory.reclaim_expired(uow.session, variant_id=lapsed_unit, now=clock.now())
        uow.commit()
    outcome = {}
    _buy(runtime, shop.store_id, lapsed_unit, outcome)
    assert "checkout" in outcome


def _reservation_statuses(runtime, variant_id):
    with runtime.uow(read_only=True) as uow:
        rows = uow.session.execute(
            text("SELECT status FROM reservations WHERE variant_id = :v ORDER BY id"), {"v": variant_id}
        )
        return [row.status for row in rows]


def test_the_sweeper_frees_lapsed_units_in_a_transaction_of_its_own(runtime, shop, lapsed_unit, clock):
    assert inventory.reclaim_expired_alone(runtime.database, variant_id=lapsed_unit, now=clock.now()) == 1
    assert _reservation_statuses(runtime, lapsed_unit) == ["expired"]
    stock = shop.variant(lapsed_unit)
    assert (stock["reserved"], stock["available"], stock["on_hand"]) == (0, 2, 2)
    assert inventory.reclaim_expired_alone(runtime.database, variant_id=lapsed_unit, now=clock.now()) == 0
    assert shop.variant(lapsed_unit)["available"] == 2


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
@pytest.mark.unaudited  # breaks the stock row on purpose
def test_a_sweep_that_would_break_the_stock_changes_nothing(runtime, shop, lapsed_unit, clock):
    """The stock row's CHECK constraints guard the one-statement sweep: all of it or nothing."""
    with runtime.database.engine.begin() as conn:
        conn.execute(
            text("UPDATE inventory_levels SET allocated = 0 WHERE variant_id = :v"), {"v": lapsed_unit}
        )
    with pytest.raises(IntegrityError):
        inventory.reclaim_expired_alone(runtime.database, variant_id=lapsed_unit, now=clock.now())
    assert _reservation_statuses(runtime, lapsed_unit) == ["active"]
