"""Database plumbing: declarative base, engines for SQLite and PostgreSQL, the unit of work."""

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Integer,
    MetaData,
    Text,
    any_,
    bindparam,
    cast,
    column,
    create_engine,
    event,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    values,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tandem.metrics import count_database_work
from tandem.ports import Ports
from tandem.settings import Settings

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer, "sqlite")


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on both databases (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def make_engine(settings: Settings, *, pool_size: int | None = None) -> Engine:
    """An engine tuned for the configured database."""
    if settings.is_sqlite:
        engine = create_engine(
            settings.sqlalchemy_url, pool_size=pool_size or 20, max_overflow=20, json_serializer=_json
        )
        _tune_sqlite(engine)
        return engine
    size = pool_size or settings.database_pool_size
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=size,
        max_overflow=size * 2,
        pool_pre_ping=True,
        pool_recycle=1800,
        json_serializer=_json,
    )


def make_async_engine(settings: Settings, *, pool_size: int = 6) -> AsyncEngine:
    """The checkout path's engine: asyncpg, or aiosqlite (a thread per connection). asyncpg,
    not psycopg's async mode: it speaks PostgreSQL's protocol from its own asyncio protocol in
    C, where psycopg waits on every statement through Python generators; measured on the
    batched checkout, 15 % less CPU per checkout."""
    if settings.is_sqlite:
        url = settings.sqlalchemy_url.replace("sqlite://", "sqlite+aiosqlite://", 1)
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=4, json_serializer=_json)
        _tune_sqlite(engine.sync_engine)
        return engine
    return create_async_engine(
        settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql+asyncpg://", 1),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        json_serializer=_json,
    )


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=60000",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A write transaction takes the write lock up front, so two writers never
        # deadlock upgrading shared locks (SQLite would fail at once, not wait).
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


# -- statements for batches: their SQL text does not depend on the number of rows -------------
# On PostgreSQL rows travel as one array per column (unnest), so a statement is parsed and
# planned once and every batch reuses it; SQLite gets plain multi-row VALUES.


def insert_rows(session: Session, table, rows: list[dict]) -> list[int]:
    """Insert many rows (dicts with the same keys) with one statement; their ids, in order."""
    if not rows:
        return []
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        ids = connection.execute(_json_insert(table, tuple(rows[0])), {"rows": _json(rows)}).scalars()
    else:
        ids = connection.execute(insert(table).returning(table.c.id), rows).scalars()
    # One statement numbers its rows in the order given (an ascending sequence; SQLite's one writer).
    return sorted(ids)


def insert_new_rows(target, table, rows: list[dict], *, keys: tuple[str, ...], returning: tuple[str, ...]):
    """Insert the rows whose `keys` are not taken yet, with one statement; the new rows'
    `returning` columns, in no particular order."""
    if not rows:
        return []
    connection = target.connection() if isinstance(target, Session) else target
    if connection.dialect.name == "postgresql":
        statement = _json_insert(table, tuple(rows[0]), keys, returning)
        return connection.execute(statement, {"rows": _json(rows)}).all()
    statement = (
        sqlite_insert(table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*(table.c[name] for name in returning))
    )
    return connection.execute(statement, rows).all()


@functools.cache
def _json_insert(
    table, columns: tuple[str, ...], keys: tuple[str, ...] = (), returning: tuple[str, ...] = ("id",)
):
    """PostgreSQL reads the rows from one JSON document into the table's own row type."""
    names = ", ".join(f'"{c}"' for c in columns)
    quoted_keys = ", ".join(f'"{k}"' for k in keys)
    skip = f" ON CONFLICT ({quoted_keys}) DO NOTHING" if keys else ""
    return text(
        f'INSERT INTO "{table.name}" ({names}) SELECT {names} '
        f'FROM json_populate_recordset(NULL::"{table.name}", :rows){skip} RETURNING {", ".join(returning)}'
    )


def next_ids(session: Session, counts: dict) -> dict:
    """Ids for the rows a batch is about to insert, taken with one statement before they are
    written ({table: n} -> {table: [ids]}), so that writes need not wait for each other."""
    wanted = {table: n for table, n in counts.items() if n}
    if not wanted:
        return {table: [] for table in counts}
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        columns = [
            select(func.array_agg(func.nextval(f"{table.name}_id_seq")))
            .select_from(func.generate_series(1, n))
            .scalar_subquery()
            for table, n in wanted.items()
        ]
        firsts = connection.execute(select(*columns)).one()
        taken = {table: sorted(ids) for table, ids in zip(wanted, firsts, strict=True)}
    else:  # one writer at a time: the next ids are the highest plus one, and on
        tops = connection.execute(select(*(select(func.max(t.c.id)).scalar_subquery() for t in wanted))).one()
        taken = {
            table: list(range((top or 0) + 1, (top or 0) + 1 + n))
            for (table, n), top in zip(wanted.items(), tops, strict=True)
        }
    return {table: taken.get(table, []) for table in counts}


