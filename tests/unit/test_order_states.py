"""The order's three state machines, its action rules and how fulfilment follows the facts."""

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import product

import pytest

from tandem.errors import IllegalTransition
from tandem.orders.domain import (
    ACTIONS,
    FINANCIAL_TRANSITIONS,
    FULFILLMENT_MOVES,
    STATUS_TRANSITIONS,
    Action,
    CancelReason,
    FinancialStatus,
    FulfillmentStatus,
    LineProgress,
    OrderStatus,
    PaymentEvent,
    StatusEvent,
    allowed_actions,
    apply_payment,
    cancel,
    derive_fulfillment,
    ensure_allowed,
    money_in_event,
    move_fulfillment,
    move_status,
    new_order_statuses,
    refund_event,
)
from tandem.timeline.domain import Change

NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


@dataclass
class Order:
    """The fields the order domain reads and writes, nothing else."""

    status: str = "open"
    financial_status: str = "pending"
    fulfillment_status: str = "unfulfilled"
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None


def an_order(status="open", financial="pending", fulfillment="unfulfilled") -> Order:
    return Order(status=str(status), financial_status=str(financial), fulfillment_status=str(fulfillment))


def shipped(ordered: int, fulfilled: int = 0, removed: int = 0) -> LineProgress:
    return LineProgress(ordered=ordered, fulfilled=fulfilled, removed=removed)


def every_state() -> list[Order]:
    return [an_order(s, f, u) for s, f, u in product(OrderStatus, FinancialStatus, FulfillmentStatus)]


# -- a new order ------------------------------------------------------------------------------


def test_a_new_order_is_open_pending_and_unfulfilled():
    assert new_order_statuses() == {
        "status": "open",
        "financial_status": "pending",
        "fulfillment_status": "unfulfilled",
    }


def test_a_new_order_can_be_marked_paid_held_cancelled_fulfilled_or_archived_but_not_captured_or_refunded():
    order = Order(**new_order_statuses())

    assert set(allowed_actions(order)) == {
        Action.MARK_AS_PAID,
        Action.HOLD,
        Action.CANCEL,
        Action.FULFILL,
        Action.ARCHIVE,
    }


# -- order status -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "event", "target"), [(s, e, t) for (s, e), t in STATUS_TRANSITIONS.items()]
)
def test_every_listed_status_event_moves_the_order_and_records_the_change(source, event, target):
    order = an_order(status=source)

    changes = move_status(order, event)

    assert order.status == target
    assert changes == [Change("status_changed", {"from": source.value, "to": target.value})]


REFUSED_STATUS_EVENTS = [pair for pair in product(OrderStatus, StatusEvent) if pair not in STATUS_TRANSITIONS]


@pytest.mark.parametrize(("source", "event"), REFUSED_STATUS_EVENTS)
def test_a_status_event_the_table_does_not_list_is_refused_and_changes_nothing(source, event):
    order = an_order(status=source)

    with pytest.raises(IllegalTransition):
        move_status(order, event)

    assert order.status == source


def test_the_status_events_are_exactly_cancel_archive_and_unarchive_of_an_open_or_archived_order():
    assert STATUS_TRANSITIONS == {
        (OrderStatus.OPEN, StatusEvent.CANCEL): OrderStatus.CANCELLED,
        (OrderStatus.OPEN, StatusEvent.ARCHIVE): OrderStatus.ARCHIVED,
        (OrderStatus.ARCHIVED, StatusEvent.UNARCHIVE): OrderStatus.OPEN,
    }


def test_a_cancelled_order_cannot_be_archived_or_unarchived():
    for event in (StatusEvent.ARCHIVE, StatusEvent.UNARCHIVE):
        order = an_order(status="cancelled")
        with pytest.raises(IllegalTransition):
            move_status(order, event)
        assert order.status == "cancelled"


