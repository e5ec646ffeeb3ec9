"""Order numbers per store: taken in the transaction that places the orders, so they have
no gaps; a batch of orders takes all its numbers with one statement."""

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tandem.stores.models import Counter

FIRST_ORDER_NUMBER = 1001


def take(session: Session, store_id: int, count: int, name: str = "order") -> int:
    """Reserve `count` consecutive numbers; returns the first."""
    table = Counter.__table__
    key = (table.c.store_id == store_id) & (table.c.name == name)
    taking = (
        update(table).where(key).values(next_value=table.c.next_value + count).returning(table.c.next_value)
    )
    end = session.connection().execute(taking).scalar()
    if end is None:  # the store's first order: create its counter (a concurrent one waits on the key)
        insert_into = postgres_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.connection().execute(
            insert_into(table)
            .values(store_id=store_id, name=name, next_value=FIRST_ORDER_NUMBER)
            .on_conflict_do_nothing(index_elements=["store_id", "name"])
        )
        end = session.connection().execute(taking).scalar()
    return end - count
