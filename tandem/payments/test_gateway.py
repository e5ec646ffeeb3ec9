"""The built-in test gateway (SPEC §3).

It behaves like a remote provider: its own tables, written on its own connections and never
inside Tandem's transactions; idempotency keys honoured, so a call retried after a crash gets
the original answer; `TANDEM_TEST_GATEWAY_LATENCY_MS` makes every call as slow as a real one.

A one-time card token is charged without any state: the answer depends only on the token,
and the reference only on the idempotency key. Such operations are journalled in batches
(one statement for all the calls in flight, on the calling event loop's own connection)
before they are answered.
Vaulted cards, and captures, voids, refunds and confirmations, depend on earlier operations:
they are decided in a transaction of their own.

| token                     | behaviour                                                |
| tok_success               | every charge succeeds                                    |
| tok_decline               | every charge is declined                                 |
| tok_requires_action       | off-session charges need the customer's confirmation     |
| tok_decline_after_first   | the first charge on the card succeeds, later ones decline |
| tok_error                 | the gateway fails (retryable)                             |
"""

import asyncio
import hashlib
import secrets
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import BigInteger, ForeignKey, String, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from tandem.batching import Lane
from tandem.db import Base, BigId, insert_new_rows
from tandem.payments.gateway import (
    GatewayResult,
    GatewayStatus,
    InvalidCard,
    PaymentSource,
    VaultedCard,
)

TOKENS = {
    "tok_success": "4242",
    "tok_decline": "0002",
    "tok_requires_action": "3155",
    "tok_decline_after_first": "0341",
    "tok_error": "0119",
}


class TestGatewayCard(Base):
    __test__ = False  # not a pytest test class
    __tablename__ = "testgw_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    token: Mapped[str] = mapped_column(String(40))
    charges: Mapped[int] = mapped_column(BigInteger, default=0)


class TestGatewayOperation(Base):
    __test__ = False  # not a pytest test class
    __tablename__ = "testgw_operations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("testgw_cards.id"))
    parent_reference: Mapped[str | None] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


Card = TestGatewayCard.__table__
Op = TestGatewayOperation.__table__
MONEY_TAKEN = ("sale", "capture")  # operations that can be refunded