def test_an_open_order_cannot_be_unarchived():
    order = an_order(status="open")

    with pytest.raises(IllegalTransition):
        move_status(order, StatusEvent.UNARCHIVE)


# -- cancelling -------------------------------------------------------------------------------


def test_cancelling_an_open_order_records_the_reason_and_when():
    order = an_order(status="open")

    changes = cancel(order, reason=CancelReason.FRAUD, now=NOON)

    assert order.status == "cancelled"
    assert order.cancel_reason == "fraud"
    assert order.cancelled_at == NOON
    assert changes == [
        Change("order_cancelled", {"reason": "fraud"}),
        Change("status_changed", {"from": "open", "to": "cancelled"}),
    ]


@pytest.mark.parametrize("status", [OrderStatus.CANCELLED, OrderStatus.ARCHIVED])
def test_an_order_that_is_not_open_cannot_be_cancelled_and_keeps_its_reason_and_time(status):
    order = an_order(status=status)

    with pytest.raises(IllegalTransition):
        cancel(order, reason=CancelReason.CUSTOMER, now=NOON)

    assert (order.status, order.cancel_reason, order.cancelled_at) == (status, None, None)


def test_cancelling_twice_keeps_the_first_reason():
    order = an_order()
    cancel(order, reason=CancelReason.INVENTORY, now=NOON)

    with pytest.raises(IllegalTransition):
        cancel(order, reason=CancelReason.CUSTOMER, now=datetime(2026, 3, 15, tzinfo=UTC))

    assert (order.cancel_reason, order.cancelled_at) == ("inventory", NOON)


# -- financial status -------------------------------------------------------------------------


F, E = FinancialStatus, PaymentEvent

# The financial moves written out again (SPEC §2.2 names the states, not every move), so that
# changing FINANCIAL_TRANSITIONS is a deliberate act that also changes this test.
EXPECTED_FINANCIAL = {
    # first money: authorised (manual capture), paid, or a deposit (pre-order)
    (F.PENDING, E.AUTHORIZE): F.AUTHORIZED,
    (F.PENDING, E.PAY): F.PAID,
    (F.PENDING, E.PAY_PART): F.PARTIALLY_PAID,
    (F.PENDING, E.VOID): F.VOIDED,
    # an authorization is captured, voided, or lapses after 7 days
    (F.AUTHORIZED, E.PAY): F.PAID,
    (F.AUTHORIZED, E.PAY_PART): F.PARTIALLY_PAID,
    (F.AUTHORIZED, E.VOID): F.VOIDED,
    (F.AUTHORIZED, E.EXPIRE): F.EXPIRED,
    # a lapsed authorization can still be paid another way, or the order given up
    (F.EXPIRED, E.PAY): F.PAID,
    (F.EXPIRED, E.PAY_PART): F.PARTIALLY_PAID,
    (F.EXPIRED, E.VOID): F.VOIDED,
    # a deposit is followed by the balance, or refunded
    (F.PARTIALLY_PAID, E.PAY): F.PAID,
    (F.PARTIALLY_PAID, E.PAY_PART): F.PARTIALLY_PAID,
    (F.PARTIALLY_PAID, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_PAID, E.REFUND_ALL): F.REFUNDED,
    (F.PAID, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PAID, E.REFUND_ALL): F.REFUNDED,
    (F.PARTIALLY_REFUNDED, E.REFUND_PART): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_REFUNDED, E.REFUND_ALL): F.REFUNDED,
    # money coming in after a partial refund (e.g. a balance) keeps the refund visible
    (F.PARTIALLY_REFUNDED, E.PAY): F.PARTIALLY_REFUNDED,
    (F.PARTIALLY_REFUNDED, E.PAY_PART): F.PARTIALLY_REFUNDED,
}


def test_the_financial_table_is_the_one_the_spec_describes():
    assert FINANCIAL_TRANSITIONS == EXPECTED_FINANCIAL


