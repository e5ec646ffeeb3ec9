"""The process's infrastructure, built once at start-up: the one place adapters are wired.

Use cases never see this object: each unit of work gets the ports it needs (tandem.ports).
"""

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from tandem.bus import Bus
from tandem.caching import Caches
from tandem.clock import Clock, SystemClock
from tandem.db import Database, UnitOfWork, make_async_engine, make_engine
from tandem.liveness import Heartbeat, new_owner
from tandem.metrics import count_database_work
from tandem.notifications.smtp import SmtpMailer
from tandem.payments.gateway import BackgroundLoop, BlockingGateway, Gateway
from tandem.payments.service import Finishers
from tandem.ports import Ports
from tandem.settings import Settings


@dataclass
class Runtime:
    role: str
    settings: Settings
    database: Database
    clock: Clock
    gateway: Gateway
    mailer: SmtpMailer | None = None
    bus: Bus = field(default_factory=Bus)
    finishers: Finishers = field(default_factory=Finishers)
    caches: Caches = field(default_factory=Caches)
    loop: BackgroundLoop = field(default_factory=BackgroundLoop)
    owner: str = field(default_factory=new_owner)  # this process (tandem.liveness)
    heartbeat: Heartbeat | None = None

    @cached_property
    def email_renderer(self) -> Any:
        from tandem.notifications.rendering import EmailRenderer

        return EmailRenderer()

    def ports(self) -> Ports:
        """The ports as they are now (tests swap the gateway, mailer or settings)."""
        return Ports(
            settings=self.settings,
            gateway=BlockingGateway(self.gateway, self.loop),
            publish=self.bus.publish,
            finishers=self.finishers,
            caches=self.caches,
            owner=self.owner,
            renderer=self.email_renderer,
            mailer=self.mailer,
        )

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        sessions = self.database.read_sessions if read_only else self.database.write_sessions
        return UnitOfWork(sessions(), self.ports(), sessions=self.database.write_sessions)

    def beat(self) -> None:
        """Tell other processes this one is alive until close() (servers and workers)."""
        self.heartbeat = Heartbeat(self.database.engine, self.owner, self.clock.now)
        self.heartbeat.start()

    def journal_engine(self):
        """An async engine for the test gateway's journal (one per event loop)."""
        engine = make_async_engine(self.settings, pool_size=2)
        count_database_work(engine.sync_engine, role=self.role, name="gateway")
        return engine

    def close(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.loop.started and hasattr(self.gateway, "close_current"):
            self.loop.run(self.gateway.close_current())
        self.loop.close()
        self.database.dispose()
        self.gateway_engine.dispose()

    @cached_property
    def gateway_engine(self):
        engine = make_engine(self.settings, pool_size=4)
        count_database_work(engine, role=self.role, name="gateway")
        return engine


def build_runtime(settings: Settings, *, clock: Clock | None = None, role: str = "api") -> Runtime:
    """`role` names the process's part in the counters of /metrics (api, worker)."""
    from tandem import models, wiring  # noqa: F401 - models: every table mapped before the first flush
    from tandem.payments.test_gateway import TestGateway

    database = Database(settings, role=role)
    runtime = Runtime(
        role=role,
        settings=settings,
        database=database,
        clock=clock or SystemClock(),
        gateway=None,  # type: ignore[arg-type] - set below, on its own engine
        mailer=SmtpMailer.from_url(settings.smtp_url) if settings.smtp_url else None,
    )
    # The test gateway stands for a remote provider: its own connections, never Tandem's.
    runtime.gateway = TestGateway(
        runtime.gateway_engine, runtime.journal_engine, latency_ms=settings.test_gateway_latency_ms
    )
    wiring.subscribe_all(runtime.bus)
    wiring.register_finishers(runtime.finishers)
    return runtime
