"""Running the audit: every check, on one consistent snapshot of the database."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

import tandem.models  # noqa: F401 - the checks read tables of every domain: all mapped
from tandem.audit import gateway, money, schedules, stock, suppliers, timeline
from tandem.audit.domain import AuditReport, Check, Finding

CHECKS: tuple[Check, ...] = (
    Check(
        "stock_within_bounds",
        1,
        "stock is never negative, never more allocated than on hand",
        stock.stock_out_of_bounds,
    ),
    Check(
        "stock_allocations_accounted",
        1,
        "allocated units = unshipped committed order lines + active reservations",
        stock.unaccounted_allocations,
    ),
    Check(
        "reservations_converted",
        1,
        "a placed order's checkout holds no reservation any more",
        stock.reservations_left_by_orders,
    ),
    Check(
        "refunds_within_captured", 2, "refunds never exceed what was captured", money.refunds_beyond_captured
    ),
    Check(
        "captures_within_authorization",
        2,
        "a capture never exceeds its authorisation",
        money.captures_beyond_authorization,
    ),
    Check(
        "captured_within_total",
        2,
        "an order is never charged more than its total",
        money.captured_beyond_total,
    ),
    Check(
        "financial_status_balances",
        2,
        "captured − refunded is what the order's financial status says",
        money.financial_status_disagrees,
    ),
    Check(
        "refund_transactions_within_refund",
        2,
        "a refund's transactions give back no more than the refund",
        money.refunds_beyond_their_amount,
    ),
    Check(
        "charges_have_orders",
        2,
        "every successful charge belongs to an order or was reversed",
        money.orphan_charges,
    ),
    Check(
        "gateway_confirms_payments",
        2,
        "every successful transaction succeeded at the test gateway, for the same amount",
        gateway.successes_unknown_to_gateway,
    ),
    Check(
        "payments_record_gateway",
        2,
        "every success at the test gateway is a successful transaction in Tandem",
        gateway.gateway_successes_unknown_to_tandem,
    ),
    Check(
        "collective_payments_balance",
        2,
        "a collective payment is charged once, when requested, for the amount owed",
        suppliers.collective_payments_disagree,
    ),
    Check(
        "supplier_refunds_within_collected",
        2,
        "suppliers refund retailers no more than they collected",
        suppliers.supplier_refunds_beyond_collected,
    ),
    Check(
        "supplier_refunds_match_transactions",
        2,
        "a supplier refund succeeded exactly when its transaction did",
        suppliers.supplier_refunds_disagree,
    ),
    Check(
        "payment_schedules_balance",
        2,
        "a payment schedule is charged once, for its amount, and then paid",
        schedules.schedule_charges_disagree,
    ),
    Check(
        "cancelled_orders_owe_nothing",
        2,
        "a cancelled order has no payment schedule left to collect",
        schedules.schedules_of_cancelled_orders,
    ),
    Check(
        "supplier_orders_opened_in_time",
        3,
        "no supplier order opened while its order was held, unpaid, cancelled or in the delay",
        suppliers.opened_too_early,
    ),
    Check(
        "order_changes_in_timeline",
        4,
        "an order's statuses are where its timeline last moved them",
        timeline.order_changes_missing,
    ),
    Check(
        "supplier_order_changes_in_timeline",
        4,
        "a supplier order's status is where its timeline last moved it",
        timeline.supplier_order_changes_missing,
    ),
)


def run_checks(
    conn: Connection,
    *,
    checks: tuple[Check, ...] = CHECKS,
    on_check: Callable[[Check], None] = lambda c: None,
) -> AuditReport:
    """Run `checks` on `conn`; `on_check` hears of each one as it starts."""
    report = AuditReport()
    for check in checks:
        on_check(check)
        report.findings.append(Finding(check, check.run(conn)))
    return report


def audit(engine: Engine, *, on_check: Callable[[Check], None] = lambda c: None) -> AuditReport:
    """Audit the database behind `engine`, reading nothing but one snapshot."""
    with snapshot(engine) as conn:
        return run_checks(conn, on_check=on_check)


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one state of every table (PostgreSQL: repeatable read;
    SQLite: a deferred transaction, which reads one snapshot)."""
    if engine.dialect.name == "postgresql":
        options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    else:
        options = {"sqlite_begin": "DEFERRED"}
    with engine.connect().execution_options(**options) as conn, conn.begin():
        yield conn