@pytest.mark.parametrize(
    ("source", "event", "target"), [(s, e, t) for (s, e), t in EXPECTED_FINANCIAL.items()]
)
def test_every_listed_payment_event_sets_the_financial_status_it_names(source, event, target):
    order = an_order(financial=source)

    changes = apply_payment(order, event)

    assert order.financial_status == target
    expected = (
        []
        if source == target
        else [Change("financial_status_changed", {"from": source.value, "to": target.value})]
    )
    assert changes == expected


REFUSED_PAYMENT_EVENTS = [
    pair for pair in product(FinancialStatus, PaymentEvent) if pair not in FINANCIAL_TRANSITIONS
]


@pytest.mark.parametrize(("source", "event"), REFUSED_PAYMENT_EVENTS)
def test_a_payment_event_the_table_does_not_list_is_refused_and_changes_nothing(source, event):
    order = an_order(financial=source)

    with pytest.raises(IllegalTransition):
        apply_payment(order, event)

    assert order.financial_status == source


@pytest.mark.parametrize(
    ("source", "event"),
    [
        (FinancialStatus.REFUNDED, PaymentEvent.PAY),
        (FinancialStatus.REFUNDED, PaymentEvent.PAY_PART),
        (FinancialStatus.REFUNDED, PaymentEvent.REFUND_PART),
        (FinancialStatus.REFUNDED, PaymentEvent.REFUND_ALL),
        (FinancialStatus.VOIDED, PaymentEvent.PAY),
        (FinancialStatus.VOIDED, PaymentEvent.AUTHORIZE),
        (FinancialStatus.PAID, PaymentEvent.VOID),
        (FinancialStatus.PAID, PaymentEvent.EXPIRE),
        (FinancialStatus.PENDING, PaymentEvent.REFUND_ALL),
        (FinancialStatus.AUTHORIZED, PaymentEvent.REFUND_PART),
        (FinancialStatus.AUTHORIZED, PaymentEvent.AUTHORIZE),
        (FinancialStatus.EXPIRED, PaymentEvent.EXPIRE),
    ],
    ids=lambda value: str(value),
)
def test_money_cannot_move_where_it_makes_no_sense(source, event):
    """A refunded order is not paid again, a voided one not captured, a paid one not voided..."""
    order = an_order(financial=source)

    with pytest.raises(IllegalTransition):
        apply_payment(order, event)

    assert order.financial_status == source


def test_refunding_a_cancelled_order_changes_only_its_financial_status():
    order = an_order(status="cancelled", financial="paid", fulfillment="unfulfilled")

    apply_payment(order, PaymentEvent.REFUND_ALL)

    assert (order.status, order.financial_status, order.fulfillment_status) == (
        "cancelled",
        "refunded",
        "unfulfilled",
    )


def test_capturing_an_authorization_for_the_whole_order_makes_it_paid():
    order = an_order(financial="authorized")

    apply_payment(order, money_in_event(net_paid=4990, total=4990))

    assert order.financial_status == "paid"


def test_an_expired_authorization_can_still_be_paid_another_way():
    order = an_order(financial="expired")

    apply_payment(order, PaymentEvent.PAY)

    assert order.financial_status == "paid"


def test_a_second_part_payment_keeps_the_order_partially_paid_without_recording_a_change():
    order = an_order(financial="partially_paid")

    assert apply_payment(order, PaymentEvent.PAY_PART) == []
    assert order.financial_status == "partially_paid"


def test_refunding_part_then_the_rest_makes_the_order_refunded():
    order = an_order(financial="paid")

    first = apply_payment(order, refund_event(refunded=1000, captured=4990))
    second = apply_payment(order, refund_event(refunded=4990, captured=4990))

    assert order.financial_status == "refunded"
    assert first == [Change("financial_status_changed", {"from": "paid", "to": "partially_refunded"})]
    assert second == [Change("financial_status_changed", {"from": "partially_refunded", "to": "refunded"})]


