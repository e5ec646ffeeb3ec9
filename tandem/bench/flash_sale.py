"""`tandem bench flash-sale` (SPEC §7): a crowd of buyers races for one product over HTTP.

1. setup: a fresh, migrated database; the stores (in process) and a product of N units (over HTTP):
   with R = 1 a retailer selling its own stock; with R > 1 a supplier's product that R retailers
   connect to and import, so every buyer races for the supplier's one stock row;
2. server processes: `tandem serve --no-worker` and one `tandem worker`, on 127.0.0.1, sharing
   their /metrics counters; the test payment gateway answers after --gateway-latency-ms;
3. load phase: M buyers, C at a time, through the two-step checkout, spread round robin over the
   retailers; a fraction F abandon after step 1 and keep their reservation until it lapses;
4. second wave: once every abandoned reservation has lapsed, the willing buyers who were refused
   try again, so lapsed reservations must be sold again (no undersell);
5. checks: units sold (by all retailers), stock left, committed units, payments and supplier orders,
   read from the database; then `tandem audit` on it (`"audit": "clean"`, or `ok` is false);
6. report: one JSON object. Throughput and latencies are those of the main phase
   (`duration_seconds`); latencies are those of the buyers who got an order. So are the CPU
   figures (`machine_cpu_percent` of all cores; `loadgen_cpu_percent`, the benchmark's own, of
   one core) and the database work the server counted (/metrics read before and after the main
   phase): statements and commits per completed checkout, of Tandem and of the test gateway
   (a remote provider's), the worker's statements, and the mean batch size of each checkout lane.
"""

import asyncio
import math
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import make_url

from tandem.audit.domain import AuditReport
from tandem.bench.buyers import (
    ABANDONED,
    COMPLETED,
    ERROR,
    REFUSED,
    Tally,
    client_session,
    make_buyers,
    run_wave,
)
from tandem.bench.checks import SaleFigures, audit_sale, consistency_problems, read_figures
from tandem.bench.counters import Counts, database_work, scrape
from tandem.bench.databases import BenchDatabase, fresh_database, postgres_server
from tandem.bench.errors import BenchError, BenchUsageError
from tandem.bench.network import Catalogue, Stores, create_stores, stock_the_shelves
from tandem.bench.processes import TandemConfig, log_tail, running_tandem

__all__ = ["BenchError", "BenchUsageError", "FlashSaleOptions", "run"]

AUDIT_VIOLATIONS_SHOWN = 20

LAPSE_MARGIN_SECONDS = 0.5
MAX_GATEWAY_LATENCY_MS = 60_000  # what Tandem's settings accept
STARTUP_TIMEOUT_SECONDS = 60
T = TypeVar("T")
Say = Callable[[str], None]