class TestGateway:
    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(
        self, engine: Engine, journal_engines: Callable[[], AsyncEngine], *, latency_ms: float = 0.0
    ):
        self.engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self.latency = latency_ms / 1000
        self._new_engine = journal_engines
        self._journals: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def journal(self) -> "Journal":
        """The journal of the running event loop (connections belong to one loop)."""
        loop = asyncio.get_running_loop()
        journal = self._journals.get(loop)
        if journal is None:
            journal = self._journals[loop] = Journal(self._new_engine())
        return journal

    async def close_current(self) -> None:
        """Let go of the running event loop's connections (its server is stopping)."""
        journal = self._journals.pop(asyncio.get_running_loop(), None)
        if journal is not None:
            await journal.engine.dispose()

    async def vault(self, *, card_token: str) -> VaultedCard:
        if card_token not in TOKENS:
            raise InvalidCard(card_token)
        await self._travel()
        reference = await asyncio.to_thread(self._vault, card_token)
        return VaultedCard(reference=reference, brand="test", last4=TOKENS[card_token])

    async def authorize(self, *, source, amount, currency, idempotency_key, off_session=False):
        return await self._charge("authorization", source, amount, currency, idempotency_key, off_session)

    async def sale(self, *, source, amount, currency, idempotency_key, off_session=False):
        return await self._charge("sale", source, amount, currency, idempotency_key, off_session)

    async def capture(self, *, authorization, amount, idempotency_key):
        return await self._stateful(self._follow_up, "capture", authorization, amount, idempotency_key)

    async def void(self, *, authorization, idempotency_key):
        return await self._stateful(self._follow_up, "void", authorization, 0, idempotency_key)

    async def refund(self, *, charge, amount, idempotency_key):
        return await self._stateful(self._follow_up, "refund", charge, amount, idempotency_key)

    async def confirm(self, *, reference, idempotency_key):
        """The customer completed the bank's challenge for a payment that required action."""
        return await self._stateful(self._confirm_once, reference, idempotency_key)

    # -- internals ---------------------------------------------------------------------------

    async def _travel(self) -> None:
        """The round trip to a remote provider."""
        if self.latency > 0:
            await asyncio.sleep(self.latency)

    async def _charge(self, kind, source: PaymentSource, amount, currency, key, off_session):
        await self._travel()
        if source.vaulted_reference:
            return await asyncio.to_thread(
                self._once,
                key,
                lambda conn: self._charge_vaulted(conn, kind, source, amount, currency, key, off_session),
            )
        if source.card_token not in TOKENS:
            status, message = GatewayStatus.DECLINED, "unknown card"
        else:  # a one-time card is charged once: its answer depends on nothing stored
            status, message = _decide(source.card_token, 0, off_session)
        if status is GatewayStatus.ERROR:
            return GatewayResult(status, None, message)  # not remembered: a retry tries again
        operation = Operation(key, kind, None, amount, currency, status, message)
        return await self.journal().write(operation)

    async def _stateful(self, decide, *args) -> GatewayResult:
        await self._travel()
        return await asyncio.to_thread(decide, *args)

    def _vault(self, card_token: str) -> str:
        with self.engine.begin() as conn:
            return self._new_card(conn, card_token)

    def _once(self, key, work) -> GatewayResult:
        """Run `work` once per idempotency key; a concurrent duplicate gets the first result."""
        try:
            with self.engine.begin() as conn:
                if (done := self._replay(conn, key)) is not None:
                    return done
                return work(conn)
        except IntegrityError:
            with self.engine.begin() as conn:
                return self._replay(conn, key)

    def _charge_vaulted(self, conn, kind, source, amount, currency, key, off_session):
        card = conn.execute(
            select(Card).where(Card.c.reference == source.vaulted_reference).with_for_update()
        ).first()
        if card is None:
            return self._record(
                conn, key, kind, None, None, amount, currency, GatewayStatus.DECLINED, "unknown card"
            )
        status, message = _decide(card.token, card.charges, off_session)
        if status is GatewayStatus.SUCCEEDED:
            self._count_charge(conn, card.id)
        return self._record(conn, key, kind, card.id, None, amount, currency, status, message)

    def _follow_up(self, kind, parent_reference, amount, key):
        def work(conn):
            parent = self._locked_op(conn, parent_reference)
            status, message = self._check_follow_up(conn, kind, parent, amount)
            return self._record(
                conn,
                key,
                kind,
                parent.card_id if parent else None,
                parent_reference,
                amount,
                parent.currency if parent else None,
                status,
                message,
            )

        return self._once(key, work)

    def _confirm_once(self, reference, key):
        return self._once(key, lambda conn: self._confirm(conn, reference, key))

    def _confirm(self, conn, reference, key):
        pending = self._locked_op(conn, reference)
        if pending is None or pending.status != GatewayStatus.REQUIRES_ACTION.value:
            return self._record(
                conn, key, "confirm", None, reference, 0, None, GatewayStatus.DECLINED, "nothing to confirm"
            )
        conn.execute(
            update(Op)
            .where(Op.c.id == pending.id)
            .values(status=GatewayStatus.SUCCEEDED.value, message="confirmed by customer")
        )
        if pending.card_id is not None:
            self._count_charge(conn, pending.card_id)
        return self._record(
            conn,
            key,
            "confirm",
            pending.card_id,
            reference,
            pending.amount,
            pending.currency,
            GatewayStatus.SUCCEEDED,
            "confirmed",
        )

    def _locked_op(self, conn, reference):
        return conn.execute(select(Op).where(Op.c.reference == reference).with_for_update()).first()

    def _check_follow_up(self, conn, kind, parent, amount):
        if parent is None or parent.status != GatewayStatus.SUCCEEDED.value:
            return GatewayStatus.DECLINED, "no such successful payment"
        children = conn.execute(
            select(Op.c.kind, Op.c.amount).where(
                Op.c.parent_reference == parent.reference,
                Op.c.status == GatewayStatus.SUCCEEDED.value,
            )
        ).all()
        refunded = sum(a for k, a in children if k == "refund")
        if kind in ("capture", "void"):
            settled = any(k in ("capture", "void") for k, _ in children)
            if parent.kind != "authorization" or settled:
                return GatewayStatus.DECLINED, "authorization already settled"
            if kind == "capture" and not 0 < amount <= parent.amount:
                return GatewayStatus.DECLINED, "amount exceeds the authorization"
            return GatewayStatus.SUCCEEDED, "voided" if kind == "void" else "captured"
        refundable = parent.amount - refunded if parent.kind in MONEY_TAKEN else 0
        if not 0 < amount <= refundable:
            return GatewayStatus.DECLINED, "amount exceeds what can be refunded"
        return GatewayStatus.SUCCEEDED, "refunded"

    def _replay(self, conn, key) -> GatewayResult | None:
        row = conn.execute(select(Op).where(Op.c.idempotency_key == key)).first()
        if row is None:
            return None
        return GatewayResult(GatewayStatus(row.status), row.reference, row.message)

    def _record(self, conn, key, kind, card_id, parent, amount, currency, status, message):
        if status is GatewayStatus.ERROR:
            # Errors are not remembered: retrying the same key tries again.
            return GatewayResult(status, None, message)
        reference = reference_for(key)
        conn.execute(
            insert(Op).values(
                idempotency_key=key,
                kind=kind,
                card_id=card_id,
                parent_reference=parent,
                reference=reference,
                amount=amount,
                currency=currency,
                status=status.value,
                message=message,
                created_at=datetime.now(UTC),
            )
        )
        return GatewayResult(status, reference, message)

    def _new_card(self, conn, token: str) -> str:
        reference = "card_" + secrets.token_hex(10)
        conn.execute(insert(Card).values(reference=reference, token=token, charges=0))
        return reference

    def _count_charge(self, conn, card_id) -> None:
        conn.execute(update(Card).where(Card.c.id == card_id).values(charges=Card.c.charges + 1))