@pytest.mark.parametrize(
    ("net_paid", "total", "event"),
    [(4990, 4990, PaymentEvent.PAY), (5000, 4990, PaymentEvent.PAY), (1000, 4990, PaymentEvent.PAY_PART)],
)
def test_money_in_covers_the_order_only_when_net_paid_reaches_the_total(net_paid, total, event):
    assert money_in_event(net_paid=net_paid, total=total) is event


@pytest.mark.parametrize(
    ("refunded", "captured", "event"),
    [
        (4990, 4990, PaymentEvent.REFUND_ALL),
        (1, 4990, PaymentEvent.REFUND_PART),
        (4989, 4990, PaymentEvent.REFUND_PART),
    ],
)
def test_a_refund_is_complete_only_when_everything_captured_is_refunded(refunded, captured, event):
    assert refund_event(refunded=refunded, captured=captured) is event


# -- which actions each state allows ----------------------------------------------------------

S, U = OrderStatus, FulfillmentStatus
ANY_STATUS, ANY_FINANCIAL, ANY_FULFILLMENT = set(S), set(F), set(U)

# Where each action is allowed, written out again so that changing ACTIONS is a deliberate act.
EXPECTED_ACTIONS = {
    Action.CAPTURE: ({S.OPEN}, {F.AUTHORIZED}, ANY_FULFILLMENT),
    Action.MARK_AS_PAID: ({S.OPEN}, {F.PENDING, F.EXPIRED, F.PARTIALLY_PAID}, ANY_FULFILLMENT),
    Action.HOLD: (
        {S.OPEN},
        ANY_FINANCIAL,
        {U.UNFULFILLED, U.SCHEDULED, U.ON_HOLD, U.PARTIALLY_FULFILLED, U.REQUEST_DECLINED},
    ),
    Action.RELEASE_HOLD: ({S.OPEN}, ANY_FINANCIAL, {U.ON_HOLD}),
    Action.CANCEL: ({S.OPEN}, ANY_FINANCIAL, {U.UNFULFILLED, U.SCHEDULED, U.ON_HOLD, U.REQUEST_DECLINED}),
    Action.REFUND: (ANY_STATUS, {F.PAID, F.PARTIALLY_PAID, F.PARTIALLY_REFUNDED}, ANY_FULFILLMENT),
    Action.FULFILL: (
        {S.OPEN},
        ANY_FINANCIAL,
        {U.UNFULFILLED, U.SCHEDULED, U.IN_PROGRESS, U.PARTIALLY_FULFILLED, U.REQUEST_DECLINED},
    ),
    Action.ARCHIVE: ({S.OPEN}, ANY_FINANCIAL, ANY_FULFILLMENT),
    Action.UNARCHIVE: ({S.ARCHIVED}, ANY_FINANCIAL, ANY_FULFILLMENT),
}


def expected_to_allow(action: Action, order: Order) -> bool:
    statuses, financial, fulfillment = EXPECTED_ACTIONS[action]
    return (
        order.status in statuses
        and order.financial_status in financial
        and order.fulfillment_status in fulfillment
    )


def test_every_action_has_a_rule():
    assert set(ACTIONS) == set(Action) == set(EXPECTED_ACTIONS)


@pytest.mark.parametrize("action", list(Action))
def test_each_action_is_allowed_exactly_in_the_states_the_spec_gives_and_refused_in_all_others(action):
    wrong = []
    for order in every_state():
        try:
            ensure_allowed(order, action)
            allowed = True
        except IllegalTransition:
            allowed = False
        if allowed != expected_to_allow(action, order) or allowed != (action in allowed_actions(order)):
            wrong.append((order.status, order.financial_status, order.fulfillment_status, allowed))
    assert wrong == []


def test_a_refused_action_is_a_409_naming_the_action_and_the_state():
    order = an_order(financial="voided")

    with pytest.raises(IllegalTransition) as refused:
        ensure_allowed(order, Action.CAPTURE)

    assert refused.value.status == 409
    assert refused.value.code == "invalid_transition"
    assert refused.value.details == {"action": "capture"}
    assert "cannot capture an order that is open, voided, unfulfilled" in refused.value.message


