"""The built-in test gateway (SPEC §3).

It behaves like an external provider: its own tables, its own transactions,
idempotency keys honoured, so a retried call after a crash never charges twice.

| token                     | behaviour                                                |
| tok_success               | every charge succeeds                                    |
| tok_decline               | every charge is declined                                 |
| tok_requires_action       | off-session charges need the customer's confirmation     |
| tok_decline_after_first   | the first charge on the card succeeds, later ones decline |
| tok_error                 | the gateway fails (retryable)                             |
"""

import secrets
from datetime import UTC, datetime

from sqlalchemy import BigInteger, ForeignKey, String, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from tandem.db import Base, BigId
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

    def __init__(self, engine: Engine):
        self.engine = engine.execution_options(sqlite_begin="IMMEDIATE")

    def vault(self, *, card_token: str) -> VaultedCard:
        if card_token not in TOKENS:
            raise InvalidCard(card_token)
        with self.engine.begin() as conn:
            reference = self._new_card(conn, card_token)
        return VaultedCard(reference=reference, brand="test", last4=TOKENS[card_token])

    def authorize(self, *, source, amount, currency, idempotency_key, off_session=False):
        return self._charge("authorization", source, amount, currency, idempotency_key, off_session)

    def sale(self, *, source, amount, currency, idempotency_key, off_session=False):
        return self._charge("sale", source, amount, currency, idempotency_key, off_session)

    def capture(self, *, authorization, amount, idempotency_key):
        return self._follow_up("capture", authorization, amount, idempotency_key)

    def void(self, *, authorization, idempotency_key):
        return self._follow_up("void", authorization, 0, idempotency_key)

    def refund(self, *, charge, amount, idempotency_key):
        return self._follow_up("refund", charge, amount, idempotency_key)

    def confirm(self, *, reference, idempotency_key):
        """The customer completed the bank's challenge for a payment that required action."""
        return self._once(idempotency_key, lambda conn: self._confirm(conn, reference, idempotency_key))

    # -- internals ---------------------------------------------------------------------------

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

    def _charge(self, kind, source: PaymentSource, amount, currency, key, off_session):
        def work(conn):
            card = self._card_for(conn, source)
            if card is None:
                return self._record(
                    conn, key, kind, None, None, amount, currency, GatewayStatus.DECLINED, "unknown card"
                )
            status, message = _decide(card.token, card.charges, off_session)
            if status is GatewayStatus.SUCCEEDED:
                self._count_charge(conn, card.id)
            return self._record(conn, key, kind, card.id, None, amount, currency, status, message)

        return self._once(key, work)

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
        reference = "tx_" + secrets.token_hex(10)
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

    def _card_for(self, conn, source: PaymentSource):
        if source.vaulted_reference:
            return conn.execute(
                select(Card).where(Card.c.reference == source.vaulted_reference).with_for_update()
            ).first()
        if source.card_token not in TOKENS:
            return None
        reference = self._new_card(conn, source.card_token)
        return conn.execute(select(Card).where(Card.c.reference == reference)).first()

    def _new_card(self, conn, token: str) -> str:
        reference = "card_" + secrets.token_hex(10)
        conn.execute(insert(Card).values(reference=reference, token=token, charges=0))
        return reference

    def _count_charge(self, conn, card_id) -> None:
        conn.execute(update(Card).where(Card.c.id == card_id).values(charges=Card.c.charges + 1))


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
