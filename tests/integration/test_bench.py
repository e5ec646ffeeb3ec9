"""The flash-sale benchmark, end to end on a small crowd, on SQLite and on PostgreSQL; its report's
figures from literal inputs."""

import asyncio
from dataclasses import replace

import psycopg
import pytest
from aiohttp import test_utils, web
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tandem.audit.domain import AuditReport, Finding, Violation
from tandem.audit.service import CHECKS
from tandem.bench.buyers import COMPLETED, Outcome, Tally, _two_steps, client_session, make_buyers
from tandem.bench.checks import SaleFigures
from tandem.bench.counters import database_work, parse, scrape
from tandem.bench.databases import BenchDatabase
from tandem.bench.flash_sale import (
    BenchUsageError,
    FlashSaleOptions,
    SaleResult,
    build_report,
    command_line,
    one_core_percent,
    own_cpu,
    run,
)
from tandem.bench.network import Catalogue
from tandem.bench.processes import free_port
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
    "gateway_latency_ms",
    "machine_cpu_percent",
    "loadgen_cpu_percent",
    "statements_per_checkout",
    "commits_per_checkout",
    "gateway_statements_per_checkout",
    "gateway_commits_per_checkout",
    "worker_statements_during_sale",
    "mean_batch_size",
    "audit",
}


@pytest.mark.timeout(120)
def test_a_small_flash_sale_sells_every_unit_once_and_no_more(database_url):
    report = run(FlashSaleOptions(database_url=database_url, **SMALL_SALE))

    assert report.keys() >= REPORT_KEYS
    assert report["errors"] == 0, report["error_details"]
    assert (report["oversold"], report["undersold"]) == (0, 0)
    assert (report["sold"], report["stock"], report["committed"]) == (40, 0, 40)
    assert report["audit"] == "clean", report["audit_violations"]
    # /metrics saw every process: the server counted the checkouts the buyers were told of.
    assert report["server_checkouts_completed"] == report["completed"]
    assert report["statements_per_checkout"] > 0


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
    assert report["audit"] == "clean", report["audit_violations"]


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


def test_the_command_refuses_a_negative_gateway_latency():
    result = CliRunner().invoke(app, ["bench", "flash-sale", "--gateway-latency-ms", "-1"])

    assert result.exit_code == 2
    assert "--gateway-latency-ms" in result.output


def test_out_of_range_gateway_latency_is_refused_with_its_name():
    with pytest.raises(BenchUsageError, match="--gateway-latency-ms"):
        run(FlashSaleOptions(gateway_latency_ms=-0.5))


def test_the_command_line_spells_out_the_gateway_latency():
    command = command_line(FlashSaleOptions(gateway_latency_ms=12.5))

    assert "--gateway-latency-ms 12.5 " in command
    assert "--gateway-latency-ms 0 " in command_line(FlashSaleOptions())


# -- figures from literal inputs ------------------------------------------------------------------