@pytest.mark.parametrize("financial", [f for f in FinancialStatus if f is not F.AUTHORIZED])
def test_only_an_authorized_payment_can_be_captured(financial):
    with pytest.raises(IllegalTransition):
        ensure_allowed(an_order(financial=financial), Action.CAPTURE)


def test_an_authorized_payment_of_a_cancelled_order_cannot_be_captured():
    with pytest.raises(IllegalTransition):
        ensure_allowed(an_order(status="cancelled", financial="authorized"), Action.CAPTURE)


@pytest.mark.parametrize("fulfillment", [U.FULFILLED, U.IN_PROGRESS, U.PARTIALLY_FULFILLED])
def test_an_order_whose_goods_have_left_or_are_with_the_supplier_cannot_be_cancelled(fulfillment):
    order = an_order(financial="paid", fulfillment=fulfillment)

    with pytest.raises(IllegalTransition):
        ensure_allowed(order, Action.CANCEL)
    assert Action.CANCEL not in allowed_actions(order)


def test_an_order_on_hold_can_still_be_cancelled():
    ensure_allowed(an_order(financial="paid", fulfillment="on_hold"), Action.CANCEL)


@pytest.mark.parametrize("fulfillment", [U.FULFILLED, U.IN_PROGRESS])
def test_a_fulfilled_or_in_progress_order_cannot_be_put_on_hold(fulfillment):
    with pytest.raises(IllegalTransition):
        ensure_allowed(an_order(fulfillment=fulfillment), Action.HOLD)


def test_an_order_on_hold_cannot_be_fulfilled_until_released():
    order = an_order(financial="paid", fulfillment="on_hold")

    with pytest.raises(IllegalTransition):
        ensure_allowed(order, Action.FULFILL)
    ensure_allowed(order, Action.RELEASE_HOLD)


def test_a_cancelled_paid_order_can_still_be_refunded():
    order = an_order(status="cancelled", financial="paid")

    assert allowed_actions(order) == [Action.REFUND]


def test_an_authorized_order_must_be_captured_not_marked_as_paid():
    order = an_order(financial="authorized")

    with pytest.raises(IllegalTransition):
        ensure_allowed(order, Action.MARK_AS_PAID)
    ensure_allowed(order, Action.CAPTURE)


def test_an_archived_order_only_allows_unarchiving_and_refunding():
    order = an_order(status="archived", financial="paid", fulfillment="fulfilled")

    assert set(allowed_actions(order)) == {Action.REFUND, Action.UNARCHIVE}


# -- fulfillment status moves -----------------------------------------------------------------

LISTED_MOVES = [(source, target) for source, targets in FULFILLMENT_MOVES.items() for target in targets]
REFUSED_MOVES = [
    (source, target)
    for source, target in product(FulfillmentStatus, FulfillmentStatus)
    if source != target and target not in FULFILLMENT_MOVES[source]
]


def test_every_fulfillment_status_has_its_moves_listed():
    assert set(FULFILLMENT_MOVES) == set(FulfillmentStatus)


@pytest.mark.parametrize(("source", "target"), LISTED_MOVES)
def test_every_listed_fulfillment_move_is_applied_and_recorded(source, target):
    order = an_order(fulfillment=source)

    changes = move_fulfillment(order, target)

    assert order.fulfillment_status == target
    assert changes == [Change("fulfillment_status_changed", {"from": source.value, "to": target.value})]


