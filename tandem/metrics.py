"""Counters for operators and the benchmark, served as Prometheus text at /metrics.

prometheus-client is the reference client of the format operators already scrape. With
several processes (uvicorn's workers, `tandem worker`), each keeps its counters in files
under PROMETHEUS_MULTIPROC_DIR and /metrics adds them up; `tandem serve` makes such a
directory when it starts several HTTP workers and the operator named none.
"""

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.engine import Engine

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

STATEMENTS = Counter(
    "tandem_db_statements", "SQL statements sent to the database (BEGIN not counted)", ["role", "engine"]
)
COMMITS = Counter("tandem_db_commits", "Transactions committed", ["role", "engine"])
CHECKOUTS_COMPLETED = Counter("tandem_checkouts_completed", "Checkouts that became orders")
BATCH_SECONDS = Histogram(
    "tandem_checkout_batch_seconds",
    "How long one batch of a checkout lane took (its transactions)",
    ["lane"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28),
)
BATCH_SIZE = Histogram(
    "tandem_checkout_batch_size",
    "Requests served by one transaction of a checkout lane",
    ["lane"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128),
)


def count_database_work(engine: Engine, *, role: str, name: str = "tandem") -> None:
    """Count the statements and commits `engine` sends (its SQLAlchemy events)."""
    statements, commits = STATEMENTS.labels(role, name), COMMITS.labels(role, name)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN"):
            statements.inc()

    @event.listens_for(engine, "commit")
    def _commit(conn):
        commits.inc()


def exposition(figures: list[GaugeMetricFamily] = ()) -> bytes:
    """The counters of every process sharing the multiprocess directory (or of this one),
    then `figures` read from the database at this scrape."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counters = generate_latest(registry)
    else:
        counters = generate_latest()
    return counters + _text(figures)


def database_figures(jobs, failed: dict[str, int]) -> list[GaugeMetricFamily]:
    """Gauges from the database, the same whichever process answers: the worker's jobs
    (tandem.worker.service.JobFigures) and the outbox messages that gave up, by kind."""
    states = GaugeMetricFamily("tandem_jobs", "Worker jobs due now, running, or failed", labels=["state"])
    for state in ("due", "running", "failed"):
        states.add_metric([state], getattr(jobs, state))
    oldest = GaugeMetricFamily(
        "tandem_jobs_oldest_due_age_seconds", "How long the oldest due job has been waiting"
    )
    oldest.add_metric([], jobs.oldest_due_seconds)
    outbox = GaugeMetricFamily(
        "tandem_outbox_failed_messages", "Emails and webhook deliveries that gave up", labels=["kind"]
    )
    for kind, count in failed.items():
        outbox.add_metric([kind], count)
    return [states, oldest, outbox]


class _Figures:
    def __init__(self, families: list[GaugeMetricFamily]):
        self.families = families

    def collect(self):
        return self.families


def _text(figures: list[GaugeMetricFamily]) -> bytes:
    if not figures:
        return b""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(list(figures)))
    return generate_latest(registry)
