"""Job lifecycle as a table; the worker's guarded UPDATEs follow it."""

from datetime import datetime, timedelta
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


def may_take_over(
    *,
    locked_until: datetime | None,
    now: datetime,
    owner_beat_at: datetime | None,
    stale_after: timedelta,
) -> bool:
    """A running job becomes another worker's once its lease ran out (its worker's heartbeat
    stopped renewing it) or once its worker's process stopped beating (tandem.liveness:
    no beat for `stale_after`), whichever is first. claim_due says the same in SQL."""
    if locked_until is None or locked_until < now:
        return True
    return owner_beat_at is not None and owner_beat_at < now - stale_after


def claim_size(*, batchable: bool, batch: int) -> int:
    """A worker claims only what it runs next: one job, or one batch of a batchable kind."""
    return max(batch, 1) if batchable else 1