@pytest.mark.parametrize(
    ("source", "target"),
    [
        (U.UNFULFILLED, U.PARTIALLY_FULFILLED),  # some units shipped
        (U.UNFULFILLED, U.FULFILLED),  # everything shipped at once
        (U.PARTIALLY_FULFILLED, U.FULFILLED),
        (U.UNFULFILLED, U.ON_HOLD),
        (U.PARTIALLY_FULFILLED, U.ON_HOLD),
        (U.ON_HOLD, U.UNFULFILLED),  # last hold released
        (U.ON_HOLD, U.PARTIALLY_FULFILLED),
        (U.UNFULFILLED, U.SCHEDULED),  # a supplier order waits for its release time
        (U.SCHEDULED, U.ON_HOLD),
        (U.ON_HOLD, U.SCHEDULED),
        (U.SCHEDULED, U.IN_PROGRESS),  # released to the supplier
        (U.IN_PROGRESS, U.FULFILLED),
        (U.IN_PROGRESS, U.PARTIALLY_FULFILLED),
        (U.IN_PROGRESS, U.REQUEST_DECLINED),  # the supplier cancels
        (U.REQUEST_DECLINED, U.FULFILLED),  # the retailer ships it themselves
    ],
)
def test_the_moves_the_spec_describes_are_allowed(source, target):
    assert target in FULFILLMENT_MOVES[source]


@pytest.mark.parametrize(("source", "target"), REFUSED_MOVES)
def test_a_fulfillment_move_the_table_does_not_list_is_refused_and_changes_nothing(source, target):
    order = an_order(fulfillment=source)

    with pytest.raises(IllegalTransition):
        move_fulfillment(order, target)

    assert order.fulfillment_status == source


@pytest.mark.parametrize("status", list(FulfillmentStatus))
def test_staying_in_the_same_fulfillment_status_records_nothing(status):
    order = an_order(fulfillment=status)

    assert move_fulfillment(order, status) == []
    assert order.fulfillment_status == status


@pytest.mark.parametrize("target", [t for t in FulfillmentStatus if t is not U.FULFILLED])
def test_a_fulfilled_order_never_moves_again(target):
    order = an_order(fulfillment="fulfilled")

    with pytest.raises(IllegalTransition):
        move_fulfillment(order, target)

    assert order.fulfillment_status == "fulfilled"


def test_a_fulfilled_order_cannot_go_back_on_hold():
    order = an_order(fulfillment="fulfilled")

    with pytest.raises(IllegalTransition):
        move_fulfillment(order, U.ON_HOLD)


def test_an_order_in_progress_at_the_supplier_cannot_be_put_on_hold():
    order = an_order(fulfillment="in_progress")

    with pytest.raises(IllegalTransition):
        move_fulfillment(order, U.ON_HOLD)


def test_a_partially_fulfilled_order_cannot_become_unfulfilled_again():
    order = an_order(fulfillment="partially_fulfilled")

    with pytest.raises(IllegalTransition):
        move_fulfillment(order, U.UNFULFILLED)


# -- what the facts say -----------------------------------------------------------------------


def test_an_order_with_nothing_shipped_is_unfulfilled():
    assert derive_fulfillment([shipped(2), shipped(1)], active_holds=0) is U.UNFULFILLED


def test_an_order_without_lines_is_unfulfilled():
    assert derive_fulfillment([], active_holds=0) is U.UNFULFILLED


def test_an_order_with_some_units_shipped_is_partially_fulfilled():
    assert derive_fulfillment([shipped(2, fulfilled=1), shipped(1)], active_holds=0) is U.PARTIALLY_FULFILLED


def test_an_order_with_every_unit_shipped_is_fulfilled():
    assert (
        derive_fulfillment([shipped(2, fulfilled=2), shipped(1, fulfilled=1)], active_holds=0) is U.FULFILLED
    )


def test_removed_units_count_as_done_once_the_rest_has_shipped():
    lines = [shipped(3, fulfilled=2, removed=1), shipped(1, removed=1)]

    assert derive_fulfillment(lines, active_holds=0) is U.FULFILLED


def test_an_order_whose_units_were_all_removed_before_shipping_is_not_fulfilled():
    assert derive_fulfillment([shipped(2, removed=2)], active_holds=0) is U.UNFULFILLED


