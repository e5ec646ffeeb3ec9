"""A lane: concurrent requests of one event loop share one piece of work.

Requests queue on a lane; whenever it is free it takes everything waiting (at most
`max_batch`) as one batch. A batch forms from whatever is waiting, with no delay: at low
load a request runs alone, at once; at high load one unit of work (a transaction, a
gateway's write) serves many requests. Used by the checkout path (tandem.checkout.lanes)
and the test gateway's journal.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from tandem import metrics

log = logging.getLogger(__name__)
MAX_BATCH = 128


class Lane:
    """Requests wait here; one batch at a time runs `work` (a list in, a list of results out)."""

    def __init__(self, name: str, work: Callable[[list], Awaitable[list]], max_batch: int = MAX_BATCH):
        self.work, self.max_batch = work, max_batch
        self.size = metrics.BATCH_SIZE.labels(name)
        self.seconds = metrics.BATCH_SECONDS.labels(name)
        self._waiting: list[tuple[Any, asyncio.Future]] = []
        self._running = False

    async def submit(self, item: Any) -> Any:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if not self._running:
            self._running = True
            asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._waiting:
                await asyncio.sleep(0)  # requests already in hand reach the lane first: no delay
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                await self._run(batch)
        finally:
            self._running = False

    async def _run(self, batch: list[tuple[Any, asyncio.Future]]) -> None:
        self.size.observe(len(batch))
        try:
            with self.seconds.time():
                results = await self.work([item for item, _ in batch])
        except Exception as exc:  # noqa: BLE001 - a request the batch code did not expect
            if len(batch) == 1:
                if not batch[0][1].done():
                    batch[0][1].set_exception(exc)
                return
            log.exception("a batch of %d failed; its requests run one by one", len(batch))
            for one in batch:  # so one bad request cannot fail the others
                await self._run([one])
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
