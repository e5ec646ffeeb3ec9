"""The process's infrastructure, built once at start-up and handed to every unit of work."""

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from tandem.bus import Bus
from tandem.clock import Clock, SystemClock
from tandem.db import Database, UnitOfWork
from tandem.notifications.smtp import SmtpMailer
from tandem.payments.gateway import Gateway
from tandem.payments.test_gateway import TestGateway
from tandem.settings import Settings
from tandem.stores.numbers import NumberAllocator

if TYPE_CHECKING:
    from tandem.notifications.rendering import EmailRenderer


@dataclass
class Runtime:
    settings: Settings
    database: Database
    clock: Clock
    gateway: Gateway
    numbers: NumberAllocator
    mailer: "SmtpMailer | None" = None
    bus: Bus = field(default_factory=Bus)

    @cached_property
    def email_renderer(self) -> "EmailRenderer":
        from tandem.notifications.rendering import EmailRenderer

        return EmailRenderer()

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        return UnitOfWork(self, read_only=read_only)

    def close(self) -> None:
        self.database.dispose()


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    from tandem import models, wiring  # noqa: F401 - models: every table mapped before the first flush

    database = Database(settings)
    runtime = Runtime(
        settings=settings,
        database=database,
        clock=clock or SystemClock(),
        gateway=TestGateway(database.engine),
        numbers=NumberAllocator(database.engine),
        mailer=SmtpMailer.from_url(settings.smtp_url) if settings.smtp_url else None,
    )
    wiring.subscribe_all(runtime.bus)
    return runtime