def insert_statement(session: Session, table, rows: list[dict]):
    """One INSERT of many rows (dicts with the same keys, ids included) to send later (Writes)."""
    if session.get_bind().dialect.name == "postgresql":
        columns = tuple(rows[0])
        document = cast(bindparam(None, _json(rows), Text), JSON)
        source = func.json_populate_recordset(literal_column(f'NULL::"{table.name}"'), document).table_valued(
            *columns
        )
        return insert(table).from_select(columns, select(*(source.c[c] for c in columns)))
    return insert(table).values(rows)


class Writes:
    """Statements whose results a transaction needs only at its end, sent in one round trip:
    on PostgreSQL as one statement of data-modifying common table expressions, on SQLite
    (no network between Tandem and its database) one after another. A write may expect a
    number of rows: fewer means another transaction got there first, and `flush` raises."""

    def __init__(self) -> None:
        self._pending: list[tuple[Any, int | None, type[Exception] | None]] = []

    def add(self, statement, *, expect: int | None = None, refused: type[Exception] | None = None) -> None:
        self._pending.append((statement, expect, refused))

    def flush(self, session: Session) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            counts = _together(connection, pending)
        else:
            counts = [_rows_of(connection.execute(statement)) for statement, _, _ in pending]
        for (_, expect, refused), count in zip(pending, counts, strict=True):
            if expect is not None and count != expect:
                raise refused()


def _together(connection, pending) -> list[int]:
    ctes = [statement.cte(f"w{i}") for i, (statement, _, _) in enumerate(pending)]
    counted = [
        select(func.count()).select_from(cte).scalar_subquery() if expect is not None else literal(0)
        for cte, (_, expect, _) in zip(ctes, pending, strict=True)
    ]
    return list(connection.execute(select(*counted).add_cte(*ctes)).one())


def _rows_of(result) -> int:
    return len(result.all()) if result.returns_rows else result.rowcount


def rows_table(session: Session, name: str, columns: list[tuple[str, Any]], rows: list[tuple]):
    """Literal rows as a table to join: one UPDATE ... FROM it changes many rows, each its own way."""
    if session.get_bind().dialect.name == "postgresql":
        document = _json([dict(zip((c for c, _ in columns), row, strict=True)) for row in rows])
        source = func.json_to_recordset(cast(bindparam(None, document, Text), JSON))
        typed = [column(c, kind) for c, kind in columns]
        return source.table_valued(*typed, name=name).render_derived(with_types=True)
    return values(*(column(n, t) for n, t in columns), name=name).data(rows).cte(name)


def any_of(session: Session, column, items):
    """`column IN items`, as `= ANY(array)` on PostgreSQL (one statement text for any count)."""
    items = list(items)
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, items, type_=ARRAY(column.type)))
    return column.in_(items)


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


class Database:
    """The engine and its session factories: writers, and readers that never lock."""

    def __init__(self, settings: Settings, *, role: str = "api"):
        self.settings = settings
        self.engine = make_engine(settings)
        count_database_work(self.engine, role=role)
        self.write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """One use case = one transaction; only service functions call commit().

    Besides its session, a use case reaches only the ports it is given (clock-free: `now`
    is a parameter): `uow.settings`, `uow.gateway`, `uow.caches`, `uow.publish(event)`.
    """

    def __init__(self, session: Session, ports: Ports, *, sessions: Callable[[], Session] | None = None):
        self.session = session
        self.ports = ports
        self.settings = ports.settings
        self.gateway = ports.gateway
        self.finishers = ports.finishers
        self.caches = ports.caches
        self._sessions = sessions
        self.writes = Writes()  # statements to send together, at the latest when committing
        self._before_commit: list[Callable[[Session], None]] = []
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def fresh(self) -> "UnitOfWork":
        """Another unit of work with the same ports, in a transaction of its own."""
        return UnitOfWork(self._sessions(), self.ports, sessions=self._sessions)

    def publish(self, event: Any) -> None:
        """Let subscribers react to `event` inside this transaction."""
        self.ports.publish(self, event)

    def before_commit(self, hook: Callable[[Session], None]) -> None:
        """Run `hook` inside the next commit's transaction (e.g. a guarded job or key update)."""
        self._before_commit.append(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    def commit(self) -> None:
        self.writes.flush(self.session)
        # Before-commit hooks stay armed until a commit that ran them succeeds.
        for hook in self._before_commit:
            hook(self.session)
        self.session.commit()
        self._before_commit.clear()
        done, self._after_commit = self._after_commit, []
        for hook in done:
            hook()

    def rollback(self) -> None:
        self._after_commit.clear()
        self.writes = Writes()
        self.session.rollback()

    def close(self) -> None:
        """Give back the connection (rolling back anything uncommitted). Loaded objects stay
        readable, detached, so a page can be rendered from them after the block."""
        self._after_commit.clear()
        self.session.close()
