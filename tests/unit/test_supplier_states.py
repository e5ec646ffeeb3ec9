"""The retailer-supplier network as data (SPEC §2.1, §2.3): connections, supplier orders, the
collective payment, what each store may do now, and what a supplier order tells its retailer order."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from itertools import product

import pytest

from tandem.errors import IllegalTransition
from tandem.orders.domain import FulfillmentStatus, LineProgress, derive_fulfillment
from tandem.suppliers.domain import (
    CONNECTION_TRANSITIONS,
    PAYMENT_TRANSITIONS,
    SUPPLIER_ORDER_TRANSITIONS,
    AmountOwed,
    CollectivePaymentStatus,
    ConnectionEvent,
    ConnectionStatus,
    SupplierAction,
    SupplierOrderEvent,
    SupplierOrderStatus,
    allowed_actions,
    initial_event,
    move_connection,
    move_payment,
    move_supplier_order,
    retailer_fulfillment_signal,
    unhold_event,
    visible_to_supplier,
)

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
ONE_SECOND = timedelta(seconds=1)


@dataclass
class Connection:
    status: str = "requested"


@dataclass
class Line:
    fulfilled_quantity: int = 0


@dataclass
class SupplierOrder:
    """The fields the supplier domain reads and writes, nothing else."""

    status: str = "pending_payment"
    payment_status: str = "none"
    automatic_payments: bool = False
    opened_at: datetime | None = None
    cancelled_by: str | None = None
    cancellation_status: str | None = None
    payment_amount: int = 0
    lines: list = field(default_factory=list)


def a_supplier_order(status="pending_payment", **fields) -> SupplierOrder:
    return SupplierOrder(status=str(status), **fields)


def a_payment(status, *, automatic=False) -> SupplierOrder:
    return SupplierOrder(
        status="open", payment_status=str(status), automatic_payments=automatic, opened_at=NOON
    )


def cases(rows) -> list:
    """Parametrize rows, each named after its values (`open-fulfil_all`)."""
    return [pytest.param(*row, id="-".join(str(part) for part in row)) for row in rows]


def is_refused(move, subject, argument) -> bool:
    """True when `move` raises IllegalTransition and `subject` is exactly as it was."""
    before = replace(subject)
    with pytest.raises(IllegalTransition):
        move(subject, argument)
    return subject == before


# -- connections ------------------------------------------------------------------------------

CONNECTION_PAIRS = list(product(ConnectionStatus, ConnectionEvent))


def test_the_connection_table_is_the_one_spec_2_1_describes():
    # The retailer requests; the supplier accepts or declines; nothing moves afterwards.
    assert {(str(s), str(e)): str(t) for (s, e), t in CONNECTION_TRANSITIONS.items()} == {
        ("requested", "accept"): "active",
        ("requested", "decline"): "declined",
    }


@pytest.mark.parametrize(
    ("status", "event"), cases(p for p in CONNECTION_PAIRS if p in CONNECTION_TRANSITIONS)
)
def test_a_listed_connection_move_is_applied(status, event):
    connection = Connection(status=status.value)

    move_connection(connection, event)

    assert connection.status == CONNECTION_TRANSITIONS[status, event].value


@pytest.mark.parametrize(
    ("status", "event"), cases(p for p in CONNECTION_PAIRS if p not in CONNECTION_TRANSITIONS)
)
def test_an_unlisted_connection_move_is_refused_and_changes_nothing(status, event):
    assert is_refused(move_connection, Connection(status=status.value), event)


def test_a_supplier_accepting_a_request_makes_the_connection_active():
    connection = Connection(status="requested")

    move_connection(connection, ConnectionEvent.ACCEPT)

    assert connection.status == "active"


def test_a_declined_connection_cannot_be_accepted_afterwards():
    assert is_refused(move_connection, Connection(status="declined"), ConnectionEvent.ACCEPT)


# -- supplier orders: the table ---------------------------------------------------------------

# Spelled out by hand from SPEC §2.3, in plain strings: changing the table must change this list.
SPEC_MOVES = [
    ("pending_payment", "paid", "scheduled", "a paid order enters the review window"),
    ("pending_payment", "paid_while_held", "on_hold", "an order paid while held waits for the hold"),
    ("scheduled", "hold", "on_hold", "a hold stops the window"),
    ("scheduled", "release", "open", "the window passed with no hold opens it"),
    ("on_hold", "unhold_after_window", "open", "unheld after the window opens at once"),
    ("on_hold", "unhold_in_window", "scheduled", "unheld inside the window waits again"),
    ("awaiting_request", "request_fulfillment", "open", "a request opens a manual capture order"),
    ("pending_payment", "retailer_cancels", "cancelled", "the retailer cancels an unpaid order"),
    ("awaiting_request", "retailer_cancels", "cancelled", "the retailer cancels before requesting"),
    ("scheduled", "retailer_cancels", "cancelled", "the retailer cancels inside the window"),
    ("on_hold", "retailer_cancels", "cancelled", "the retailer cancels a held order"),
    ("open", "fulfil_part", "partially_fulfilled", "the supplier ships part of an open order"),
    ("partially_fulfilled", "fulfil_part", "partially_fulfilled", "the supplier ships another part"),
    ("open", "fulfil_all", "fulfilled", "the supplier ships everything at once"),
    ("partially_fulfilled", "fulfil_all", "fulfilled", "the supplier ships the rest"),
    ("open", "supplier_cancels", "cancelled", "the supplier declines an open order"),
    ("partially_fulfilled", "supplier_cancels", "cancelled", "the supplier declines the rest"),
    ("open", "cancellation_accepted", "cancelled", "the supplier accepts a cancellation request"),
]
SUPPLIER_ORDER_PAIRS = list(product(SupplierOrderStatus, SupplierOrderEvent))


def test_supplier_order_statuses_are_the_contract_of_spec_2_3():
    assert {s.value for s in SupplierOrderStatus} == {
        "pending_payment",
        "awaiting_request",
        "scheduled",
        "on_hold",
        "open",
        "partially_fulfilled",
        "fulfilled",
        "cancelled",
    }


def test_the_supplier_order_table_is_exactly_the_one_spelled_out_from_the_spec():
    table = {(str(s), str(e)): str(t) for (s, e), t in SUPPLIER_ORDER_TRANSITIONS.items()}

    assert table == {(status, event): target for status, event, target, _ in SPEC_MOVES}


@pytest.mark.parametrize(
    ("status", "event", "target"), [m[:3] for m in SPEC_MOVES], ids=[m[3] for m in SPEC_MOVES]
)
def test_a_spec_move_sets_the_status_and_reports_where_it_came_from(status, event, target):
    order = a_supplier_order(status)

    moved = move_supplier_order(order, SupplierOrderEvent(event))

    assert moved == (status, target)
    assert order.status == target


@pytest.mark.parametrize(
    ("status", "event"), cases(p for p in SUPPLIER_ORDER_PAIRS if p in SUPPLIER_ORDER_TRANSITIONS)
)
def test_a_listed_supplier_order_move_is_applied(status, event):
    order = a_supplier_order(status)

    assert move_supplier_order(order, event) == (
        status.value,
        SUPPLIER_ORDER_TRANSITIONS[status, event].value,
    )
    assert order.status == SUPPLIER_ORDER_TRANSITIONS[status, event].value


@pytest.mark.parametrize(
    ("status", "event"),
    cases(p for p in SUPPLIER_ORDER_PAIRS if p not in SUPPLIER_ORDER_TRANSITIONS),
)
def test_an_unlisted_supplier_order_move_is_refused_and_changes_nothing(status, event):
    order = a_supplier_order(status, payment_status="pending", opened_at=NOON, cancelled_by="supplier")

    assert is_refused(move_supplier_order, order, event)


def test_a_refused_supplier_order_move_is_a_409_that_names_the_status_and_the_event():
    with pytest.raises(IllegalTransition) as refused:
        move_supplier_order(a_supplier_order("fulfilled"), SupplierOrderEvent.SUPPLIER_CANCELS)

    assert refused.value.status == 409
    assert refused.value.code == "invalid_transition"
    assert "fulfilled" in refused.value.message and "supplier cancels" in refused.value.message


# -- supplier orders: the refusals the spec implies -------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        SupplierOrderEvent.RETAILER_CANCELS,
        SupplierOrderEvent.SUPPLIER_CANCELS,
        SupplierOrderEvent.CANCELLATION_ACCEPTED,
    ],
)
def test_a_fulfilled_supplier_order_cannot_be_cancelled_by_anyone(event):
    assert is_refused(move_supplier_order, a_supplier_order("fulfilled"), event)


def test_an_open_supplier_order_cannot_be_cancelled_directly_by_the_retailer():
    # Once open, the retailer has to send a cancellation request (SPEC §2.3).
    assert is_refused(move_supplier_order, a_supplier_order("open"), SupplierOrderEvent.RETAILER_CANCELS)


def test_a_partly_shipped_supplier_order_cannot_be_cancelled_directly_by_the_retailer():
    order = a_supplier_order("partially_fulfilled")

    assert is_refused(move_supplier_order, order, SupplierOrderEvent.RETAILER_CANCELS)


@pytest.mark.parametrize("event", [SupplierOrderEvent.FULFIL_PART, SupplierOrderEvent.FULFIL_ALL])
def test_a_scheduled_supplier_order_cannot_be_fulfilled(event):
    assert is_refused(move_supplier_order, a_supplier_order("scheduled"), event)


def test_a_cancelled_supplier_order_cannot_be_released():
    assert is_refused(move_supplier_order, a_supplier_order("cancelled"), SupplierOrderEvent.RELEASE)


def test_an_order_awaiting_the_retailers_request_does_not_open_at_release_time():
    order = a_supplier_order("awaiting_request")

    assert is_refused(move_supplier_order, order, SupplierOrderEvent.RELEASE)


def test_an_unpaid_supplier_order_cannot_be_released_or_requested():
    order = a_supplier_order("pending_payment")

    assert is_refused(move_supplier_order, order, SupplierOrderEvent.RELEASE)
    assert is_refused(move_supplier_order, order, SupplierOrderEvent.REQUEST_FULFILLMENT)


def test_a_held_supplier_order_is_not_released_by_the_window_alone():
    assert is_refused(move_supplier_order, a_supplier_order("on_hold"), SupplierOrderEvent.RELEASE)


def test_a_supplier_order_is_paid_only_once():
    order = a_supplier_order("scheduled")

    assert is_refused(move_supplier_order, order, SupplierOrderEvent.PAID)


def test_nothing_moves_a_cancelled_supplier_order():
    for event in SupplierOrderEvent:
        assert is_refused(move_supplier_order, a_supplier_order("cancelled"), event)


# -- the collective payment -------------------------------------------------------------------

SPEC_PAYMENT_MOVES = {
    "none": {"pending"},  # requested when the supplier order opens
    "pending": {"paid", "failed"},
    "failed": {"paid"},  # paid by hand after a declined automatic charge
    "paid": {"partially_refunded", "refunded"},
    "partially_refunded": {"partially_refunded", "refunded"},
    "refunded": set(),
}
PAYMENT_PAIRS = list(product(CollectivePaymentStatus, CollectivePaymentStatus))


def test_the_collective_payment_table_is_exactly_the_one_spelled_out():
    table = {str(current): {str(t) for t in targets} for current, targets in PAYMENT_TRANSITIONS.items()}

    assert table == SPEC_PAYMENT_MOVES


@pytest.mark.parametrize(
    ("current", "target"), cases((c, t) for c, t in PAYMENT_PAIRS if t in PAYMENT_TRANSITIONS[c])
)
def test_a_listed_collective_payment_move_is_applied(current, target):
    order = a_payment(current)

    move_payment(order, target)

    assert order.payment_status == target.value


@pytest.mark.parametrize(
    ("current", "target"),
    cases((c, t) for c, t in PAYMENT_PAIRS if t not in PAYMENT_TRANSITIONS[c]),
)
def test_an_unlisted_collective_payment_move_is_refused_and_changes_nothing(current, target):
    assert is_refused(move_payment, a_payment(current), target)


def test_nothing_is_owed_before_the_supplier_order_opens_so_it_cannot_be_paid():
    assert is_refused(move_payment, a_payment("none"), CollectivePaymentStatus.PAID)


def test_a_declined_automatic_charge_can_still_be_paid_by_hand():
    order = a_payment("failed", automatic=True)

    move_payment(order, CollectivePaymentStatus.PAID)

    assert order.payment_status == "paid"


def test_a_refunded_collective_payment_is_final():
    for target in CollectivePaymentStatus:
        assert is_refused(move_payment, a_payment("refunded"), target)


def test_a_collective_payment_is_not_refunded_before_it_is_paid():
    assert is_refused(move_payment, a_payment("pending"), CollectivePaymentStatus.REFUNDED)
    assert is_refused(move_payment, a_payment("failed"), CollectivePaymentStatus.PARTIALLY_REFUNDED)


def test_the_amount_owed_is_the_wholesale_total_plus_the_suppliers_shipping():
    assert AmountOwed(wholesale=4500, shipping=700).total == 5200
    assert AmountOwed(wholesale=4500, shipping=0).total == 4500


# -- what each store may do now ---------------------------------------------------------------


def retailer_actions(order, *, held=False) -> list[SupplierAction]:
    return allowed_actions(order, store_is_supplier=False, retailer_order_held=held)


def supplier_actions(order, *, held=False) -> list[SupplierAction]:
    return allowed_actions(order, store_is_supplier=True, retailer_order_held=held)


def test_the_retailer_may_request_fulfilment_of_an_order_awaiting_its_request():
    assert retailer_actions(a_supplier_order("awaiting_request")) == [SupplierAction.REQUEST_FULFILLMENT]


def test_the_retailer_may_not_request_fulfilment_while_its_order_is_held():
    assert retailer_actions(a_supplier_order("awaiting_request"), held=True) == []


@pytest.mark.parametrize("status", [s for s in SupplierOrderStatus if s != "awaiting_request"])
def test_the_retailer_may_request_fulfilment_of_nothing_else(status):
    assert SupplierAction.REQUEST_FULFILLMENT not in retailer_actions(a_supplier_order(status))


@pytest.mark.parametrize(
    ("status", "payment", "payments"),
    cases(product(SupplierOrderStatus, CollectivePaymentStatus, ["manual", "automatic"])),
)
def test_the_retailer_never_fulfils_nor_marks_the_collective_payment_received(status, payment, payments):
    order = a_supplier_order(status, payment_status=payment.value, automatic_payments=payments == "automatic")

    actions = retailer_actions(order)

    assert SupplierAction.FULFILL not in actions
    assert SupplierAction.MARK_PAYMENT_RECEIVED not in actions


def test_the_supplier_does_not_request_fulfilment_for_the_retailer():
    assert supplier_actions(a_supplier_order("awaiting_request")) == []


@pytest.mark.parametrize("status", ["open", "partially_fulfilled"])
def test_the_supplier_may_fulfil_or_cancel_an_open_or_partly_shipped_order(status):
    assert supplier_actions(a_supplier_order(status)) == [SupplierAction.FULFILL, SupplierAction.CANCEL]


@pytest.mark.parametrize(
    "status", [s for s in SupplierOrderStatus if s not in ("open", "partially_fulfilled")]
)
def test_the_supplier_may_not_fulfil_an_order_that_is_not_open(status):
    assert SupplierAction.FULFILL not in supplier_actions(a_supplier_order(status))


def test_a_hold_placed_after_the_order_opened_does_not_stop_the_supplier_fulfilling():
    # Holds only stop the window (scheduled -> on_hold); an open order is already the supplier's.
    assert supplier_actions(a_supplier_order("open"), held=True) == [
        SupplierAction.FULFILL,
        SupplierAction.CANCEL,
    ]


@pytest.mark.parametrize("payment", ["pending", "failed"])
def test_without_automatic_payments_the_supplier_may_mark_a_pending_payment_received(payment):
    order = a_payment(payment, automatic=False)

    assert SupplierAction.MARK_PAYMENT_RECEIVED in supplier_actions(order)


@pytest.mark.parametrize("payment", ["none", "paid", "partially_refunded", "refunded"])
def test_the_supplier_may_not_mark_received_a_payment_that_is_not_owed(payment):
    order = a_payment(payment, automatic=False)

    assert SupplierAction.MARK_PAYMENT_RECEIVED not in supplier_actions(order)


def test_with_automatic_payments_the_supplier_may_not_mark_a_pending_charge_received():
    assert SupplierAction.MARK_PAYMENT_RECEIVED not in supplier_actions(a_payment("pending", automatic=True))


def test_after_a_declined_automatic_charge_the_supplier_may_mark_the_payment_received_by_hand():
    # The service (supplier_orders.mark_payment_received) accepts exactly this case, and a failed
    # payment only ever comes from an automatic charge: the button must be offered for it.
    order = a_payment("failed", automatic=True)

    assert SupplierAction.MARK_PAYMENT_RECEIVED in supplier_actions(order)


def test_a_supplier_may_be_offered_both_fulfilling_and_marking_the_payment_received():
    assert supplier_actions(a_payment("pending")) == [
        SupplierAction.FULFILL,
        SupplierAction.MARK_PAYMENT_RECEIVED,
        SupplierAction.CANCEL,
    ]


# -- how a supplier order starts and leaves a hold --------------------------------------------


@pytest.mark.parametrize(("paid", "held"), cases(product([False, True], [False, True])))
def test_with_manual_capture_a_supplier_order_waits_for_the_retailers_request(paid, held):
    assert initial_event(paid=paid, manual_capture=True, held=held) is None


@pytest.mark.parametrize("held", [False, True])
def test_an_unpaid_order_leaves_its_supplier_order_pending_payment(held):
    assert initial_event(paid=False, manual_capture=False, held=held) is None


def test_a_paid_order_schedules_its_supplier_order():
    assert initial_event(paid=True, manual_capture=False, held=False) == SupplierOrderEvent.PAID


def test_a_paid_but_held_order_puts_its_supplier_order_on_hold():
    assert initial_event(paid=True, manual_capture=False, held=True) == SupplierOrderEvent.PAID_WHILE_HELD


def test_a_hold_released_after_the_window_opens_the_supplier_order_at_once():
    assert unhold_event(NOON - ONE_SECOND, NOON) == SupplierOrderEvent.UNHOLD_AFTER_WINDOW


def test_a_hold_released_exactly_at_release_time_opens_the_supplier_order():
    assert unhold_event(NOON, NOON) == SupplierOrderEvent.UNHOLD_AFTER_WINDOW


def test_a_hold_released_inside_the_window_schedules_the_supplier_order_again():
    assert unhold_event(NOON + ONE_SECOND, NOON) == SupplierOrderEvent.UNHOLD_IN_WINDOW


def test_a_hold_released_before_any_window_was_set_schedules_the_supplier_order():
    # Paid while held: no release_at yet, so it enters the window now.
    assert unhold_event(None, NOON) == SupplierOrderEvent.UNHOLD_IN_WINDOW


# -- what the supplier sees -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["pending_payment", "awaiting_request", "scheduled", "on_hold", "cancelled"]
)
def test_a_supplier_order_that_never_opened_does_not_exist_for_the_supplier(status):
    assert visible_to_supplier(a_supplier_order(status, opened_at=None)) is False


@pytest.mark.parametrize("status", ["open", "partially_fulfilled", "fulfilled", "cancelled"])
def test_a_supplier_order_that_opened_stays_visible_to_the_supplier(status):
    assert visible_to_supplier(a_supplier_order(status, opened_at=NOON)) is True


# -- what a supplier order tells its retailer order -------------------------------------------


@pytest.mark.parametrize(
    ("status", "cancelled_by", "signal"),
    cases(
        [
            ("pending_payment", None, None),
            ("awaiting_request", None, None),
            ("scheduled", None, "scheduled"),
            ("on_hold", None, "scheduled"),
            ("open", None, "open"),
            ("partially_fulfilled", None, "open"),
            ("fulfilled", None, None),
            ("cancelled", "supplier", "declined"),
            ("cancelled", "retailer", None),
        ]
    ),
)
def test_a_supplier_order_signals_its_state_to_the_retailer_order(status, cancelled_by, signal):
    assert retailer_fulfillment_signal(a_supplier_order(status, cancelled_by=cancelled_by)) == signal


def fulfillment_of(lines, *supplier_orders, holds=0) -> FulfillmentStatus:
    """What the retailer order shows, fed as orders.service feeds it (signals, Nones dropped)."""
    signals = [s for s in map(retailer_fulfillment_signal, supplier_orders) if s]
    return derive_fulfillment(lines, active_holds=holds, supplier_statuses=signals)


UNSHIPPED = [LineProgress(ordered=2, fulfilled=0, removed=0)]
HALF_SHIPPED = [LineProgress(ordered=2, fulfilled=1, removed=0)]


def test_a_scheduled_supplier_order_shows_the_retailer_order_as_scheduled():
    assert fulfillment_of(UNSHIPPED, a_supplier_order("scheduled")) == FulfillmentStatus.SCHEDULED


def test_an_open_supplier_order_shows_the_retailer_order_in_progress():
    assert fulfillment_of(UNSHIPPED, a_supplier_order("open")) == FulfillmentStatus.IN_PROGRESS


def test_a_supplier_declining_shows_the_retailer_order_as_request_declined():
    declined = a_supplier_order("cancelled", cancelled_by="supplier")

    assert fulfillment_of(UNSHIPPED, declined) == FulfillmentStatus.REQUEST_DECLINED


def test_a_partial_shipment_shows_as_partially_fulfilled_while_a_supplier_order_is_still_open():
    assert fulfillment_of(HALF_SHIPPED, a_supplier_order("open")) == FulfillmentStatus.PARTIALLY_FULFILLED


def test_a_supplier_order_on_hold_shows_the_held_retailer_order_as_on_hold():
    assert fulfillment_of(UNSHIPPED, a_supplier_order("on_hold"), holds=1) == FulfillmentStatus.ON_HOLD


@pytest.mark.parametrize("status", ["pending_payment", "awaiting_request"])
def test_a_supplier_order_not_yet_under_way_leaves_the_retailer_order_unfulfilled(status):
    assert fulfillment_of(UNSHIPPED, a_supplier_order(status)) == FulfillmentStatus.UNFULFILLED


def test_a_supplier_order_the_retailer_cancelled_leaves_the_retailer_order_unfulfilled():
    cancelled = a_supplier_order("cancelled", cancelled_by="retailer")

    assert fulfillment_of(UNSHIPPED, cancelled) == FulfillmentStatus.UNFULFILLED


# -- cancellation requests, refunds, returns (actions after the order opened) ----------------


def test_the_retailer_may_request_cancellation_of_an_open_order_nothing_of_which_shipped():
    assert SupplierAction.REQUEST_CANCELLATION in retailer_actions(a_supplier_order("open"))


def test_the_retailer_may_not_request_cancellation_twice_or_once_something_shipped():
    requested = a_supplier_order("open", cancellation_status="requested")
    shipped = a_supplier_order("open", lines=[Line(fulfilled_quantity=1)])
    assert SupplierAction.REQUEST_CANCELLATION not in retailer_actions(requested)
    assert SupplierAction.REQUEST_CANCELLATION not in retailer_actions(shipped)


def test_the_supplier_answers_a_pending_cancellation_request_only():
    assert SupplierAction.ANSWER_CANCELLATION in supplier_actions(
        a_supplier_order("open", cancellation_status="requested")
    )
    for status in (None, "accepted", "declined"):
        assert SupplierAction.ANSWER_CANCELLATION not in supplier_actions(
            a_supplier_order("open", cancellation_status=status)
        )


def test_the_supplier_may_refund_only_what_was_collected():
    assert SupplierAction.REFUND in supplier_actions(
        a_supplier_order("open", payment_status="paid", payment_amount=100)
    )
    assert SupplierAction.REFUND not in supplier_actions(
        a_supplier_order("open", payment_status="pending", payment_amount=100)
    )


@pytest.mark.parametrize("status", ["partially_fulfilled", "fulfilled"])
def test_the_retailer_may_request_a_return_once_something_shipped(status):
    assert SupplierAction.REQUEST_RETURN in retailer_actions(a_supplier_order(status))


def test_no_return_before_anything_shipped():
    assert SupplierAction.REQUEST_RETURN not in retailer_actions(a_supplier_order("open"))
