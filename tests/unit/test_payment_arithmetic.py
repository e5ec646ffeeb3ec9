"""What a list of payment transactions adds up to, and how a refund is split over payments."""

from dataclasses import dataclass
from itertools import product

import pytest

from tandem.errors import IllegalTransition
from tandem.payments.domain import (
    TRANSACTION_TRANSITIONS,
    PaymentTotals,
    TransactionStatus,
    move_transaction,
    open_authorizations,
    plan_refund,
    totals,
)


@dataclass
class Tx:
    id: int
    kind: str
    amount: int
    status: str = "success"
    parent_id: int | None = None


def sale(id, amount, status="success"):
    return Tx(id, "sale", amount, status)


def authorization(id, amount, status="success"):
    return Tx(id, "authorization", amount, status)


def capture(id, amount, of, status="success"):
    return Tx(id, "capture", amount, status, parent_id=of)


def void(id, amount, of, status="success"):
    return Tx(id, "void", amount, status, parent_id=of)


def refund(id, amount, of, status="success"):
    return Tx(id, "refund", amount, status, parent_id=of)


# -- transaction statuses ---------------------------------------------------------------------

P, S, FAIL, ERR, AWAIT = (
    TransactionStatus.PENDING,
    TransactionStatus.SUCCESS,
    TransactionStatus.FAILURE,
    TransactionStatus.ERROR,
    TransactionStatus.AWAITING_CUSTOMER,
)
SETTLES = {(P, S), (P, FAIL), (P, ERR), (P, AWAIT), (AWAIT, S), (AWAIT, FAIL), (AWAIT, ERR)}


def test_only_pending_and_awaiting_customer_transactions_can_still_settle():
    assert {(s, t) for s, targets in TRANSACTION_TRANSITIONS.items() for t in targets} == SETTLES


@pytest.mark.parametrize(("source", "target"), sorted(SETTLES))
def test_a_transaction_settles_as_the_gateway_says(source, target):
    tx = sale(1, 4990, status=source.value)

    move_transaction(tx, target)

    assert tx.status == target


NEVER = [pair for pair in product(TransactionStatus, TransactionStatus) if pair not in SETTLES]


@pytest.mark.parametrize(("source", "target"), NEVER)
def test_a_settled_transaction_never_changes_and_nothing_goes_back_to_pending(source, target):
    tx = sale(1, 4990, status=source.value)

    with pytest.raises(IllegalTransition):
        move_transaction(tx, target)

    assert tx.status == source


def test_a_successful_charge_cannot_be_turned_into_a_failure_by_a_late_gateway_answer():
    tx = sale(1, 4990, status="success")

    with pytest.raises(IllegalTransition):
        move_transaction(tx, FAIL)

    assert tx.status == "success"


# -- totals -----------------------------------------------------------------------------------


def test_no_transactions_add_up_to_nothing():
    result = totals([])

    assert result == PaymentTotals(
        captured=0, refunded=0, refunds_pending=0, open_authorization=0, operation_pending=False
    )
    assert (result.refundable, result.net_paid) == (0, 0)


def test_a_successful_sale_is_captured_and_fully_refundable():
    result = totals([sale(1, 4990)])

    assert result.captured == 4990
    assert result.net_paid == 4990
    assert result.refundable == 4990
    assert result.open_authorization == 0


@pytest.mark.parametrize("status", ["failure", "error", "awaiting_customer", "pending"])
def test_a_sale_that_did_not_succeed_captures_nothing(status):
    assert totals([sale(1, 4990, status=status)]).captured == 0


def test_a_pending_transaction_means_an_operation_is_pending():
    assert totals([sale(1, 4990), refund(2, 1000, of=1, status="pending")]).operation_pending


def test_settled_transactions_leave_no_operation_pending():
    assert not totals([sale(1, 4990), refund(2, 1000, of=1, status="failure")]).operation_pending


def test_an_authorization_alone_is_open_and_captures_nothing():
    result = totals([authorization(1, 5000)])

    assert result.open_authorization == 5000
    assert result.captured == 0
    assert result.refundable == 0


def test_capturing_part_of_an_authorization_closes_it():
    result = totals([authorization(1, 5000), capture(2, 4000, of=1)])

    assert result.captured == 4000
    assert result.open_authorization == 0


def test_a_voided_authorization_is_no_longer_open():
    result = totals([authorization(1, 5000), void(2, 5000, of=1)])

    assert result.open_authorization == 0
    assert result.captured == 0


@pytest.mark.parametrize("status", ["failure", "error", "pending"])
def test_an_authorization_stays_open_while_its_capture_has_not_succeeded(status):
    assert totals([authorization(1, 5000), capture(2, 5000, of=1, status=status)]).open_authorization == 5000


