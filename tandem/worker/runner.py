"""The worker: polls due jobs, runs each in its own transaction, sweeps lapsed timers.

A job's effect and its `done` mark commit together (a before-commit hook), so a
worker killed mid-job leaves the job to be redone by another after its lease,
and the effect is never applied twice. External effects (gateway, SMTP, HTTP)
carry idempotency keys or stable message ids: at-least-once, detectably.

Leases are short (TANDEM_WORKER_LEASE_SECONDS, 30 s) and renewed every second by the
process's heartbeat (tandem.liveness) while the worker holds them; a worker claims only what
it runs next (one job, or one batch of a batchable kind). A killed worker's job is taken over
once its process stops beating (10 s) or its lease runs out; a worker told to stop (SIGTERM)
finishes the job in hand and gives back anything else it holds, due again at once.
"""

import logging
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tandem.db import UnitOfWork
from tandem.runtime import Runtime
from tandem.worker import service
from tandem.worker.domain import claim_size
from tandem.worker.service import BatchHandler, ClaimedJob

log = logging.getLogger(__name__)

JobHandler = Callable[[UnitOfWork, dict[str, Any], datetime], None]


Sweep = Callable[[Runtime, datetime], int]
# Told, in the transaction that records it, that an attempt of a job failed outside the
# handler's own bookkeeping: (uow, payload, error, now, gave_up). The outbox counts it.
FailureHandler = Callable[[UnitOfWork, dict[str, Any], str, datetime, bool], None]


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        handlers: dict[str, JobHandler],
        batch_handlers: dict[str, BatchHandler] | None = None,
        failure_handlers: dict[str, FailureHandler] | None = None,
        sweeps: list[Sweep] = (),
        name: str | None = None,
        batch: int = 20,
        lease: timedelta | None = None,
    ):
        self.runtime = runtime
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.failure_handlers = failure_handlers or {}
        self.sweeps = list(sweeps)
        # The process's liveness name: its heartbeat renews this worker's leases, and its
        # jobs are taken over as soon as the process stops beating.
        self.name = name or runtime.owner
        self.batch = batch
        self.lease = lease or timedelta(seconds=runtime.settings.worker_lease_seconds)
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """Run what is due now (up to `batch` jobs, each claimed just before it runs), then the
        sweeps; returns how much work was found."""
        found = 0
        while found < self.batch and not self.stopping.is_set():
            jobs = self._claim(self.runtime.clock.now())
            if not jobs:
                break
            self._run_claimed(jobs)
            found += len(jobs)
        return found + sum(self._sweep(sweep) for sweep in self.sweeps)

    def run_until_idle(self, max_rounds: int = 100) -> int:
        total = 0
        for _ in range(max_rounds):
            done = self.run_once()
            total += done
            if not done:
                break
        return total

    def run_forever(self, stop: threading.Event) -> None:
        poll = self.runtime.settings.worker_poll_seconds
        log.info("worker %s polling every %ss", self.name, poll)
        self.stopping = stop
        heartbeat = self.runtime.heartbeat
        if heartbeat is not None:
            heartbeat.also(self.renew_leases)
        try:
            while not stop.is_set():
                try:
                    found = self.run_once()
                except Exception:
                    log.exception("worker round failed")
                    found = 0
                if not found:
                    stop.wait(poll)
        finally:
            if heartbeat is not None:
                heartbeat.drop(self.renew_leases)
            try:
                self.release()
            except Exception:  # noqa: BLE001 - its jobs are taken over when its beat stops
                log.exception("worker %s could not give back its jobs", self.name)

    def renew_leases(self, connection, now: datetime) -> None:
        """A heartbeat task: the jobs this worker holds stay its own while it is alive."""
        service.renew_leases(connection, worker=self.name, until=now + self.lease)

    def release(self) -> int:
        """Give back every job this worker holds, due again at once (a clean shutdown)."""
        with self.runtime.uow() as uow:
            released = service.release(uow.session, worker=self.name)
            uow.commit()
        if released:
            log.info("worker %s gave back %d jobs", self.name, released)
        return released

    def _claim(self, now: datetime) -> list[ClaimedJob]:
        with self.runtime.uow() as uow:
            jobs = service.claim_due(uow.session, worker=self.name, now=now, lease=self.lease, limit=1)
            more = claim_size(batchable=bool(jobs) and self._batchable(jobs[0].kind), batch=self.batch) - 1
            if jobs and more:
                jobs += service.claim_due(
                    uow.session, worker=self.name, now=now, lease=self.lease, limit=more, kind=jobs[0].kind
                )
            uow.commit()
        return jobs

    def _batchable(self, kind: str) -> bool:
        handler = self.batch_handlers.get(kind)
        return handler is not None and handler.applies(self.runtime.ports())

    def _run_claimed(self, jobs: list[ClaimedJob]) -> None:
        if len(jobs) > 1:
            self._run_batch(self.batch_handlers[jobs[0].kind], jobs)
        else:
            self._run(jobs[0])

    def _run(self, job: ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            if job.attempts > job.max_attempts:
                raise RuntimeError("gave up: the job kept interrupting its workers")
            with self.runtime.uow() as uow:
                now = self.runtime.clock.now()
                uow.before_commit(lambda s: service.finish(s, job_id=job.id, worker=self.name, now=now))
                handler(uow, job.payload, now)
                uow.commit()
        except service.LeaseLost:
            log.warning("job %s was taken over by another worker", job.id)
        except Exception as exc:
            log.warning("job %s (%s) failed: %s", job.id, job.kind, exc)
            self._record_failure(job, exc)

    def _run_batch(self, handler: BatchHandler, jobs: list[ClaimedJob]) -> None:
        """Jobs of one kind in one transaction, done marks included; if the batch fails, each
        job runs alone (and fails, or retries, on its own)."""
        try:
            if any(job.attempts > job.max_attempts for job in jobs):
                raise RuntimeError("a job kept interrupting its workers")
            with self.runtime.uow() as uow:
                now = self.runtime.clock.now()
                ids = [job.id for job in jobs]
                uow.before_commit(lambda s: service.finish_all(s, job_ids=ids, worker=self.name, now=now))
                handler.run(uow, [job.payload for job in jobs], now)
                uow.commit()
        except Exception as exc:  # noqa: BLE001 - one by one, to tell which
            log.warning("a batch of %d %s jobs failed (%s): one by one", len(jobs), jobs[0].kind, exc)
            for job in jobs:
                self._run(job)

    def _record_failure(self, job: ClaimedJob, exc: Exception) -> None:
        error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        with self.runtime.uow() as uow:
            now = self.runtime.clock.now()
            gave_up = service.retry_later(uow.session, job=job, worker=self.name, now=now, error=error)
            told = self.failure_handlers.get(job.kind)
            if told is not None:
                told(uow, job.payload, error, now, gave_up)
            uow.commit()

    def _sweep(self, sweep: Sweep) -> int:
        try:
            return sweep(self.runtime, self.runtime.clock.now())
        except Exception:
            log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))
            return 0
