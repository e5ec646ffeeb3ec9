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

from sqlalchemy import BigInteger, Integer, String, Text, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tandem import liveness
from tandem.db import insert_new_rows, rows_table
from tandem.errors import Conflict, InvalidInput
from tandem.idempotency.domain import KeyStatus
from tandem.idempotency.models import IdempotencyRecord

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


def claim(runtime, *, store_id: int, key: str, fingerprint: str) -> Claim | StoredResponse:
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


def _try_claim(runtime, store_id: int, key: str, fingerprint: str):
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


def finish(runtime, claim: Claim, *, status: int, body: str) -> None:
    with runtime.uow() as uow:
        uow.session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.id == claim.record_id, IdempotencyRecord.owner == claim.owner)
            .values(status=KeyStatus.FINISHED.value, response_status=status, response_body=body)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def abandon(runtime, claim: Claim) -> None:
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


def purge_old(runtime, now: datetime) -> int:
    """Sweep: keys are remembered for 24 hours."""
    with runtime.uow() as uow:
        result = uow.session.execute(
            delete(IdempotencyRecord)
            .where(IdempotencyRecord.created_at < now - RETENTION)
            .execution_options(synchronize_session=False)
        )
        uow.commit()
    return result.rowcount


# -- in batches, inside the transactions of the batched checkout path ----------------------------


class InProgress:
    """Another request holds the key: wait for its response (wait_for_response)."""


IN_PROGRESS = InProgress()
Outcome = Claim | StoredResponse | InProgress | InvalidInput


def claim_many(
    session: Session, requests: list[tuple[int, str, str]], now: datetime, *, process: str | None = None
) -> list[Outcome]:
    """Claim (store_id, key, fingerprint) keys in the caller's transaction, with one statement
    for the new ones; the claim commits with the request's first effect. Claims name the
    `process` (tandem.liveness): a key whose process died is taken over without waiting."""
    outcomes: list[Outcome | None] = [None] * len(requests)
    leaders: dict[tuple[int, str], int] = {}
    for index, (store_id, key, fingerprint) in enumerate(requests):
        if not 1 <= len(key) <= 255:
            outcomes[index] = InvalidInput("Idempotency-Key", "must be 1 to 255 characters")
        elif (store_id, key) in leaders:  # the same key twice in one batch: the second waits
            same = requests[leaders[(store_id, key)]][2] == fingerprint
            outcomes[index] = IN_PROGRESS if same else _reused()
        else:
            leaders[(store_id, key)] = index
    owners = {index: _owner(process) for index in leaders.values()}
    rows = [
        {
            "store_id": requests[i][0],
            "key": requests[i][1],
            "fingerprint": requests[i][2],
            "status": KeyStatus.STARTED.value,
            "owner": owners[i],
            "lease_until": now + LEASE,
            "created_at": now,
        }
        for i in leaders.values()
    ]
    if rows:
        for record_id, store_id, key in _insert_new(session, rows):
            index = leaders.pop((store_id, key))
            outcomes[index] = Claim(record_id, owners[index])
    for (store_id, key), index in leaders.items():  # keys already known
        outcomes[index] = _existing(session, store_id, key, requests[index][2], now, process)
    return outcomes


def _insert_new(session: Session, rows: list[dict]):
    return insert_new_rows(
        session,
        IdempotencyRecord.__table__,
        rows,
        keys=("store_id", "key"),
        returning=("id", "store_id", "key"),
    )


def _existing(
    session: Session, store_id: int, key: str, fingerprint: str, now: datetime, process: str | None
) -> Outcome:
    record = session.scalar(
        select(IdempotencyRecord)
        .where(IdempotencyRecord.store_id == store_id, IdempotencyRecord.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if record.fingerprint != fingerprint:
        return _reused()
    if record.status == KeyStatus.FINISHED:
        return StoredResponse(record.response_status, record.response_body)
    if record.lease_until > now and not _holder_died(session, record.owner, now):
        return IN_PROGRESS
    if record.status == KeyStatus.APPLIED:
        return APPLIED_WITHOUT_RESPONSE
    record.owner, record.lease_until = _owner(process), now + LEASE  # its request died
    session.flush()
    return Claim(record.id, record.owner)


def _holder_died(session: Session, owner: str, now: datetime) -> bool:
    process, _, _ = owner.rpartition("/")
    return liveness.is_dead(session, process, now)


def _reused() -> InvalidInput:
    return InvalidInput("Idempotency-Key", "was already used for a different request")


def finish_many(session: Session, finished: list[tuple[Claim, int, str]]) -> bool:
    """Store the responses with the effects they answer for (same transaction); False if
    another request took a key over meanwhile (the caller rolls back)."""
    if not finished:
        return True
    return len(session.connection().execute(_finishing(session, finished)).all()) == len(finished)


def finish_later(uow, finished: list[tuple[Claim, int, str]], refused: type[Exception]) -> None:
    """finish_many, sent with the transaction's writes; `refused` is raised then if another
    request took a key over meanwhile."""
    if finished:
        uow.writes.add(_finishing(uow.session, finished), expect=len(finished), refused=refused)


def _finishing(session: Session, finished: list[tuple[Claim, int, str]]):
    table = IdempotencyRecord.__table__
    done = rows_table(
        session,
        "done",
        [("id", BigInteger), ("owner", String), ("response_status", Integer), ("response_body", Text)],
        [(claim.record_id, claim.owner, status, body) for claim, status, body in finished],
    )
    return (
        update(table)
        .where(
            table.c.id == done.c.id, table.c.owner == done.c.owner, table.c.status == KeyStatus.STARTED.value
        )
        .values(
            status=KeyStatus.FINISHED.value,
            response_status=done.c.response_status,
            response_body=done.c.response_body,
        )
        .returning(table.c.id)
    )


def peek(session: Session, *, store_id: int, key: str, now: datetime) -> StoredResponse | InProgress | None:
    """A waiting request looks (without locking): the response, IN_PROGRESS while the holder
    runs, None when the key is free to claim again (gone, or its holder's lease ran out)."""
    row = session.execute(
        select(
            IdempotencyRecord.status,
            IdempotencyRecord.owner,
            IdempotencyRecord.lease_until,
            IdempotencyRecord.response_status,
            IdempotencyRecord.response_body,
        ).where(IdempotencyRecord.store_id == store_id, IdempotencyRecord.key == key)
    ).first()
    if row is None:
        return None
    if row.status == KeyStatus.FINISHED:
        return StoredResponse(row.response_status, row.response_body)
    alive = row.lease_until > now and not _holder_died(session, row.owner, now)
    return IN_PROGRESS if alive else None


def _owner(process: str | None = None) -> str:
    """A request's claim: its own token, after its process's name when it has one."""
    return f"{process}/{secrets.token_hex(8)}" if process else secrets.token_hex(16)
