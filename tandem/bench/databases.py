"""A fresh database for one benchmark run: a temporary SQLite file or a throwaway PostgreSQL database."""

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from tandem.bench.errors import BenchUsageError
from tandem.db import make_engine
from tandem.settings import Settings, load_settings

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


@dataclass(frozen=True)
class BenchDatabase:
    url: str
    kind: str  # "sqlite" | "postgresql"
    created: bool  # made for this run (and dropped after it unless kept)


def bench_settings(database_url: str, secret: str) -> Settings:
    """Settings for the benchmark's own connections, the same secret as the subprocesses."""
    return load_settings(database_url=database_url, env="production", secret_key=secret)


@contextmanager
def fresh_database(
    requested_url: str | None, workdir: Path, *, secret: str, keep: bool, say: Callable[[str], None]
) -> Iterator[BenchDatabase]:
    """A migrated database: the given SQLite file, a new one in `workdir`, or a new PostgreSQL database."""
    if requested_url and not requested_url.startswith("sqlite"):
        with throwaway_postgres(requested_url, keep=keep, say=say) as url:
            migrate(url, secret)
            yield BenchDatabase(url, "postgresql", created=True)
        return
    url = requested_url or f"sqlite:///{workdir / 'flash-sale.db'}"
    migrate(url, secret)
    yield BenchDatabase(url, "sqlite", created=requested_url is None)


def migrate(database_url: str, secret: str) -> None:
    logging.getLogger("alembic").setLevel(logging.WARNING)  # the progress lines are ours
    from tandem.migrate import upgrade  # alembic logs as it loads: import it once quiet

    engine = make_engine(bench_settings(database_url, secret))
    try:
        upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def throwaway_postgres(server_url: str, *, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    """Create `tandem_bench_<random>` on the server of `server_url`; drop it afterwards unless kept."""
    server = postgres_server(server_url)
    name = f"tandem_bench_{secrets.token_hex(6)}"
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    database = server.set(database=name)
    say(f"created database {name}")
    try:
        yield database.render_as_string(hide_password=False)
    finally:
        if keep:
            say(f"kept database {database.render_as_string(hide_password=True)}")
        else:
            _drop(admin, name)


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def postgres_server(server_url: str) -> URL:
    """The server's URL, checked: a PostgreSQL URL of this machine."""
    # The benchmark creates and drops databases and floods the server: keep it on this machine.
    try:
        url = make_url(server_url)
    except Exception as exc:
        raise BenchUsageError(f"--database-url is not a database URL: {exc}") from None
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise BenchUsageError("--database-url must be a sqlite:/// or postgresql:// URL")
    query_host = url.query.get("host") or ()
    hosts = [url.host or "", *([query_host] if isinstance(query_host, str) else query_host)]
    # No host, or a socket directory, means a local Unix socket.
    remote = [h for h in hosts if h and h not in LOOPBACK_HOSTS and not h.startswith("/")]
    if remote:
        raise BenchUsageError(
            f"the benchmark only talks to a PostgreSQL server on this machine (127.0.0.1), not {remote[0]!r}"
        )
    return url.set(drivername="postgresql")
