"""In-transaction domain events: a use case publishes, subscribers react in the same transaction.

Subscribers are wired explicitly at start-up (tandem.runtime), never at import.
"""

from collections import defaultdict
from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], None]  # (unit of work, event)


class Bus:
    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Handler) -> None:
        self._handlers[event_type].append(handler)

    def publish(self, uow: Any, event: Any) -> None:
        for handler in self._handlers[type(event)]:
            handler(uow, event)
