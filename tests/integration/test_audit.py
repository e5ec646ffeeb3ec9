"""`tandem audit` (SPEC §5, §6): a seeded demo network audits clean, and each invariant, broken
on purpose with a direct SQL change, is named with its row (the CLI then exits 1)."""

import json
import shutil

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tandem.audit.service import CHECKS, run_checks
from tandem.cli import app
from tandem.db import make_engine
from tandem.demo import seed
from tandem.migrate import upgrade
from tests.conftest import TEST_SECRET, make_settings

MIN_PAID_ORDER = "(SELECT min(id) FROM orders WHERE financial_status = 'paid')"
MIN_SUCCESSFUL = "(SELECT min(id) FROM payment_transactions WHERE status = 'success' AND {})"
UNREVERSED = "id NOT IN (SELECT parent_id FROM payment_transactions WHERE parent_id IS NOT NULL)"

# rule -> (SQL that breaks it in the demo data, the kind of row the audit must name)
BREAKAGES = {
    "stock_within_bounds": (
        "UPDATE inventory_levels SET allocated = on_hand + 1"
        " WHERE variant_id = (SELECT min(variant_id) FROM inventory_levels)",
        "inventory_levels variant",
    ),
    "stock_allocations_accounted": (
        "UPDATE inventory_levels SET allocated = allocated + 1"
        " WHERE variant_id = (SELECT min(variant_id) FROM inventory_levels WHERE on_hand > allocated)",
        "inventory_levels variant",
    ),
    "reservations_converted": (
        "UPDATE reservations SET status = 'active' WHERE id = (SELECT min(r.id) FROM reservations r"
        " JOIN orders o ON o.checkout_id = r.checkout_id)",
        "reservations",
    ),
    "refunds_within_captured": (
        "UPDATE payment_transactions SET amount = 100000000 WHERE id = "
        + MIN_SUCCESSFUL.format("kind = 'refund'"),
        "order",
    ),
    "captures_within_authorization": (
        "UPDATE payment_transactions SET amount = amount + 1 WHERE id = "
        + MIN_SUCCESSFUL.format("kind = 'capture'"),
        "payment_transactions",
    ),
    "captured_within_total": (f"UPDATE orders SET total = total - 1 WHERE id = {MIN_PAID_ORDER}", "order"),
    "financial_status_balances": (
        "UPDATE orders SET financial_status = 'paid'"
        " WHERE id = (SELECT min(id) FROM orders WHERE financial_status = 'authorized')",
        "order",
    ),
    "refund_transactions_within_refund": (
        "UPDATE refunds SET amount = amount - 1 WHERE id = (SELECT min(refund_id) FROM payment_transactions"
        " WHERE kind = 'refund' AND status = 'success')",
        "refunds",
    ),
    "charges_have_orders": (
        "UPDATE payment_transactions SET order_id = NULL WHERE id = "
        + MIN_SUCCESSFUL.format(f"purpose = 'checkout' AND kind = 'sale' AND {UNREVERSED}"),
        "payment_transactions",
    ),
    "gateway_confirms_payments": (
        "UPDATE testgw_operations SET status = 'declined' WHERE idempotency_key = (SELECT idempotency_key"
        " FROM payment_transactions WHERE id = " + MIN_SUCCESSFUL.format("kind = 'sale'") + ")",
        "payment_transactions",
    ),
    "payments_record_gateway": (
        "INSERT INTO testgw_operations (idempotency_key, kind, reference, amount, currency, status, message,"
        " created_at) SELECT 'charged-behind-tandem', 'sale', 'tx_unknown', 4990, 'EUR', 'succeeded',"
        " 'approved', created_at FROM orders WHERE id = " + MIN_PAID_ORDER,
        "testgw_operations",
    ),
    "collective_payments_balance": (
        "UPDATE payment_transactions SET amount = amount + 1 WHERE id = "
        + MIN_SUCCESSFUL.format("purpose = 'collective'"),
        "supplier_orders",
    ),
    "supplier_refunds_within_collected": (
        "INSERT INTO supplier_refunds (supplier_order_id, amount, status, created_at)"
        " SELECT id, payment_amount + 1, 'manual_pending', created_at FROM supplier_orders"
        " WHERE id = (SELECT min(id) FROM supplier_orders WHERE payment_status = 'paid')",
        "supplier_orders",
    ),
    "supplier_refunds_match_transactions": (
        "INSERT INTO supplier_refunds (supplier_order_id, amount, status, transaction_id, created_at)"
        " SELECT (SELECT min(id) FROM supplier_orders), amount, 'succeeded', id, created_at"
        " FROM payment_transactions WHERE id = (SELECT min(id) FROM payment_transactions"
        " WHERE kind = 'refund' AND status = 'failure')",
        "supplier_refunds",
    ),
    "payment_schedules_balance": (
        "UPDATE payment_schedules SET status = 'pending' WHERE id = (SELECT min(payment_schedule_id)"
        " FROM payment_transactions WHERE purpose = 'schedule' AND status = 'success')",
        "payment_schedules",
    ),
    "cancelled_orders_owe_nothing": (
        "UPDATE payment_schedules SET status = 'failed' WHERE id = (SELECT min(s.id) FROM payment_schedules s"
        " JOIN orders o ON o.id = s.order_id WHERE o.status = 'cancelled')",
        "payment_schedules",
    ),
    "supplier_orders_opened_in_time": (
        "INSERT INTO fulfillment_holds (order_id, reason, held_by, created_at)"
        " SELECT order_id, 'other', 'an audit test', created_at FROM supplier_orders"
        " WHERE id = (SELECT min(id) FROM supplier_orders WHERE opened_at IS NOT NULL)",
        "supplier_orders",
    ),
    "order_changes_in_timeline": (
        "UPDATE orders SET fulfillment_status = 'fulfilled'"
        " WHERE id = (SELECT min(id) FROM orders WHERE fulfillment_status = 'unfulfilled')",
        "order",
    ),
    "supplier_order_changes_in_timeline": (
        "UPDATE supplier_orders SET status = 'fulfilled'"
        " WHERE id = (SELECT min(id) FROM supplier_orders WHERE status = 'open')",
        "supplier_orders",
    ),
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo_url(request, tmp_path_factory):
    """A demo network, seeded once per database (it takes a few seconds)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("audit") / "tandem.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
        request.addfinalizer(lambda: server.drop_database(url))
        engine = make_engine(make_settings(url))
        upgrade(engine)
        engine.dispose()
    seed(make_settings(url), if_empty=False, echo=lambda _: None)
    return url


@pytest.fixture
def demo_engine(demo_url):
    engine = make_engine(make_settings(demo_url))
    yield engine
    engine.dispose()


@pytest.fixture
def cli_env(monkeypatch):
    monkeypatch.setenv("TANDEM_ENV", "test")
    monkeypatch.setenv("TANDEM_SECRET_KEY", TEST_SECRET)


def test_every_check_has_a_breakage_below():
    assert set(BREAKAGES) == {check.name for check in CHECKS}


def test_the_demo_network_audits_clean(demo_engine):
    with demo_engine.connect() as conn:
        report = run_checks(conn)
    assert [v.as_dict() for v in report.violations] == []
    assert len(report.findings) == len(CHECKS)


@pytest.mark.parametrize("rule", sorted(BREAKAGES))
def test_a_broken_invariant_is_named_with_its_row(demo_engine, rule):
    statement, row_kind = BREAKAGES[rule]
    with demo_engine.connect() as conn:
        trans = conn.begin()
        try:
            _allow_out_of_bounds_stock(conn)
            assert conn.execute(text(statement)).rowcount == 1
            report = run_checks(conn)
        finally:
            trans.rollback()
            _forbid_out_of_bounds_stock(conn)
    named = [v for v in report.violations if v.rule == rule]
    assert named, f"{rule} not named; found {[v.as_dict() for v in report.violations]}"
    assert any(v.row.startswith(row_kind + " ") for v in named), named


def _allow_out_of_bounds_stock(conn) -> None:
    """The tables' own constraints refuse what `stock_within_bounds` guards against."""
    if conn.dialect.name == "postgresql":
        for name in ("allocated_within_on_hand", "allocated_not_negative", "on_hand_not_negative"):
            conn.execute(text(f"ALTER TABLE inventory_levels DROP CONSTRAINT ck_inventory_levels_{name}"))
    else:
        conn.execute(text("PRAGMA ignore_check_constraints = ON"))


def _forbid_out_of_bounds_stock(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA ignore_check_constraints = OFF"))


def test_the_command_audits_the_demo_clean_and_exits_0(demo_url, cli_env):
    result = CliRunner().invoke(app, ["audit", "--database-url", demo_url, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["result"] == "clean" and report["violations"] == []
    assert [c["name"] for c in report["checks"]] == [check.name for check in CHECKS]


@pytest.mark.unaudited
def test_the_command_names_each_violation_and_exits_1(database_url, shop, cli_env):
    variant = shop.product(quantity=5)
    engine = make_engine(make_settings(database_url))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE inventory_levels SET allocated = 2 WHERE variant_id = :v"), {"v": variant["id"]}
        )
    engine.dispose()

    as_json = CliRunner().invoke(app, ["audit", "--database-url", database_url, "--json"])
    as_text = CliRunner().invoke(app, ["audit", "--database-url", database_url])

    assert (as_json.exit_code, as_text.exit_code) == (1, 1)
    assert json.loads(as_json.stdout)["violations"] == [
        {
            "rule": "stock_allocations_accounted",
            "row": f"inventory_levels variant {variant['id']}",
            "message": "allocated 2, but order lines commit 0 unshipped units and active reservations hold 0",
        }
    ]
    assert "FAIL stock     stock_allocations_accounted" in as_text.stdout
    assert as_text.stdout.rstrip().endswith("audit: 1 violation")


def test_the_command_refuses_a_database_without_tandem_tables(tmp_path, cli_env):
    result = CliRunner().invoke(app, ["audit", "--database-url", f"sqlite:///{tmp_path / 'empty.db'}"])
    assert result.exit_code == 2
    assert "no Tandem tables" in result.stderr
