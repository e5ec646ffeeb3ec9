"""The worker: polls due jobs, runs each in its own transaction, sweeps lapsed timers.

A job's effect and its `done` mark commit together (a before-commit hook), so a
worker killed mid-job leaves the job to be redone by another after its lease,
and the effect is never applied twice. External effects (gateway, SMTP, HTTP)
carry idempotency keys or stable message ids: at-least-once, detectably.
"""

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tandem.db import UnitOfWork
from tandem.runtime import Runtime
from tandem.worker import service
from tandem.worker.service import BatchHandler, ClaimedJob

log = logging.getLogger(__name__)

JobHandler = Callable[[UnitOfWork, dict[str, Any], datetime], None]


Sweep = Callable[[Runtime, datetime], int]


class Worker:
    def __init__(
        self,
        runtime: Runtime,
        *,
        handlers: dict[str, JobHandler],
        batch_handlers: dict[str, BatchHandler] | None = None,
        sweeps: list[Sweep] = (),
        name: str | None = None,
        batch: int = 20,
        lease: timedelta = timedelta(minutes=5),
    ):
        self.runtime = runtime
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.sweeps = list(sweeps)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
        self.batch = batch
        self.lease = lease

    def run_once(self) -> int:
        """Run what is due now; returns how much work was found."""
        now = self.runtime.clock.now()
        jobs = self._claim(now)
        by_kind: dict[str, list[ClaimedJob]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        for kind, same in by_kind.items():
            batched = self.batch_handlers.get(kind)
            if batched is not None and len(same) > 1 and batched.applies(self.runtime.ports()):
                self._run_batch(batched, same)
            else:
                for job in same:
                    self._run(job)
        return len(jobs) + sum(self._sweep(sweep) for sweep in self.sweeps)

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
        while not stop.is_set():
            try:
                found = self.run_once()
            except Exception:
                log.exception("worker round failed")
                found = 0
            if not found:
                stop.wait(poll)

    def _claim(self, now: datetime) -> list[ClaimedJob]:
        with self.runtime.uow() as uow:
            jobs = service.claim_due(
                uow.session, worker=self.name, now=now, lease=self.lease, limit=self.batch
            )
            uow.commit()
        return jobs

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
            service.retry_later(
                uow.session, job=job, worker=self.name, now=self.runtime.clock.now(), error=error
            )
            uow.commit()

    def _sweep(self, sweep: Sweep) -> int:
        try:
            return sweep(self.runtime, self.runtime.clock.now())
        except Exception:
            log.exception("sweep %s failed", getattr(sweep, "__name__", sweep))
            return 0
