"""The payment gateway interface; order code talks only to this."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class GatewayStatus(StrEnum):
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    REQUIRES_ACTION = "requires_action"  # the bank wants the customer to confirm (3-D Secure)
    ERROR = "error"  # the gateway failed; the same call may succeed later


@dataclass(frozen=True)
class GatewayResult:
    status: GatewayStatus
    reference: str | None = None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status is GatewayStatus.SUCCEEDED


@dataclass(frozen=True)
class VaultedCard:
    reference: str
    brand: str
    last4: str


@dataclass(frozen=True)
class PaymentSource:
    """What to charge: a one-time card token or a card vaulted at the gateway."""

    card_token: str | None = None
    vaulted_reference: str | None = None


class InvalidCard(Exception):
    """The gateway does not know this card token."""


class Gateway(Protocol):
    name: str

    def vault(self, *, card_token: str) -> VaultedCard: ...

    def authorize(
        self,
        *,
        source: PaymentSource,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool = False,
    ) -> GatewayResult: ...

    def sale(
        self,
        *,
        source: PaymentSource,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool = False,
    ) -> GatewayResult: ...

    def capture(self, *, authorization: str, amount: int, idempotency_key: str) -> GatewayResult: ...

    def void(self, *, authorization: str, idempotency_key: str) -> GatewayResult: ...

    def refund(self, *, charge: str, amount: int, idempotency_key: str) -> GatewayResult: ...

    def confirm(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...
