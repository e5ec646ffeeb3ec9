"""Fixtures: every integration and HTTP test runs on SQLite and on a real PostgreSQL.

Under CI=true a PostgreSQL that cannot be started fails the run instead of skipping.
"""

import os
import shutil
import warnings

import pytest
from sqlalchemy import text

from tandem.clock import FrozenClock
from tandem.db import make_engine
from tandem.migrate import upgrade
from tandem.models import metadata
from tandem.runtime import build_runtime
from tandem.settings import Settings
from tests.support.api import StoreClient
from tests.support.postgres import PostgresUnavailable, TestServer

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
IN_CI = os.environ.get("CI", "").lower() == "true"


def make_settings(database_url: str, **overrides) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        **overrides,
    )


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = TestServer()
    except PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL not available: {exc}")
    yield server
    server.close()


@pytest.fixture(scope="session")
def postgres_template_url(postgres_server):
    """One migrated database per run; tests empty it instead of recreating it."""
    url = postgres_server.create_database()
    engine = make_engine(make_settings(url))
    upgrade(engine)
    engine.dispose()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    engine = make_engine(make_settings(f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


def _empty_postgres(url: str) -> None:
    engine = make_engine(make_settings(url))
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_template_url):
    _empty_postgres(postgres_template_url)
    return postgres_template_url


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path):
    path = tmp_path / "tandem.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def settings(database_url):
    return make_settings(database_url)


@pytest.fixture
def runtime(settings, clock):
    runtime = build_runtime(settings, clock=clock)
    yield runtime
    runtime.close()


@pytest.fixture
def app(runtime):
    from tandem.api.app import create_app

    return create_app(runtime=runtime)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_store(runtime, client):
    """Create a store and get an API client acting as it."""
    from tandem.stores import service
    from tandem.stores.domain import PaymentCapture, StoreKind

    counter = iter(range(1, 1000))

    def make(
        name: str = "Maison Camille",
        *,
        kind: str = "retailer",
        capture: str = "automatic",
        locale: str = "en",
        currency: str = "EUR",
        automatic_payments: bool = False,
        billing_card_token: str | None = None,
    ) -> StoreClient:
        n = next(counter)
        new = service.NewStore(
            name=name,
            kinds=tuple(StoreKind(k) for k in kind.split(",")),
            email=f"staff{n}@{name.lower().replace(' ', '')}.example",
            currency=currency,
            locale=locale,
            payment_capture=PaymentCapture(capture),
            collective_automatic_payments=automatic_payments,
            # A retailer cannot turn automatic payments on without a billing card (SPEC §2.1).
            billing_card_token=billing_card_token
            or ("tok_success" if automatic_payments and "retailer" in kind else None),
            staff_password="correct horse battery staple",
        )
        with runtime.uow() as uow:
            created = service.create_store(uow, new=new, now=runtime.clock.now())
        return StoreClient(
            client, created.store.id, created.api_token, created.staff_email, "correct horse battery staple"
        )

    return make


@pytest.fixture
def shop(make_store) -> StoreClient:
    return make_store()


@pytest.fixture
def worker(runtime):
    from tandem.wiring import build_worker

    return build_worker(runtime, name="test-worker")


@pytest.fixture
def allow_private_webhooks(runtime):
    """Tests' receivers listen on loopback, which production refuses (SSRF)."""
    runtime.settings = runtime.settings.model_copy(update={"webhook_allow_private_addresses": True})
    return runtime


@pytest.fixture
def receiver():
    from tests.support.receiver import Receiver

    with Receiver() as running:
        yield running


@pytest.fixture
def smtp(runtime):
    """A real SMTP server; the runtime sends its mail there."""
    from tandem.notifications.smtp import SmtpMailer
    from tests.support.mail import SmtpServer

    with SmtpServer() as server:
        runtime.mailer = SmtpMailer.from_url(server.url)
        yield server.inbox
