"""What pre-orders do when orders and cards change (wired in tandem.wiring)."""

from tandem.bus import Bus
from tandem.orders import events as order_events
from tandem.preorders import schedules, service


def subscribe(bus: Bus) -> None:
    bus.subscribe(order_events.OrdersPlaced, service.create_schedules)
    schedules.subscribe(bus)
