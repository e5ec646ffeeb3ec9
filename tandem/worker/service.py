"""Scheduling jobs (inside the caller's transaction) and the worker's guarded claims."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tandem.db import UnitOfWork, insert_rows, insert_statement
from tandem.liveness import dead_owners
from tandem.worker.domain import JobStatus, backoff
from tandem.worker.models import Job


@dataclass(frozen=True)
class BatchHandler:
    """Runs many jobs of one kind in one transaction, when `applies` to the ports at hand."""

    run: Callable[[UnitOfWork, list[dict[str, Any]], datetime], None]
    applies: Callable[[Any], bool] = lambda ports: True


class LeaseLost(Exception):
    """Another worker took this job over; this worker's work must be rolled back."""


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


def schedule(
    session: Session,
    *,
    kind: str,
    payload: dict[str, Any],
    run_at: datetime,
    now: datetime,
    store_id: int | None = None,
    dedupe_key: str | None = None,
    max_attempts: int = 8,
) -> Job:
    """Add a job in the caller's transaction, so it exists iff its cause does."""
    job = Job(
        kind=kind,
        payload=payload,
        store_id=store_id,
        status=JobStatus.PENDING.value,
        run_at=run_at,
        attempts=0,
        max_attempts=max_attempts,
        dedupe_key=dedupe_key,
        created_at=now,
    )
    session.add(job)
    return job


def schedule_many(session: Session, jobs: list[dict[str, Any]], *, now: datetime) -> None:
    """Many jobs in one statement, each {kind, payload, run_at, store_id?, max_attempts?}."""
    if not jobs:
        return
    insert_rows(session, Job.__table__, _job_rows(jobs, now))


def _job_rows(jobs: list[dict[str, Any]], now: datetime) -> list[dict]:
    return [
        {
            "kind": job["kind"],
            "payload": job["payload"],
            "store_id": job.get("store_id"),
            "status": JobStatus.PENDING.value,
            "run_at": job["run_at"],
            "attempts": 0,
            "max_attempts": job.get("max_attempts", 8),
            "dedupe_key": job.get("dedupe_key"),
            "created_at": now,
        }
        for job in jobs
    ]


def schedule_later(uow: UnitOfWork, jobs: list[dict[str, Any]], *, now: datetime) -> None:
    """schedule_many, sent with the transaction's writes (uow.writes)."""
    if jobs:
        uow.writes.add(insert_statement(uow.session, Job.__table__, _job_rows(jobs, now)))


def claim_due(
    session: Session,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    kind: str | None = None,
) -> list[ClaimedJob]:
    """Take due jobs (and jobs whose worker died: its lease ran out, or its process stopped
    beating); SKIP LOCKED keeps workers apart."""
    due = or_(
        (Job.status == JobStatus.PENDING.value) & (Job.run_at <= now),
        (Job.status == JobStatus.RUNNING.value)
        & or_(Job.locked_until < now, Job.locked_by.in_(dead_owners(now))),
    )
    if kind is not None:
        due = due & (Job.kind == kind)
    candidates = (
        select(Job.id).where(due).order_by(Job.run_at, Job.id).limit(limit).with_for_update(skip_locked=True)
    )
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(candidates.scalar_subquery()))
        .values(
            status=JobStatus.RUNNING.value,
            locked_by=worker,
            locked_until=now + lease,
            attempts=Job.attempts + 1,
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
        .execution_options(synchronize_session=False)
    ).all()
    return [ClaimedJob(*row) for row in sorted(rows, key=lambda r: r.id)]


def renew_leases(connection: Connection, *, worker: str, until: datetime) -> None:
    """Extend the leases of the jobs `worker` holds (its heartbeat, while it works on them).
    Rows another transaction has locked are skipped: they are being finished or taken over."""
    jobs = Job.__table__
    held = (
        select(jobs.c.id)
        .where(jobs.c.locked_by == worker, jobs.c.status == JobStatus.RUNNING.value)
        .with_for_update(skip_locked=True)
    )
    connection.execute(update(jobs).where(jobs.c.id.in_(held.scalar_subquery())).values(locked_until=until))


def release(session: Session, *, worker: str) -> int:
    """Give back the jobs `worker` still holds (a clean shutdown): due again at once."""
    result = session.execute(
        update(Job)
        .where(Job.locked_by == worker, Job.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.PENDING.value, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def finish(
    session: Session,
    *,
    job_id: int,
    worker: str,
    now: datetime,
    status: JobStatus = JobStatus.DONE,
    error: str | None = None,
) -> None:
    """Close a job this worker holds; raises LeaseLost if another worker took it."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker, Job.status == JobStatus.RUNNING.value)
        .values(status=status.value, finished_at=now, locked_until=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise LeaseLost(job_id)


def finish_all(session: Session, *, job_ids: list[int], worker: str, now: datetime) -> None:
    """Close jobs this worker holds, with one statement; LeaseLost if any was taken over."""
    result = session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.locked_by == worker, Job.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.DONE.value, finished_at=now, locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(job_ids):
        raise LeaseLost(job_ids)


def retry_later(session: Session, *, job: ClaimedJob, worker: str, now: datetime, error: str) -> bool:
    """Put a failed attempt back with backoff, or give up after max_attempts (returns True)."""
    if job.attempts >= job.max_attempts:
        finish(session, job_id=job.id, worker=worker, now=now, status=JobStatus.FAILED, error=error)
        return True
    session.execute(
        update(Job)
        .where(Job.id == job.id, Job.locked_by == worker, Job.status == JobStatus.RUNNING.value)
        .values(
            status=JobStatus.PENDING.value,
            run_at=now + backoff(job.attempts),
            locked_by=None,
            locked_until=None,
            last_error=error,
        )
        .execution_options(synchronize_session=False)
    )
    return False


def cancel_pending(session: Session, *, kind: str, dedupe_key: str) -> None:
    session.execute(
        update(Job)
        .where(Job.kind == kind, Job.dedupe_key == dedupe_key, Job.status == JobStatus.PENDING.value)
        .values(status=JobStatus.CANCELLED.value)
        .execution_options(synchronize_session=False)
    )
