"""The flash-sale benchmark, end to end on a small crowd, on SQLite and on PostgreSQL."""

import psycopg
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tandem.bench.flash_sale import BenchUsageError, FlashSaleOptions, run
from tandem.cli import app

SMALL_SALE = {"units": 40, "buyers": 80, "concurrency": 8, "reservation_seconds": 2, "time_limit": 120}
SHARED_STOCK_SALE = {**SMALL_SALE, "units": 30, "buyers": 60, "retailers": 3}
REPORT_KEYS = {
    "checkouts_per_minute",
    "p50_ms",
    "p99_ms",
    "sold",
    "stock",
    "oversold",
    "undersold",
    "errors",
    "database",
    "units",
    "buyers",
    "concurrency",
    "abandoned",
    "refused",
    "duration_seconds",
    "http_workers",
    "retailers",
    "sold_by_retailer",
    "supplier_orders",
    "command",
}


@pytest.mark.timeout(120)
def test_a_small_flash_sale_sells_every_unit_once_and_no_more(database_url):
    report = run(FlashSaleOptions(database_url=database_url, **SMALL_SALE))

    assert report.keys() >= REPORT_KEYS
    assert report["errors"] == 0, report["error_details"]
    assert (report["oversold"], report["undersold"]) == (0, 0)
    assert (report["sold"], report["stock"], report["committed"]) == (40, 0, 40)


@pytest.mark.timeout(120)
def test_abandoned_reservations_are_sold_again_once_they_lapse(sqlite_url):
    report = run(FlashSaleOptions(database_url=sqlite_url, **SMALL_SALE))

    assert report["abandoned"] > 0
    assert report["second_wave"]["buyers"] > 0
    assert report["sold"] == 40


@pytest.mark.timeout(120)
def test_the_throwaway_postgres_database_is_dropped_after_the_run(postgres_url):
    run(FlashSaleOptions(database_url=postgres_url, units=5, buyers=10, concurrency=2, reservation_seconds=1))

    admin = make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin) as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'tandem_bench_%'").fetchone()
    assert left == (0,)


@pytest.mark.timeout(120)
def test_three_retailers_selling_one_suppliers_stock_never_oversell_it_together(database_url):
    report = run(FlashSaleOptions(database_url=database_url, **SHARED_STOCK_SALE))

    assert report["errors"] == 0, report["error_details"]
    assert (report["oversold"], report["undersold"]) == (0, 0)
    assert (report["sold"], report["stock"], report["committed"]) == (30, 0, 30)
    assert len(report["sold_by_retailer"]) == 3 and sum(report["sold_by_retailer"]) == 30
    assert all(sold > 0 for sold in report["sold_by_retailer"])  # round robin: everyone sold some
    assert report["supplier_orders"] == report["orders"]


def test_a_single_retailer_sells_its_own_stock_without_supplier_orders(sqlite_url):
    report = run(FlashSaleOptions(database_url=sqlite_url, units=3, buyers=6, concurrency=2, abandon_rate=0))

    assert (report["sold"], report["sold_by_retailer"], report["supplier_orders"]) == (3, [3], None)


def test_out_of_range_options_are_refused_with_their_name():
    with pytest.raises(BenchUsageError, match="--retailers"):
        run(FlashSaleOptions(retailers=0))


def test_the_command_refuses_zero_retailers():
    result = CliRunner().invoke(app, ["bench", "flash-sale", "--retailers", "0"])

    assert result.exit_code == 2
    assert "--retailers" in result.output
