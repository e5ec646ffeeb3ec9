"""Database plumbing: declarative base, engines for SQLite and PostgreSQL, the unit of work."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tandem.settings import Settings

if TYPE_CHECKING:
    from tandem.runtime import Runtime

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


def make_engine(settings: Settings) -> Engine:
    """An engine tuned for the configured database."""
    if settings.is_sqlite:
        engine = create_engine(settings.sqlalchemy_url, pool_size=20, max_overflow=20)
        _tune_sqlite(engine)
        return engine
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size * 2,
        pool_pre_ping=True,
        pool_recycle=1800,
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


def is_postgres(session_or_engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


class Database:
    """The engine and its session factories: writers, and readers that never lock."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.engine = make_engine(settings)
        self.write_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """One use case = one transaction; only service functions call commit().

    It also gives the use case the runtime's infrastructure (clock-free: `now` is a
    parameter): `uow.runtime.gateway`, `uow.runtime.settings`, `uow.publish(event)`.
    """

    def __init__(self, runtime: "Runtime", *, read_only: bool = False):
        self.runtime = runtime
        database = runtime.database
        self.read_only = read_only
        self.session: Session = (database.read_sessions if read_only else database.write_sessions)()
        self._before_commit: list[Callable[[Session], None]] = []
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> "UnitOfWork":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def publish(self, event: Any) -> None:
        """Let subscribers react to `event` inside this transaction."""
        self.runtime.bus.publish(self, event)

    def before_commit(self, hook: Callable[[Session], None]) -> None:
        """Run `hook` inside the next commit's transaction (e.g. a guarded job or key update)."""
        self._before_commit.append(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        self._after_commit.append(hook)

    def commit(self) -> None:
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
        self.session.rollback()

    def close(self) -> None:
        """Give back the connection (rolling back anything uncommitted). Loaded objects stay
        readable, detached, so a page can be rendered from them after the block."""
        self._after_commit.clear()
        self.session.close()