def test_an_active_hold_puts_an_unshipped_order_on_hold():
    assert derive_fulfillment([shipped(1)], active_holds=1) is U.ON_HOLD


def test_a_hold_wins_over_a_partial_shipment():
    assert derive_fulfillment([shipped(2, fulfilled=1)], active_holds=2) is U.ON_HOLD


def test_a_full_shipment_wins_over_a_hold():
    assert derive_fulfillment([shipped(2, fulfilled=2)], active_holds=1) is U.FULFILLED


def test_a_declined_supplier_request_shows_as_request_declined():
    assert (
        derive_fulfillment([shipped(1)], active_holds=0, supplier_statuses=["declined"]) is U.REQUEST_DECLINED
    )


def test_a_declined_supplier_wins_over_another_supplier_in_progress():
    status = derive_fulfillment(
        [shipped(1), shipped(1)], active_holds=0, supplier_statuses=["open", "declined"]
    )

    assert status is U.REQUEST_DECLINED


def test_a_hold_wins_over_a_declined_supplier_request():
    assert derive_fulfillment([shipped(1)], active_holds=1, supplier_statuses=["declined"]) is U.ON_HOLD


def test_a_partial_shipment_shows_even_while_a_supplier_order_is_open():
    status = derive_fulfillment([shipped(2, fulfilled=1)], active_holds=0, supplier_statuses=["open"])

    assert status is U.PARTIALLY_FULFILLED


def test_a_scheduled_supplier_order_shows_as_scheduled():
    assert derive_fulfillment([shipped(1)], active_holds=0, supplier_statuses=["scheduled"]) is U.SCHEDULED


def test_a_partial_shipment_wins_over_a_scheduled_supplier_order():
    status = derive_fulfillment([shipped(2, fulfilled=1)], active_holds=0, supplier_statuses=["scheduled"])

    assert status is U.PARTIALLY_FULFILLED


def test_supplier_orders_that_are_done_do_not_change_the_status():
    status = derive_fulfillment([shipped(1)], active_holds=0, supplier_statuses=["fulfilled", "cancelled"])

    assert status is U.UNFULFILLED


# -- facts and moves together (what refresh_fulfillment does) ---------------------------------


def refresh(order: Order, lines: list[LineProgress], *, holds: int = 0, suppliers=()) -> list[Change]:
    return move_fulfillment(order, derive_fulfillment(lines, active_holds=holds, supplier_statuses=suppliers))


def test_releasing_the_hold_of_a_partially_shipped_order_returns_it_to_partially_fulfilled():
    order = an_order(financial="paid")
    refresh(order, [shipped(2, fulfilled=1)])
    refresh(order, [shipped(2, fulfilled=1)], holds=1)

    refresh(order, [shipped(2, fulfilled=1)], holds=0)

    assert order.fulfillment_status == "partially_fulfilled"


def test_removing_the_last_unshipped_units_of_a_partially_shipped_order_makes_it_fulfilled():
    order = an_order(financial="paid", fulfillment="partially_fulfilled")

    refresh(order, [shipped(2, fulfilled=1, removed=1)])

    assert order.fulfillment_status == "fulfilled"


def test_removing_the_last_unshipped_units_of_a_partially_shipped_order_on_hold_makes_it_fulfilled():
    """Refunding (restock: cancel) the rest of a held, partly shipped order: nothing is left to hold."""
    order = an_order(financial="paid", fulfillment="partially_fulfilled")
    refresh(order, [shipped(1, fulfilled=1), shipped(1)], holds=1)
    assert order.fulfillment_status == "on_hold"

    changes = refresh(order, [shipped(1, fulfilled=1), shipped(1, removed=1)], holds=1)

    assert order.fulfillment_status == "fulfilled"
    assert changes == [Change("fulfillment_status_changed", {"from": "on_hold", "to": "fulfilled"})]
