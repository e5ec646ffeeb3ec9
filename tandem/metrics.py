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
# An execution option: the operators' own reads (/metrics, /readyz) are not the service's work.
UNCOUNTED = {"tandem_uncounted": True}

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

REQUESTS = Counter(
    "tandem_http_requests",
    "HTTP requests answered, by route template and status",
    ["method", "route", "status"],
)
REQUEST_SECONDS = Histogram(
    "tandem_http_request_seconds",
    "How long HTTP requests took to answer, by route template",
    ["method", "route"],
    buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_request_children: dict[tuple[str, str, int], tuple] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one answered request (the labelled children are looked up once per combination)."""
    key = (method if method in METHODS else "other", route, status)
    children = _request_children.get(key)
    if children is None:
        children = (REQUESTS.labels(key[0], route, str(status)), REQUEST_SECONDS.labels(key[0], route))
        _request_children[key] = children
    children[0].inc()
    children[1].observe(seconds)


def count_database_work(engine: Engine, *, role: str, name: str = "tandem") -> None:
    """Count the statements and commits `engine` sends (its SQLAlchemy events)."""
    statements, commits = STATEMENTS.labels(role, name), COMMITS.labels(role, name)

    @event.listens_for(engine, "before_cursor_execute")
    def _statement(conn, cursor, statement, parameters, context, executemany):
        if not statement.startswith("BEGIN") and not conn.get_execution_options().get("tandem_uncounted"):
            statements.inc()

    @event.listens_for(engine, "commit")
    def _commit(conn):
        commits.inc()


def exposition(queues=None) -> bytes:
    """The counters of every process sharing the multiprocess directory (or of this one), and
    the queue figures read from the database for this scrape (tandem.operations.QueueFigures)."""
    if os.environ.get(MULTIPROCESS_DIR):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest()
    if queues is None:
        return text
    registry = CollectorRegistry()
    registry.register(_QueueCollector(queues))
    return text + generate_latest(registry)


class _QueueCollector:
    def __init__(self, queues):
        self.queues = queues

    def collect(self):
        q = self.queues
        yield GaugeMetricFamily(
            "tandem_jobs_due", "Worker jobs whose time has come, not started yet", q.jobs_due
        )
        yield GaugeMetricFamily("tandem_jobs_running", "Worker jobs being run", q.jobs_running)
        yield GaugeMetricFamily(
            "tandem_jobs_failed", "Worker jobs that gave up after their attempts", q.jobs_failed
        )
        yield GaugeMetricFamily(
            "tandem_jobs_oldest_due_age_seconds",
            "How long the oldest due job has waited",
            q.oldest_due_seconds,
        )
        for name, figures, help_text in (
            ("tandem_outbox_failed", q.outbox_failed, "Emails and webhook deliveries that gave up"),
            (
                "tandem_outbox_retrying",
                q.outbox_retrying,
                "Emails and webhook deliveries failing, to be retried",
            ),
        ):
            family = GaugeMetricFamily(name, help_text, labels=["kind"])
            for kind, value in figures.items():
                family.add_metric([kind], value)
            yield family
