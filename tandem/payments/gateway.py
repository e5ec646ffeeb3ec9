"""The payment gateway interface; order code talks only to this.

A gateway is remote and slow (100-500 ms per call), so its interface is async: the checkout
path awaits it without holding a database connection or a thread. Synchronous code (worker
jobs, admin forms) goes through `BlockingGateway`, which runs the same coroutines on one
background event loop per process.
"""

import asyncio
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


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

    async def vault(self, *, card_token: str) -> VaultedCard: ...

    async def authorize(
        self,
        *,
        source: PaymentSource,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool = False,
    ) -> GatewayResult: ...

    async def sale(
        self,
        *,
        source: PaymentSource,
        amount: int,
        currency: str,
        idempotency_key: str,
        off_session: bool = False,
    ) -> GatewayResult: ...

    async def capture(self, *, authorization: str, amount: int, idempotency_key: str) -> GatewayResult: ...

    async def void(self, *, authorization: str, idempotency_key: str) -> GatewayResult: ...

    async def refund(self, *, charge: str, amount: int, idempotency_key: str) -> GatewayResult: ...

    async def confirm(self, *, reference: str, idempotency_key: str) -> GatewayResult: ...


class BackgroundLoop:
    """One event loop thread per process, where synchronous code runs coroutines."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run `coroutine` on the loop and wait for its result (never from the loop itself)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._started()).result()

    @property
    def started(self) -> bool:
        return self._loop is not None

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=self._loop.run_forever, name="tandem-gateway", daemon=True).start()
            return self._loop

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)


class BlockingGateway:
    """The gateway for synchronous callers: same calls, awaited on the background loop."""

    def __init__(self, gateway: Gateway, loop: BackgroundLoop):
        self.inner, self.loop = gateway, loop

    @property
    def name(self) -> str:
        return self.inner.name

    def vault(self, *, card_token: str) -> VaultedCard:
        return self.loop.run(self.inner.vault(card_token=card_token))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.loop.run(coroutine)
