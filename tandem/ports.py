"""What a use case reaches besides its database session: the ports of the unit of work.

They are wired in one place (tandem.runtime); domain and service code never sees the
runtime itself.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tandem.payments.gateway import BlockingGateway
from tandem.settings import Settings


@dataclass(frozen=True)
class Ports:
    settings: Settings
    gateway: BlockingGateway
    publish: Callable[[Any, Any], None]  # (unit of work, event): subscribers act in its transaction
    finishers: Mapping[str, Callable[..., None]]  # payment purpose -> what settles it
    caches: Any  # tandem.caching.Caches: store settings, rules, webhook subscriptions
    owner: str | None = None  # this process, in rows it locks (tandem.liveness)
    renderer: Any = None  # the email renderer (worker)
    mailer: Any = None  # SMTP, when TANDEM_SMTP_URL is set