# What /metrics answers with PROMETHEUS_MULTIPROC_DIR set, before and after the main phase.
METRICS_BEFORE = """\
# HELP tandem_checkout_batch_size Requests served by one transaction of a checkout lane
# TYPE tandem_checkout_batch_size histogram
tandem_checkout_batch_size_sum{lane="reserve"} 4.0
tandem_checkout_batch_size_bucket{lane="reserve",le="1.0"} 2.0
tandem_checkout_batch_size_bucket{lane="reserve",le="+Inf"} 3.0
tandem_checkout_batch_size_count{lane="reserve"} 3.0
# HELP tandem_checkouts_completed_total Checkouts that became orders
# TYPE tandem_checkouts_completed_total counter
tandem_checkouts_completed_total 0.0
# HELP tandem_db_statements_total SQL statements sent to the database (BEGIN not counted)
# TYPE tandem_db_statements_total counter
tandem_db_statements_total{engine="tandem",role="api"} 100.0
tandem_db_statements_total{engine="tandem",role="worker"} 40.0
# HELP tandem_db_commits_total Transactions committed
# TYPE tandem_db_commits_total counter
tandem_db_commits_total{engine="tandem",role="api"} 20.0
"""
METRICS_AFTER = """\
# HELP tandem_checkout_batch_size Requests served by one transaction of a checkout lane
# TYPE tandem_checkout_batch_size histogram
tandem_checkout_batch_size_sum{lane="reserve"} 44.0
tandem_checkout_batch_size_bucket{lane="reserve",le="1.0"} 2.0
tandem_checkout_batch_size_bucket{lane="reserve",le="+Inf"} 11.0
tandem_checkout_batch_size_count{lane="reserve"} 11.0
tandem_checkout_batch_size_sum{lane="begin"} 30.0
tandem_checkout_batch_size_bucket{lane="begin",le="+Inf"} 12.0
tandem_checkout_batch_size_count{lane="begin"} 12.0
# HELP tandem_checkouts_completed_total Checkouts that became orders
# TYPE tandem_checkouts_completed_total counter
tandem_checkouts_completed_total 40.0
# HELP tandem_db_statements_total SQL statements sent to the database (BEGIN not counted)
# TYPE tandem_db_statements_total counter
tandem_db_statements_total{engine="tandem",role="api"} 1000.0
tandem_db_statements_total{role="api",engine="gateway"} 80.0
tandem_db_statements_total{engine="tandem",role="worker"} 65.0
# HELP tandem_db_commits_total Transactions committed
# TYPE tandem_db_commits_total counter
tandem_db_commits_total{engine="tandem",role="api"} 110.0
tandem_db_commits_total{engine="gateway",role="api"} 40.0
"""


def test_database_work_is_what_the_counters_grew_by_per_completed_checkout():
    work = database_work(parse(METRICS_BEFORE), parse(METRICS_AFTER), completed=40)

    assert work == {
        "statements_per_checkout": 22.5,  # (1000 - 100) / 40
        "commits_per_checkout": 2.25,  # (110 - 20) / 40
        "gateway_statements_per_checkout": 2.0,  # a series missing before counts as 0
        "gateway_commits_per_checkout": 1.0,
        "worker_statements_during_sale": 25,
        "server_checkouts_completed": 40,
        "mean_batch_size": {"reserve": 5.0, "begin": 2.5, "settle": None},  # (44 - 4) / (11 - 3)
    }


def test_per_checkout_figures_are_none_without_completed_checkouts():
    work = database_work(parse(METRICS_BEFORE), parse(METRICS_AFTER), completed=0)

    assert work["statements_per_checkout"] is None and work["gateway_commits_per_checkout"] is None
    assert work["worker_statements_during_sale"] == 25


def test_database_work_is_none_when_metrics_could_not_be_read():
    work = database_work(None, parse(METRICS_AFTER), completed=40)

    assert set(work.values()) == {None}


def test_per_checkout_figures_are_rounded_to_two_decimals():
    work = database_work(parse(METRICS_BEFORE), parse(METRICS_AFTER), completed=7)

    assert work["statements_per_checkout"] == 128.57  # 900 / 7


def test_metrics_are_scraped_over_http_and_a_missing_endpoint_is_no_failure():
    async def metrics(request):
        return web.Response(text=METRICS_AFTER, content_type="text/plain")

    async def scrape_both() -> tuple:
        app_with, app_without = web.Application(), web.Application()
        app_with.router.add_get("/metrics", metrics)
        async with (
            test_utils.TestServer(app_with) as with_metrics,
            test_utils.TestServer(app_without) as without,
            client_session(2) as session,
        ):
            found = await scrape(session, base_url(with_metrics))
            missing = await scrape(session, base_url(without))
            refused = await scrape(session, f"http://127.0.0.1:{free_port()}")  # nobody listens
        return found, missing, refused

    def base_url(server: test_utils.TestServer) -> str:
        return str(server.make_url("")).rstrip("/")

    found, missing, refused = asyncio.run(scrape_both())

    assert found == parse(METRICS_AFTER)
    assert (missing, refused) == (None, None)


