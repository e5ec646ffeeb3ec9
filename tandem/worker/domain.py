"""Job lifecycle as a table; the worker's guarded UPDATEs follow it."""

from datetime import timedelta
from enum import StrEnum


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


JOB_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.PENDING: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    # RUNNING -> RUNNING: another worker takes over a job whose lease ran out.
    JobStatus.RUNNING: frozenset({JobStatus.DONE, JobStatus.PENDING, JobStatus.FAILED, JobStatus.RUNNING}),
    JobStatus.DONE: frozenset(),
    JobStatus.FAILED: frozenset({JobStatus.PENDING}),  # staff retry
    JobStatus.CANCELLED: frozenset(),
}


def can_move(source: JobStatus, target: JobStatus) -> bool:
    return target in JOB_TRANSITIONS[source]


def backoff(attempts: int, *, base_seconds: float = 5, cap_seconds: float = 3600) -> timedelta:
    """Exponential backoff: 5 s, 10 s, 20 s ... capped at an hour."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(attempts - 1, 0)))