def reference_for(key: str) -> str:
    """The same call (idempotency key) always gets the same reference, even after a crash."""
    return "tx_" + hashlib.sha256(key.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Operation:
    key: str
    kind: str
    parent_reference: str | None
    amount: int
    currency: str | None
    status: GatewayStatus
    message: str

    def row(self, now: datetime) -> dict:
        return {
            "idempotency_key": self.key,
            "kind": self.kind,
            "card_id": None,
            "parent_reference": self.parent_reference,
            "reference": reference_for(self.key),
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status.value,
            "message": self.message,
            "created_at": now,
        }


class Journal:
    """The operations of every call in flight, written with one statement and answered once
    written (a remote provider records what it did before it says so)."""

    def __init__(self, engine: AsyncEngine):
        postgres = engine.dialect.name == "postgresql"
        # PostgreSQL: one statement per batch, atomic by itself, without BEGIN and COMMIT round trips.
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT") if postgres else engine
        self.lane = Lane("gateway", self._write)

    async def write(self, operation: Operation) -> GatewayResult:
        return await self.lane.submit(operation)

    async def _write(self, operations: list[Operation]) -> list[GatewayResult]:
        async with self.engine.begin() as conn:
            return await conn.run_sync(lambda sync: _journalled(sync, operations))


def _journalled(conn, operations: list[Operation]) -> list[GatewayResult]:
    now = datetime.now(UTC)
    unique = {op.key: op for op in operations}
    rows = [op.row(now) for op in unique.values()]
    new = insert_new_rows(conn, Op, rows, keys=("idempotency_key",), returning=("idempotency_key",))
    written = {row.idempotency_key for row in new}
    known = {}
    if len(written) < len(unique):  # replays of calls answered before: the stored answer
        rows = conn.execute(
            select(Op.c.idempotency_key, Op.c.status, Op.c.reference, Op.c.message).where(
                Op.c.idempotency_key.in_(set(unique) - written)
            )
        )
        known = {
            r.idempotency_key: GatewayResult(GatewayStatus(r.status), r.reference, r.message) for r in rows
        }
    return [
        known.get(op.key) or GatewayResult(op.status, reference_for(op.key), op.message) for op in operations
    ]


def _decide(token: str, previous_charges: int, off_session: bool) -> tuple[GatewayStatus, str]:
    if token == "tok_decline":
        return GatewayStatus.DECLINED, "card declined"
    if token == "tok_error":
        return GatewayStatus.ERROR, "gateway unavailable, try again"
    if token == "tok_decline_after_first" and previous_charges >= 1:
        return GatewayStatus.DECLINED, "card declined"
    if token == "tok_requires_action" and off_session:
        return GatewayStatus.REQUIRES_ACTION, "customer confirmation required"
    return GatewayStatus.SUCCEEDED, "approved"
