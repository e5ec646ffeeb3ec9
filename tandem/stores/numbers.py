"""Order numbers per store, handed out in blocks so the counter row is not a hot spot.

Each process takes BLOCK numbers at a time in its own short transaction; numbers
stay unique and increasing per process, with gaps after a restart.
"""

import threading

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from tandem.stores.models import Counter

FIRST_ORDER_NUMBER = 1001


class NumberAllocator:
    def __init__(self, engine: Engine, block: int = 20):
        self.engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self.block = block
        self._lock = threading.Lock()
        self._ranges: dict[tuple[int, str], tuple[int, int]] = {}

    def next(self, store_id: int, name: str = "order") -> int:
        """Call outside any open write transaction (SQLite has one writer)."""
        with self._lock:
            start, end = self._ranges.get((store_id, name), (0, 0))
            if start >= end:
                start, end = self._take_block(store_id, name)
            self._ranges[(store_id, name)] = (start + 1, end)
            return start

    def _take_block(self, store_id: int, name: str) -> tuple[int, int]:
        table = Counter.__table__
        key = (table.c.store_id == store_id) & (table.c.name == name)
        for _ in range(2):
            with self.engine.begin() as conn:
                start = conn.execute(
                    update(table)
                    .where(key)
                    .values(next_value=table.c.next_value + self.block)
                    .returning(table.c.next_value - self.block)
                ).scalar()
                if start is not None:
                    return start, start + self.block
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(table).values(store_id=store_id, name=name, next_value=FIRST_ORDER_NUMBER)
                    )
            except IntegrityError:
                pass  # another process created it first
        raise RuntimeError("could not allocate an order number")
