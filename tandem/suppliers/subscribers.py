"""Supplier orders follow their retailer order: created with it, moved by its payment, its
holds and its cancellation, in the same transaction."""

from tandem.bus import Bus
from tandem.orders import events
from tandem.suppliers import supplier_orders


def subscribe(bus: Bus) -> None:
    bus.subscribe(events.OrdersPlaced, supplier_orders.create_for_orders)
    bus.subscribe(events.OrderFinancialStatusChanged, supplier_orders.follow_payment)
    bus.subscribe(events.OrderHoldsChanged, supplier_orders.follow_holds)
    bus.subscribe(events.OrderCancelled, supplier_orders.follow_cancellation)
