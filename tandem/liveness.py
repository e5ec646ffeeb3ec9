"""Which processes are alive, so work a dead one left behind is taken over in seconds.

Every API and worker process has an owner name and beats (one UPDATE per second). A row a
process locked (a payment in flight, an Idempotency-Key) names its owner; once the owner's
beat is older than STALE_AFTER, the row is taken over at once instead of when its lease runs
out (minutes). Rows of processes that never beat (scripts, tests) keep the lease alone.
"""

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import String, delete, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base

log = logging.getLogger(__name__)
BEAT_SECONDS = 1.0
STALE_AFTER = timedelta(seconds=10)


class ProcessBeat(Base):
    __tablename__ = "process_beats"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]


def new_owner() -> str:
    """A name unique to this process's life: host, pid, and a random part (pids are reused)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def dead_owners(now: datetime):
    """A subquery: owners whose last beat is too old."""
    return select(ProcessBeat.owner).where(ProcessBeat.beat_at < now - STALE_AFTER)


def is_dead(session, owner: str | None, now: datetime) -> bool:
    if not owner:
        return False
    beat = session.scalar(select(ProcessBeat.beat_at).where(ProcessBeat.owner == owner))
    return beat is not None and beat < now - STALE_AFTER


BeatTask = Callable[[Connection, datetime], None]


class Heartbeat:
    """Beats for `owner` in a thread until stopped; a clean stop removes the row (its rows
    are then taken over at once). Tasks added with `also` run after each beat (e.g. the
    worker renewing the leases of the jobs it holds), each in its own transaction."""

    def __init__(self, engine: Engine, owner: str, now: Callable[[], datetime]):
        self.engine, self.owner, self.now = engine, owner, now
        self.tasks: list[BeatTask] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def also(self, task: BeatTask) -> None:
        self.tasks.append(task)

    def drop(self, task: BeatTask) -> None:
        if task in self.tasks:
            self.tasks.remove(task)

    def start(self) -> None:
        self._beat(first=True)
        self._thread = threading.Thread(target=self._run, name="tandem-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self.engine.begin() as conn:
            conn.execute(delete(ProcessBeat).where(ProcessBeat.owner == self.owner))

    def _run(self) -> None:
        while not self._stop.wait(BEAT_SECONDS):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - a missed beat is retried; the database may be back soon
                log.warning("heartbeat of %s failed", self.owner, exc_info=True)

    def _beat(self, first: bool = False) -> None:
        now = self.now()
        with self.engine.begin() as conn:
            if first:
                conn.execute(
                    ProcessBeat.__table__.insert().values(owner=self.owner, started_at=now, beat_at=now)
                )
            else:
                conn.execute(update(ProcessBeat).where(ProcessBeat.owner == self.owner).values(beat_at=now))
        for task in list(self.tasks):
            with self.engine.begin() as conn:
                task(conn, now)