@dataclass(frozen=True)
class FlashSaleOptions:
    database_url: str | None = None  # None: a temporary SQLite file
    units: int = 1000
    buyers: int = 3000
    concurrency: int = 64
    retailers: int = 1  # more than one: they sell a supplier's stock
    abandon_rate: float = 0.1
    http_workers: int | None = None  # None: 1 on SQLite, 2 on PostgreSQL
    reservation_seconds: int = 5
    gateway_latency_ms: float = 0.0  # the test payment gateway's delay per call
    time_limit: float = 600.0
    keep_database: bool = False

    @property
    def on_sqlite(self) -> bool:
        return self.database_url is None or self.database_url.startswith("sqlite")

    @property
    def workers(self) -> int:
        """One HTTP worker per two cores by default: one process batches all of its buyers'
        checkouts together, and PostgreSQL and the load generator need the other cores."""
        if self.http_workers is not None:
            return self.http_workers
        return 1 if self.on_sqlite else max(1, (os.cpu_count() or 2) // 2)


@dataclass(frozen=True)
class SaleResult:
    catalogue: Catalogue
    main: Tally
    main_seconds: float
    second: Tally
    second_seconds: float
    machine_cpu_percent: float | None  # of all cores, whatever used them, during the main phase
    loadgen_cpu_percent: float | None = None  # of one core, by this process, during the main phase
    counted_before: Counts | None = None  # the server's /metrics before the main phase
    counted_after: Counts | None = None  # and after it


def check_options(options: FlashSaleOptions) -> None:
    """Refuse, with the reason, what the benchmark cannot do."""
    limits = {
        "--units": options.units >= 1,
        "--buyers": options.buyers >= 1,
        "--concurrency": options.concurrency >= 1,
        "--retailers": options.retailers >= 1,
        "--abandon-rate": 0 <= options.abandon_rate < 1,
        "--http-workers": options.workers >= 1,
        "--reservation-seconds": options.reservation_seconds >= 1,
        "--gateway-latency-ms": 0 <= options.gateway_latency_ms <= MAX_GATEWAY_LATENCY_MS,
        "--time-limit": options.time_limit > 0,
    }
    for name, ok in limits.items():
        if not ok:
            raise BenchUsageError(f"{name} is out of range")
    if not options.on_sqlite:
        postgres_server(options.database_url)


def say_on_stderr(message: str) -> None:
    print(f"[flash-sale {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(options: FlashSaleOptions, *, say: Say = say_on_stderr) -> dict:
    """Run the whole benchmark and return its report; subprocesses never outlive it."""
    check_options(options)
    deadline = Deadline(options.time_limit)
    secret = secrets.token_urlsafe(48)
    workdir = Path(tempfile.mkdtemp(prefix="tandem-bench-"))
    keep = True  # a failed run keeps its logs
    try:
        with (
            sigterm_as_interrupt(),
            fresh_database(
                options.database_url, workdir, secret=secret, keep=options.keep_database, say=say
            ) as database,
        ):
            report = run_on(database, options, secret=secret, workdir=workdir, deadline=deadline, say=say)
        keep = options.keep_database or report["errors"] > 0
        return report
    except KeyboardInterrupt:
        keep = options.keep_database
        raise
    finally:
        tidy(workdir, keep=keep, say=say)


def tidy(workdir: Path, *, keep: bool, say: Say) -> None:
    """Remove the run's directory, unless its logs (or SQLite file) are worth a look."""
    if keep and any(workdir.iterdir()):
        say(f"logs (and the SQLite database, if any) kept in {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


def run_on(
    database: BenchDatabase,
    options: FlashSaleOptions,
    *,
    secret: str,
    workdir: Path,
    deadline: "Deadline",
    say: Say,
) -> dict:
    load_average = round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None
    stores = create_stores(database.url, secret, options.retailers)
    config = TandemConfig(
        database.url, secret, options.workers, options.reservation_seconds, options.gateway_latency_ms
    )
    startup = min(STARTUP_TIMEOUT_SECONDS, deadline.remaining("before Tandem started"))
    with running_tandem(config, workdir, startup_timeout=startup) as tandem:
        say(f"Tandem serves {tandem.base_url} with {options.workers} HTTP worker(s) on {database.kind}")
        sale = asyncio.run(run_sale(tandem.base_url, stores, options, deadline, say))
    figures = read_figures(
        database.url,
        secret,
        sellers=sale.catalogue.sellers,
        stock_variant_id=sale.catalogue.stock_variant_id,
        supplier=stores.supplier is not None,
    )
    say("auditing the database (tandem audit)")
    audit = audit_sale(database.url, secret)
    report = build_report(options, database, sale, figures, audit, load_average)
    if report["unexpected_responses"]:
        say(
            f"unexpected responses; the end of the server's log ({workdir}/server.log):\n"
            + log_tail(workdir, "server")
        )
    return report


# -- the sale, over HTTP ---------------------------------------------------------------------


async def run_sale(
    base_url: str, stores: Stores, options: FlashSaleOptions, deadline: "Deadline", say: Say
) -> SaleResult:
    """Stock the shelves, run the main phase, let abandoned holds lapse, run the second wave."""
    async with client_session(options.concurrency) as session:
        catalogue = await within(
            deadline, "creating the product", stock_the_shelves(session, base_url, stores, options.units)
        )
        shelves = catalogue.storefronts
        crowd = make_buyers(options.buyers, options.abandon_rate, run=secrets.token_hex(8))
        # Read /metrics outside the CPU readings: the scrapes are not the sale's work.
        counted_before = await within(deadline, "reading /metrics", scrape(session, base_url))
        cpu_before, own_before = machine_cpu(), own_cpu()
        main, main_seconds = await within(
            deadline,
            "in the main phase",
            run_wave(shelves, crowd, concurrency=options.concurrency, label="main phase", say=say),
        )
        own_percent = one_core_percent(own_before, own_cpu())
        cpu_percent = busy_percent(cpu_before, machine_cpu())
        counted_after = await within(deadline, "reading /metrics", scrape(session, base_url))
        await within(deadline, "waiting for reservations to lapse", wait_for_lapse(main, say))
        again = [replace(o.buyer, wave=2) for o in main.of(REFUSED) if not o.buyer.abandons]
        second, second_seconds = await within(
            deadline,
            "in the second wave",
            run_wave(shelves, again, concurrency=options.concurrency, label="second wave", say=say),
        )
    return SaleResult(
        catalogue,
        main,
        main_seconds,
        second,
        second_seconds,
        cpu_percent,
        own_percent,
        counted_before,
        counted_after,
    )


def machine_cpu() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine so far; None where /proc/stat is missing."""
    try:
        ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # minus idle and iowait


def busy_percent(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """How busy all cores were between two machine_cpu() readings, in percent."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return round(100 * (after[0] - before[0]) / (after[1] - before[1]), 1)


def own_cpu() -> tuple[float, float]:
    """(CPU seconds of this process, its children excluded; a wall clock in seconds) so far."""
    times = os.times()
    return times.user + times.system, time.perf_counter()


def one_core_percent(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """The CPU this process used between two own_cpu() readings, in percent of one core."""
    wall = after[1] - before[1]
    if wall <= 0:
        return None
    return round(100 * (after[0] - before[0]) / wall, 1)


async def wait_for_lapse(main: Tally, say: Say) -> None:
    """Sleep until every abandoned checkout is past its reserved_until."""
    holds = [o.reserved_until for o in main.of(ABANDONED)]
    if not holds:
        return
    wait = (max(holds) - datetime.now(UTC)).total_seconds() + LAPSE_MARGIN_SECONDS
    if wait > 0:
        say(f"waiting {wait:.1f} s for the last of {len(holds)} abandoned reservations to lapse")
        await asyncio.sleep(wait)


async def within(deadline: "Deadline", what: str, work: Awaitable[T]) -> T:
    """Await `work`, or fail with a clear message when the global time limit comes first."""
    try:
        async with asyncio.timeout(deadline.remaining(what)) as scope:
            return await work
    except TimeoutError:
        if scope.expired():
            raise deadline.exceeded(what) from None
        raise


class Deadline:
    """The global time limit (--time-limit)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds

    def remaining(self, what: str) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise self.exceeded(what)
        return left

    def exceeded(self, what: str) -> BenchError:
        return BenchError(f"the time limit of {self.seconds:g} s was reached {what}")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """A SIGTERM unwinds like Ctrl+C, so the subprocesses and the database are cleaned up."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


# -- the report --------------------------------------------------------------------------------


def build_report(
    options: FlashSaleOptions,
    database: BenchDatabase,
    sale: SaleResult,
    figures: SaleFigures,
    audit: AuditReport,
    load_average_before: float | None = None,
) -> dict:
    """The one JSON object the command prints."""
    completed = sale.main.counts[COMPLETED] + sale.second.counts[COMPLETED]
    unexpected = sale.main.of(ERROR) + sale.second.of(ERROR)
    problems = consistency_problems(figures, completed_answers=completed)
    report = {
        **headline(options, sale, figures),
        "errors": len(unexpected) + len(problems),
        "unexpected_responses": len(unexpected),
        "consistency_errors": len(problems),
        "error_details": response_errors(unexpected) + problems,
        "database": database.kind,
        **counts(options, sale, figures),
        "latency_ms": {r: latency_summary(sale.main.of(r)) for r in (COMPLETED, REFUSED, ABANDONED)},
        "second_wave": wave_summary(sale.second, sale.second_seconds),
        "cpus": os.cpu_count(),
        # Other work on the machine skews the figures: how busy it was before and during the run.
        "load_average_before": load_average_before,
        "machine_cpu_percent": sale.machine_cpu_percent,
        # A load generator near 100 % of its core is the bottleneck, not Tandem.
        "loadgen_cpu_percent": sale.loadgen_cpu_percent,
        **database_work(sale.counted_before, sale.counted_after, sale.main.counts[COMPLETED]),
        "command": command_line(options),
        # `tandem audit` after the run: "clean", or how many violations (the first listed).
        "audit": audit.summary,
        "audit_violations": [v.as_dict() for v in audit.violations[:AUDIT_VIOLATIONS_SHOWN]],
    }
    if options.keep_database:
        report["database_url"] = make_url(database.url).render_as_string(hide_password=True)
    report["ok"] = not (report["errors"] or report["oversold"] or report["undersold"]) and audit.clean
    return report


def headline(options: FlashSaleOptions, sale: SaleResult, figures: SaleFigures) -> dict:
    latencies = sorted(o.seconds * 1000 for o in sale.main.of(COMPLETED))
    sold, stock = figures.sold, figures.available
    refused_at_last = sale.second.counts[REFUSED]
    return {
        "checkouts_per_minute": round(sale.main.counts[COMPLETED] / sale.main_seconds * 60, 1),
        "p50_ms": percentile(latencies, 50),
        "p99_ms": percentile(latencies, 99),
        "sold": sold,
        "stock": stock,
        "oversold": max(0, sold - options.units) + max(0, -stock),
        "undersold": 0 if sold >= options.units else min(options.units - sold, refused_at_last),
    }


def counts(options: FlashSaleOptions, sale: SaleResult, figures: SaleFigures) -> dict:
    return {
        "units": options.units,
        "buyers": options.buyers,
        "concurrency": options.concurrency,
        "http_workers": options.workers,
        "retailers": options.retailers,
        "sold_by_retailer": figures.sold_by_retailer,
        "supplier_orders": figures.supplier.orders if figures.supplier else None,
        "abandon_rate": options.abandon_rate,
        "reservation_seconds": options.reservation_seconds,
        "gateway_latency_ms": options.gateway_latency_ms,
        "completed": sale.main.counts[COMPLETED],
        "abandoned": sale.main.counts[ABANDONED],
        "refused": sale.main.counts[REFUSED],
        "duration_seconds": round(sale.main_seconds, 3),
        "committed": figures.committed,
        "orders": figures.orders,
        "held": figures.held,  # units in reservations still running when the sale was checked
        "lapsed": figures.lapsed,  # units in lapsed reservations nobody has reclaimed yet
    }


def wave_summary(tally: Tally, seconds: float) -> dict:
    return {
        "buyers": len(tally.outcomes),
        "completed": tally.counts[COMPLETED],
        "refused": tally.counts[REFUSED],
        "errors": tally.counts[ERROR],
        "duration_seconds": round(seconds, 3),
    }


def response_errors(outcomes: list) -> list[dict]:
    """Unexpected answers grouped by what they were, most frequent first."""
    grouped = Counter(o.error for o in outcomes)
    return [{"kind": "response", "message": error, "count": n} for error, n in grouped.most_common(20)]


def latency_summary(outcomes: list) -> dict:
    values = sorted(o.seconds * 1000 for o in outcomes)
    return {
        "count": len(values),
        "p50": percentile(values, 50),
        "p99": percentile(values, 99),
        "max": round(values[-1], 1) if values else None,
    }


def percentile(ordered: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def command_line(options: FlashSaleOptions) -> str:
    """The command that reproduces this run, every option spelled out (password hidden)."""
    args = ["tandem", "bench", "flash-sale"]
    if options.database_url:
        args += ["--database-url", make_url(options.database_url).render_as_string(hide_password=True)]
    args += [
        "--units",
        str(options.units),
        "--buyers",
        str(options.buyers),
        "--concurrency",
        str(options.concurrency),
        "--retailers",
        str(options.retailers),
        "--abandon-rate",
        f"{options.abandon_rate:g}",
        "--http-workers",
        str(options.workers),
        "--reservation-seconds",
        str(options.reservation_seconds),
        "--gateway-latency-ms",
        f"{options.gateway_latency_ms:g}",
        "--time-limit",
        f"{options.time_limit:g}",
    ]
    if options.keep_database:
        args.append("--keep-database")
    return shlex.join(args)
