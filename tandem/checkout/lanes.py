"""The API's checkout path: concurrent buyers in this process share the database work.

Each step is a lane. Requests queue on it; whenever the lane is free it takes everything
waiting (at most MAX_BATCH) as one batch and runs it in one transaction. A batch forms from
whatever is waiting, with no delay: at low load a request runs alone, at once; at high load
one transaction serves many buyers. The lanes run on the async engine (psycopg's async mode,
or aiosqlite); the batch code itself is the synchronous code of checkout.reserving and
checkout.completing, run through SQLAlchemy's greenlet bridge, so a connection is held only
while a batch's statements run, never while the gateway works.

    create:   reserving lane (reserve stock)                         -> checkout
    complete: beginning lane (step 1) -> gateway -> settling lane (step 3) -> order

On SQLite one writer at a time (a lock shared by the lanes): the batches are its group
commits.
"""

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import async_sessionmaker

from tandem import metrics
from tandem.batching import Lane
from tandem.checkout import completing
from tandem.checkout.completing import Answer, Completion, KeyTakenOver, Paying, SettledElsewhere, Wait
from tandem.checkout.records import CheckoutRecord
from tandem.checkout.reserving import CheckoutRequest, NewCheckout, check_request, needs_vaulting, reserve_all
from tandem.checkout.service import settle_one
from tandem.db import UnitOfWork, make_async_engine
from tandem.errors import Conflict, InvalidInput, TandemError
from tandem.idempotency import service as idempotency
from tandem.payments import service as payments
from tandem.payments.gateway import InvalidCard
from tandem.timeline.domain import SYSTEM

T = TypeVar("T")
log = logging.getLogger(__name__)
KEY_WAIT_SECONDS = 30.0
KEY_POLL_SECONDS = 0.02


class CheckoutLanes:
    """The lanes of one event loop, and the async engine they share."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.engine = make_async_engine(runtime.settings)
        metrics.count_database_work(self.engine.sync_engine, role=runtime.role)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.readers = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )
        self._writer = asyncio.Lock() if runtime.settings.is_sqlite else None
        self.reserving = Lane("reserve", self._reserve)
        self.beginning = Lane("begin", self._begin)
        self.settling = Lane("settle", self._settle)

    async def close(self) -> None:
        await self.engine.dispose()

    # -- the two requests ---------------------------------------------------------------------

    async def create(self, store_id: int, request: CheckoutRequest) -> CheckoutRecord:
        check_request(request)
        card = None
        if needs_vaulting(request):
            try:
                card = await self.runtime.gateway.vault(card_token=request.card_token)
            except InvalidCard:
                raise InvalidInput("card_token", "unknown card token") from None
        outcome = await self.reserving.submit(NewCheckout(store_id, request, card))
        if isinstance(outcome, TandemError):
            raise outcome
        return outcome

    async def complete(self, completion: Completion) -> Answer:
        give_up = time.monotonic() + KEY_WAIT_SECONDS
        while True:
            begun = await self.beginning.submit(completion)
            if isinstance(begun, Answer):
                return begun
            if not isinstance(begun, Wait):
                return await self._pay(begun)
            if (answer := await self._await_key(completion, give_up)) is not None:
                return answer

    async def _pay(self, paying: Paying) -> Answer:
        if paying.call is not None:  # no transaction is open while the gateway works
            paying.result = await payments.perform_async(self.runtime.gateway, paying.call)
        return await self.settling.submit(paying)

    async def _await_key(self, completion: Completion, give_up: float) -> Answer | None:
        """Another request holds the key: its stored response, or None to claim it again
        (its holder died and the lease ran out)."""
        while time.monotonic() < give_up:
            await asyncio.sleep(KEY_POLL_SECONDS)
            now = self.runtime.clock.now()
            state = await self._read(
                lambda s, now=now: idempotency.peek(
                    s, store_id=completion.store_id, key=completion.key, now=now
                )
            )
            if isinstance(state, idempotency.StoredResponse):
                return Answer(state.status, state.body, replayed=True)
            if state is None:
                return None
        return Answer.of_error(
            Conflict(
                "a request with this Idempotency-Key is still in progress", code="idempotency_key_in_use"
            )
        )

    # -- the batches --------------------------------------------------------------------------

    async def _reserve(self, batch: list[NewCheckout]) -> list:
        now = self.runtime.clock.now()
        return await self._transaction(lambda uow: reserve_all(uow, batch, now))

    async def _begin(self, batch: list[Completion]) -> list:
        now = self.runtime.clock.now()
        return await self._transaction(lambda uow: _committed(uow, completing.begin(uow, batch, now)))

    async def _settle(self, batch: list[Paying]) -> list[Answer]:
        now = self.runtime.clock.now()
        answers, reversals = await self._transaction(lambda uow: _settled_together(uow, batch, now))
        if answers is None:  # someone else settled one of them: one by one, to tell who
            answers, reversals = [], []
            for paying in batch:
                answer, undo = await self._transaction(lambda uow, p=paying: settle_one(uow, p, now))
                answers.append(answer)
                reversals += undo
        await asyncio.gather(*(self._reverse(call, now) for call in reversals))
        metrics.CHECKOUTS_COMPLETED.inc(sum(1 for answer in answers if answer.order_id is not None))
        return answers

    async def _reverse(self, call: payments.GatewayCall, now: datetime) -> None:
        """Give back a payment whose units sold out while the gateway worked."""
        result = await payments.perform_async(self.runtime.gateway, call)
        await self._transaction(
            lambda uow: payments.finish(uow, call, result, actor=SYSTEM, now=now, by_worker=False)
        )

    async def _transaction(self, work: Callable[[UnitOfWork], T]) -> T:
        async with self._writing(), self.sessions() as session:
            return await session.run_sync(lambda sync: work(UnitOfWork(sync, self.runtime.ports())))

    async def _read(self, work: Callable[[Any], T]) -> T:
        async with self.readers() as session:
            return await session.run_sync(work)

    def _writing(self):
        return self._writer if self._writer is not None else contextlib.nullcontext()


def _committed(uow: UnitOfWork, results: list) -> list:
    uow.commit()
    return results


def _settled_together(uow: UnitOfWork, batch: list[Paying], now: datetime):
    try:
        answers, reversals = completing.settle(uow, batch, now)
    except (SettledElsewhere, KeyTakenOver):
        uow.rollback()
        return None, None
    uow.commit()
    return answers, reversals


class LanesByLoop:
    """One CheckoutLanes per event loop serving the app (uvicorn's, a test client's)."""

    def __init__(self, runtime):
        self.runtime = runtime
        self._lanes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def current(self) -> CheckoutLanes:
        loop = asyncio.get_running_loop()
        lanes = self._lanes.get(loop)
        if lanes is None:
            lanes = self._lanes[loop] = CheckoutLanes(self.runtime)
        return lanes

    async def close_current(self) -> None:
        lanes = self._lanes.pop(asyncio.get_running_loop(), None)
        if lanes is not None:
            await lanes.close()
