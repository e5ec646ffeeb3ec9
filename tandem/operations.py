"""What operators ask of the service: is it ready (database reachable, schema current), and how
are its queues (worker jobs, outbox) — read from the database when /readyz or /metrics is asked."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from tandem.metrics import UNCOUNTED
from tandem.migrate import head_revision
from tandem.notifications.domain import DeliveryStatus, EmailStatus
from tandem.notifications.models import Email, WebhookDelivery
from tandem.worker.domain import JobStatus
from tandem.worker.models import Job


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str | None = None
    revision: str | None = None


@cache
def _head() -> str:
    return head_revision()


def readiness(engine: Engine) -> Readiness:
    """Ready when the database answers and its schema is at the migrations' head."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect().execution_options(**UNCOUNTED) as connection:
            connection.execute(text("SELECT 1"))
            revision = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        return Readiness(False, f"database unreachable: {type(exc.orig or exc).__name__}")
    if revision != _head():
        return Readiness(False, f"database schema at {revision}, expected {_head()}: run `tandem db upgrade`")
    return Readiness(True, revision=revision)


@dataclass(frozen=True)
class QueueFigures:
    jobs_due: int
    jobs_running: int
    jobs_failed: int
    oldest_due_seconds: float
    outbox_failed: dict[str, int]
    outbox_retrying: dict[str, int]


def queue_figures(session: Session, now: datetime) -> QueueFigures:
    session.connection(execution_options=UNCOUNTED)
    due = session.execute(
        select(func.count(), func.min(Job.run_at)).where(Job.status == JobStatus.PENDING, Job.run_at <= now)
    ).one()
    counts = dict(
        session.execute(
            select(Job.status, func.count())
            .where(Job.status.in_((JobStatus.RUNNING, JobStatus.FAILED)))
            .group_by(Job.status)
        ).all()
    )
    return QueueFigures(
        jobs_due=due[0],
        jobs_running=counts.get(JobStatus.RUNNING, 0),
        jobs_failed=counts.get(JobStatus.FAILED, 0),
        oldest_due_seconds=max((now - due[1]).total_seconds(), 0.0) if due[1] else 0.0,
        outbox_failed={
            "email": _count(session, Email, Email.status == EmailStatus.FAILED),
            "webhook": _count(session, WebhookDelivery, WebhookDelivery.status == DeliveryStatus.FAILED),
        },
        outbox_retrying={
            "email": _count(session, Email, Email.status == EmailStatus.PENDING, Email.attempts > 0),
            "webhook": _count(
                session,
                WebhookDelivery,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.attempts > 0,
            ),
        },
    )


def _count(session: Session, model, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