def test_the_load_generators_cpu_is_a_percentage_of_one_core():
    assert one_core_percent((1.0, 10.0), (1.5, 11.0)) == 50.0
    assert one_core_percent((1.0, 10.0), (3.0, 11.0)) == 200.0  # several threads can use more than one
    assert one_core_percent((1.0, 10.0), (1.0, 10.0)) is None


def test_the_load_generators_cpu_counts_its_own_work():
    before = own_cpu()
    sum(i * i for i in range(2_000_000))

    assert one_core_percent(before, own_cpu()) > 0


def test_the_report_carries_the_new_figures():
    main = Tally()
    for buyer in make_buyers(40, 0, run="test"):
        main.add(Outcome(buyer, COMPLETED, seconds=0.1))
    sale = SaleResult(
        catalogue=Catalogue([], stock_variant_id=1),
        main=main,
        main_seconds=2.0,
        second=Tally(),
        second_seconds=0.0,
        machine_cpu_percent=80.0,
        loadgen_cpu_percent=35.2,
        counted_before=parse(METRICS_BEFORE),
        counted_after=parse(METRICS_AFTER),
    )
    figures = SaleFigures(40, 40, 40, 40, 0, 0, [], [40])
    options = FlashSaleOptions(units=40, buyers=40, gateway_latency_ms=50)

    report = build_report(
        options, BenchDatabase("sqlite://", "sqlite", created=True), sale, figures, AuditReport()
    )

    assert report.keys() >= REPORT_KEYS
    assert (report["gateway_latency_ms"], report["loadgen_cpu_percent"]) == (50, 35.2)
    assert (report["statements_per_checkout"], report["commits_per_checkout"]) == (22.5, 2.25)
    assert report["mean_batch_size"]["reserve"] == 5.0
    assert (report["audit"], report["audit_violations"], report["ok"]) == ("clean", [], True)


def test_a_sale_whose_database_fails_the_audit_is_not_ok():
    main = Tally()
    for buyer in make_buyers(40, 0, run="test"):
        main.add(Outcome(buyer, COMPLETED, seconds=0.1))
    sale = SaleResult(Catalogue([], stock_variant_id=1), main, 2.0, Tally(), 0.0, None, None, None, None)
    figures = SaleFigures(40, 40, 40, 40, 0, 0, [], [40])
    violation = Violation("stock_allocations_accounted", "inventory_levels variant 1", "allocated 41, ...")
    audit = AuditReport([Finding(CHECKS[1], [violation])])
    database = BenchDatabase("sqlite://", "sqlite", created=True)

    report = build_report(FlashSaleOptions(units=40, buyers=40), database, sale, figures, audit)

    assert (report["errors"], report["oversold"], report["undersold"]) == (0, 0, 0)
    assert (report["audit"], report["ok"]) == ("1 violation", False)
    assert report["audit_violations"] == [violation.as_dict()]


class RecordingShop:
    """Answers both checkout steps with 201 and keeps the headers of each POST."""

    def __init__(self):
        self.sent: list[tuple[str, dict | None]] = []

    async def post(self, path: str, body: dict | None = None, *, headers: dict | None = None):
        self.sent.append((path, headers))
        return 201, {"id": 7, "reserved_until": "2030-01-01T00:00:00+00:00"}


def test_the_completion_sends_an_idempotency_key_per_buyer_and_wave():
    first, second = make_buyers(2, 0, run="r1")

    keys = []
    for buyer in (first, second, replace(first, wave=2)):
        shop = RecordingShop()
        asyncio.run(_two_steps(shop, 1, buyer))
        _, (complete, headers) = shop.sent
        assert complete == "/checkouts/7/complete"
        keys.append(headers["Idempotency-Key"])

    assert keys == ["flash-r1-0", "flash-r1-1", "flash-r1-0-2"]


def test_every_run_has_its_own_idempotency_keys():
    assert make_buyers(1, 0, run="a")[0].idempotency_key != make_buyers(1, 0, run="b")[0].idempotency_key