def test_only_the_captured_authorization_closes_when_there_are_two():
    result = totals([authorization(1, 3000), authorization(2, 2000), capture(3, 3000, of=1)])

    assert result.open_authorization == 2000
    assert result.captured == 3000


def test_a_failed_authorization_is_not_open():
    assert totals([authorization(1, 5000, status="failure")]).open_authorization == 0


def test_a_successful_refund_lowers_what_was_paid_and_what_can_be_refunded():
    result = totals([sale(1, 4990), refund(2, 990, of=1)])

    assert result.refunded == 990
    assert result.net_paid == 4000
    assert result.refundable == 4000


def test_a_pending_refund_cannot_be_refunded_again_but_still_counts_as_paid():
    result = totals([sale(1, 4990), refund(2, 990, of=1, status="pending")])

    assert result.refunds_pending == 990
    assert result.refunded == 0
    assert result.refundable == 4000
    assert result.net_paid == 4990


def test_a_failed_refund_gives_back_nothing():
    result = totals([sale(1, 4990), refund(2, 990, of=1, status="failure")])

    assert (result.refunded, result.refunds_pending, result.refundable) == (0, 0, 4990)


def test_a_deposit_and_a_balance_add_up():
    result = totals([sale(1, 1000), sale(2, 3990), refund(3, 500, of=2)])

    assert result.captured == 4990
    assert result.net_paid == 4490


# -- open authorizations ----------------------------------------------------------------------


def test_open_authorizations_are_the_successful_ones_not_yet_captured_or_voided():
    open_one = authorization(4, 700)
    transactions = [
        authorization(1, 1000),
        capture(2, 1000, of=1),
        authorization(3, 500),
        void(5, 500, of=3),
        open_one,
        authorization(6, 900, status="failure"),
        sale(7, 200),
    ]

    assert open_authorizations(transactions) == [open_one]


def test_an_authorization_whose_void_failed_is_still_open():
    auth = authorization(1, 1000)

    assert open_authorizations([auth, void(2, 1000, of=1, status="failure")]) == [auth]


# -- planning a refund ------------------------------------------------------------------------


def test_a_refund_of_a_single_payment_comes_from_it():
    payment = sale(1, 4990)

    assert plan_refund([payment], 1000) == [(payment, 1000)]


def test_a_refund_comes_from_the_newest_payment_first():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    assert plan_refund([deposit, balance], 500) == [(balance, 500)]


def test_the_newest_payment_is_chosen_by_id_not_by_list_order():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    assert plan_refund([balance, deposit], 500) == [(balance, 500)]


def test_a_refund_larger_than_the_newest_payment_splits_over_older_ones():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    assert plan_refund([deposit, balance], 4500) == [(balance, 3990), (deposit, 510)]


def test_a_captured_authorization_is_refunded_from_its_capture():
    auth, captured = authorization(1, 5000), capture(2, 4000, of=1)

    assert plan_refund([auth, captured], 4000) == [(captured, 4000)]


def test_earlier_refunds_use_up_their_payment():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    plan = plan_refund([deposit, balance, refund(3, 3490, of=2)], 1000)

    assert plan == [(balance, 500), (deposit, 500)]


def test_pending_refunds_use_up_their_payment_too():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    plan = plan_refund([deposit, balance, refund(3, 3990, of=2, status="pending")], 1000)

    assert plan == [(deposit, 1000)]


def test_failed_refunds_do_not_use_up_their_payment():
    payment = sale(1, 4990)

    assert plan_refund([payment, refund(2, 4990, of=1, status="failure")], 4990) == [(payment, 4990)]


def test_payments_that_did_not_succeed_are_not_refunded():
    paid, failed = sale(1, 1000), sale(2, 3990, status="failure")

    assert plan_refund([paid, failed], 1000) == [(paid, 1000)]


def test_refunding_everything_that_is_left_is_allowed():
    deposit, balance = sale(1, 1000), sale(2, 3990)

    assert plan_refund([deposit, balance, refund(3, 990, of=1)], 4000) == [(balance, 3990), (deposit, 10)]


def test_a_refund_larger_than_what_is_left_is_refused():
    with pytest.raises(ValueError, match="exceeds"):
        plan_refund([sale(1, 1000), sale(2, 3990), refund(3, 990, of=1)], 4001)


def test_an_open_authorization_cannot_be_refunded():
    with pytest.raises(ValueError):
        plan_refund([authorization(1, 5000)], 100)


def test_a_refund_counts_what_is_pending_against_the_total():
    with pytest.raises(ValueError):
        plan_refund([sale(1, 4990), refund(2, 4000, of=1, status="pending")], 1000)
