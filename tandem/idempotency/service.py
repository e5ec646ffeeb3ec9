"""Idempotency-Key handling for POSTs that move money or stock.

The key is claimed in its own short transaction; the claim is bound ("applied")
inside the transaction that commits the request's effect, so an effect and its
key commit together; the response is stored right after and replayed to every
retry. A concurrent retry waits for the first request and gets its response.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tandem.errors import Conflict, InvalidInput
from tandem.idempotency.domain import KeyStatus
from tandem.idempotency.models import IdempotencyRecord
from tandem.runtime import Runtime

LEASE = timedelta(seconds=60)
RETENTION = timedelta(hours=24)
WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class StoredResponse:
    status: int
    body: str


@dataclass(frozen=True)
class Claim:
    record_id: int
    owner: str

    def bind(self, session: Session) -> None:
        """Before-commit hook: the effect commits only if this request still owns the key."""
        result = session.execute(
            update(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == self.record_id,
                IdempotencyRecord.owner == self.owner,
                IdempotencyRecord.status == KeyStatus.STARTED.value,
            )
            .values(status=KeyStatus.APPLIED.value)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise Conflict(
                "another request with this Idempotency-Key took over", code="idempotency_key_in_use"
            )


APPLIED_WITHOUT_RESPONSE = StoredResponse(
    409,
    (
        '{"error": {"code": "idempotent_request_applied", "message": "A request with this '
        "Idempotency-Key was applied but its response was not recorded (the server stopped). "
        'Read the resource to see its state."}}'
    ),
)


def claim(runtime: Runtime, *, store_id: int, key: str, fingerprint: str) -> Claim | StoredResponse:
    """Claim the key for this request, or return the response a previous one got."""
    if not 1 <= len(key) <= 255:
        raise InvalidInput("Idempotency-Key", "must be 1 to 255 characters")
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        outcome = _try_claim(runtime, store_id, key, fingerprint)
        if outcome is not None:
            return outcome
        time.sleep(0.02)
    raise Conflict("a request with this Idempotency-Key is still in progress", code="idempotency_key_in_use")


def _try_claim(runtime: Runtime, store_id: int, key: str, fingerprint: str):
    now = runtime.clock.now()
    with runtime.uow() as uow:
        record = uow.session.scalar(
            select(IdempotencyRecord)
            .where(IdempotencyRecord.store_id == store_id, IdempotencyRecord.key == key)
            .with_for_update()
        )
        if record is None:
            return _insert(uow, store_id, key, fingerprint, now)
        if record.fingerprint != fingerprint:
            raise InvalidInput("Idempotency-Key", "was already used for a different request")
        if record.status == KeyStatus.FINISHED:
            return StoredResponse(record.response_status, record.response_body)
        if record.lease_until > now:
            return None  # the first request is still running: wait for it
        if record.status == KeyStatus.APPLIED:
            return APPLIED_WITHOUT_RESPONSE
        record.owner, record.lease_until = _owner(), now + LEASE  # its request died
        uow.commit()
        return Claim(record.id, record.owner)


def _insert(uow, store_id: int, key: str, fingerprint: str, now: datetime) -> Claim | None:
    record = IdempotencyRecord(
        store_id=store_id,
        key=key,
        fingerprint=fingerprint,
        status=KeyStatus.STARTED.value,
        owner=_owner(),
        lease_until=now + LEASE,
        created_at=now,
    )
    uow.session.add(record)
    try:
        uow.commit()
    except IntegrityError:
        return None  # a concurrent request inserted it first
    return Claim(record.id, record.owner)


def finish(runtime: Runtime, claim: Claim, *, status: int, body: str) -> None:
    with runtime.uow() as uow:
        uow.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == claim.record_id, IdempotencyRecord.owner == claim.owner)
            .values(status=KeyStatus.FINISHED.value, response_status=status, response_body=body)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def abandon(runtime: Runtime, claim: Claim) -> None:
    """The request failed unexpectedly before applying anything: free the key for a retry."""
    with runtime.uow() as uow:
        uow.session.execute(
            delete(IdempotencyRecord)
            .where(
                IdempotencyRecord.id == claim.record_id,
                IdempotencyRecord.owner == claim.owner,
                IdempotencyRecord.status == KeyStatus.STARTED.value,
            )
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def purge_old(runtime: Runtime, now: datetime) -> int:
    """Sweep: keys are remembered for 24 hours."""
    with runtime.uow() as uow:
        result = uow.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at < now - RETENTION)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    return result.rowcount


def _owner() -> str:
    return secrets.token_hex(16)
