"""The database work the server counted during the main phase: its /metrics (Prometheus text),
read just before and just after, per completed checkout."""

from collections.abc import Iterable

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

STATEMENTS = "tandem_db_statements_total"
COMMITS = "tandem_db_commits_total"
CHECKOUTS_COMPLETED = "tandem_checkouts_completed_total"
BATCH_SIZE = "tandem_checkout_batch_size"
LANES = ("reserve", "begin", "settle")
REPORT_KEYS = (
    "statements_per_checkout",
    "commits_per_checkout",
    "gateway_statements_per_checkout",
    "gateway_commits_per_checkout",
    "worker_statements_during_sale",
    "server_checkouts_completed",
    "mean_batch_size",
)

# One sample: its name and its labels, as sorted (name, value) pairs.
Sample = tuple[str, tuple[tuple[str, str], ...]]
Counts = dict[Sample, float]


def parse(text: str) -> Counts:
    """Every sample of a Prometheus text exposition, by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(counts: Counts, name: str, **labels: str) -> float:
    """The sum of the samples called `name` that carry `labels`; 0 when there is none."""
    wanted = set(labels.items())
    return sum(value for (sample, pairs), value in counts.items() if sample == name and wanted <= set(pairs))


def growth(before: Counts, after: Counts, name: str, **labels: str) -> float:
    """How much the samples called `name` that carry `labels` grew between two readings."""
    return total(after, name, **labels) - total(before, name, **labels)


async def scrape(session: aiohttp.ClientSession, base_url: str) -> Counts | None:
    """The server's counters now; None when /metrics cannot be read (the run goes on without them)."""
    try:
        async with session.get(f"{base_url}/metrics") as response:
            if response.status != 200:
                return None
            return parse(await response.text())
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None


def database_work(before: Counts | None, after: Counts | None, completed: int) -> dict:
    """The report's server-side figures for a phase where `completed` checkouts became orders."""
    if before is None or after is None:
        return dict.fromkeys(REPORT_KEYS)

    def per_checkout(name: str, **labels: str) -> float | None:
        return round(growth(before, after, name, **labels) / completed, 2) if completed else None

    return {
        "statements_per_checkout": per_checkout(STATEMENTS, role="api", engine="tandem"),
        "commits_per_checkout": per_checkout(COMMITS, role="api", engine="tandem"),
        "gateway_statements_per_checkout": per_checkout(STATEMENTS, role="api", engine="gateway"),
        "gateway_commits_per_checkout": per_checkout(COMMITS, role="api", engine="gateway"),
        "worker_statements_during_sale": round(
            growth(before, after, STATEMENTS, role="worker", engine="tandem")
        ),
        # Should equal the buyers' "completed": less means some process's counters were not seen.
        "server_checkouts_completed": round(growth(before, after, CHECKOUTS_COMPLETED)),
        "mean_batch_size": mean_batch_sizes(before, after, LANES),
    }


def mean_batch_sizes(before: Counts, after: Counts, lanes: Iterable[str]) -> dict[str, float | None]:
    """Requests per transaction of each checkout lane between the two readings; None without batches."""
    means = {}
    for lane in lanes:
        batches = growth(before, after, f"{BATCH_SIZE}_count", lane=lane)
        requests = growth(before, after, f"{BATCH_SIZE}_sum", lane=lane)
        means[lane] = round(requests / batches, 2) if batches else None
    return means
