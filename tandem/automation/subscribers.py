"""Rules run when an order is paid, in the same transaction."""

from tandem.automation import service
from tandem.bus import Bus
from tandem.orders import events


def subscribe(bus: Bus) -> None:
    bus.subscribe(events.OrdersPlaced, service.on_orders_placed)
    bus.subscribe(events.OrderFinancialStatusChanged, service.on_financial_status_changed)
