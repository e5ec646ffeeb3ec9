"""`tandem demo`: a demo network with orders in every state, made through the real use cases.

A frozen clock walks through the past ten days so timelines, expiries and the
"times in the store's timezone" look like a real shop's. Maison Tandem sells its own
products and three imported from Atelier Fournisseur, so supplier orders appear in each
state; the last order is placed at the real "now", inside its 2-minute review window.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from tandem.auth.models import StaffUser
from tandem.catalog import service as catalog
from tandem.checkout import service as checkout
from tandem.clock import FrozenClock, SystemClock
from tandem.demo_preorders import seed_preorders
from tandem.orders import fulfillments, refunds
from tandem.orders import service as orders
from tandem.orders.domain import CancelReason, HoldReason
from tandem.runtime import Runtime, build_runtime
from tandem.settings import Settings
from tandem.stores import service as stores
from tandem.stores.domain import PaymentCapture, StoreKind
from tandem.stores.models import Store
from tandem.suppliers import service as suppliers
from tandem.suppliers import supplier_orders
from tandem.timeline.domain import Actor, ActorKind
from tandem.wiring import build_worker

RETAILER_EMAIL = "retailer@demo.tandem.test"
SUPPLIER_EMAIL = "supplier@demo.tandem.test"
PASSWORD = "tandem-demo"
STAFF = Actor(ActorKind.STAFF, "Camille (demo)")
ADDRESS = {
    "first_name": "Léa",
    "last_name": "Moreau",
    "address1": "8 rue des Lilas",
    "city": "Lyon",
    "zip": "69003",
    "country_code": "FR",
}
CUSTOMERS = [
    "lea.moreau",
    "hugo.bernard",
    "chloe.petit",
    "louis.robert",
    "emma.richard",
    "jules.durand",
    "manon.dubois",
    "arthur.laurent",
    "ines.simon",
    "gabriel.michel",
]
PRODUCTS = [
    ("Chemise en lin", "LIN", "59.00", "24.00", 40),
    ("Pull marin", "MARIN", "89.00", "38.00", 25),
    ("Tote bag brodé", "TOTE", "29.00", "9.00", 100),
    ("Carnet relié main", "CARNET", "19.50", "6.50", 60),
]
# The supplier's catalogue: title, sku, suggested retail price, wholesale price, stock.
SUPPLIER_PRODUCTS = [
    ("Bol en grès émaillé", "GRES-BOL", "18.00", "7.50", 80),
    ("Plaid en laine mérinos", "PLAID", "95.00", "42.00", 30),
    ("Bougie parfumée figuier", "BOUGIE", "24.00", "9.80", 120),
]
# How Maison Tandem sells them: its own retail price, and its own title for one of them.
IMPORTS = [("22.00", "Bol artisanal en grès"), ("119.00", None), ("29.00", None)]
SUPPLIER_SHIPPING_FEE = Decimal("4.90")
INSIDE_THE_WINDOW = timedelta(seconds=40)  # when a hold or a cancellation stops an order before release


def seed(settings: Settings, *, if_empty: bool, echo: Callable[[str], None]) -> None:
    runtime = build_runtime(settings, clock=FrozenClock(SystemClock().now() - timedelta(days=10)))
    try:
        if if_empty and _demo_exists(runtime):
            echo(_login_text(settings, token=None))
            return
        token = _create_network(runtime, echo)
        echo(_login_text(settings, token=token))
    finally:
        runtime.close()


def _demo_exists(runtime: Runtime) -> bool:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(StaffUser.id).where(StaffUser.email == RETAILER_EMAIL)) is not None


@dataclass(frozen=True)
class Network:
    retailer_id: int
    supplier_id: int
    own: list[int]  # the retailer's own variants
    linked: list[int]  # the retailer's variants imported from the supplier


def _create_network(runtime: Runtime, echo: Callable[[str], None]) -> str:
    echo("[1/4] Stores and products…")
    retailer = _store(runtime, "Maison Tandem", StoreKind.RETAILER, RETAILER_EMAIL)
    supplier = _store(runtime, "Atelier Fournisseur", StoreKind.SUPPLIER, SUPPLIER_EMAIL)
    store_id = retailer.store.id
    variants = [_product(runtime, store_id, *spec) for spec in PRODUCTS]
    echo("[2/4] Supplier connection and imports…")
    linked = _connect(runtime, store_id, supplier.store.id)
    _orders(runtime, Network(store_id, supplier.store.id, variants, linked), echo)
    return retailer.api_token


def _store(runtime: Runtime, name: str, kind: StoreKind, email: str) -> stores.CreatedStore:
    new = stores.NewStore(
        name=name,
        kinds=(kind,),
        email=email,
        currency="EUR",
        locale="fr",
        timezone="Europe/Paris",
        staff_password=PASSWORD,
    )
    with runtime.uow() as uow:
        return stores.create_store(uow, now=runtime.clock.now(), new=new)


def _product(runtime: Runtime, store_id: int, title, sku, price, wholesale, quantity) -> int:
    return _new_product(runtime, store_id, title, sku, price, wholesale, quantity)[1]


def _new_product(runtime: Runtime, store_id: int, title, sku, price, wholesale, quantity) -> tuple[int, int]:
    """A one-variant product; returns its id and its variant's."""
    with runtime.uow() as uow:
        product = catalog.create_product(
            uow,
            store_id=store_id,
            title=title,
            description="",
            vendor=uow.session.get(Store, store_id).name,
            now=runtime.clock.now(),
            variants=[
                catalog.NewVariant(
                    sku=sku,
                    price=Decimal(price),
                    wholesale_price=Decimal(wholesale),
                    inventory_quantity=quantity,
                )
            ],
        )
        return product.id, product.variants[0].id


def _connect(runtime: Runtime, retailer_id: int, supplier_id: int) -> list[int]:
    """Both stores pay automatically; the retailer imports the supplier's catalogue."""
    _configure(runtime, retailer_id, collective_automatic_payments=True, billing_card_token="tok_success")
    _configure(
        runtime, supplier_id, collective_automatic_payments=True, supplier_shipping_fee=SUPPLIER_SHIPPING_FEE
    )
    products = [_new_product(runtime, supplier_id, *spec)[0] for spec in SUPPLIER_PRODUCTS]
    now = runtime.clock.now()
    with runtime.uow() as uow:
        connection = suppliers.request_connection(
            uow, store_id=retailer_id, supplier_store_id=supplier_id, now=now
        )
    with runtime.uow() as uow:
        suppliers.answer_connection(
            uow, store_id=supplier_id, connection_id=connection.id, accept=True, now=now
        )
    return [
        _import(runtime, retailer_id, product_id, *spec)
        for product_id, spec in zip(products, IMPORTS, strict=True)
    ]


def _configure(runtime: Runtime, store_id: int, **changes) -> None:
    with runtime.uow() as uow:
        stores.update_store(uow, store_id=store_id, changes=changes, now=runtime.clock.now())


def _import(runtime: Runtime, store_id: int, product_id: int, price: str, title: str | None) -> int:
    with runtime.uow() as uow:
        product = suppliers.import_product(
            uow,
            store_id=store_id,
            supplier_product_id=product_id,
            price=Decimal(price),
            title=title,
            now=runtime.clock.now(),
        )
        return product.variants[0].id


def _orders(runtime: Runtime, network: Network, echo: Callable[[str], None]) -> None:
    echo("[3/4] Orders in every state…")
    store_id = network.retailer_id
    place = _placer(runtime, store_id, network.own)
    for step in (_paid_orders, _manual_orders, _orders_in_progress):
        step(runtime, store_id, place)
    for step in (_with_the_supplier, _before_release):
        step(runtime, network, place)
    echo("[4/4] Pre-orders and payment schedules…")
    seed_preorders(runtime, store_id, staff=STAFF, address=ADDRESS, real_now=SystemClock().now())
    runtime.clock.set(SystemClock().now())
    build_worker(runtime).run_until_idle()  # authorisations older than 7 days expire
    _in_the_window(runtime, network, place)


def _placer(runtime: Runtime, store_id: int, variants: list[int]):
    counter = iter(range(1000))

    def place(quantity: int = 1, *, items: list[int] | None = None, wait: bool = True) -> int:
        """An order for `items` (default: the next own product), some hours after the last one."""
        n = next(counter)
        if wait:
            runtime.clock.advance(hours=5, minutes=17 * n % 60)
        request = checkout.CheckoutRequest(
            lines=[checkout.LineRequest(v, quantity) for v in items or [variants[n % len(variants)]]],
            shipping_address=ADDRESS,
            email=f"{CUSTOMERS[n % len(CUSTOMERS)]}@example.com",
            card_token="tok_success",
        )
        now = runtime.clock.now()
        with runtime.uow() as uow:
            created = checkout.create_checkout(uow, store_id=store_id, request=request, now=now)
            return checkout.complete_checkout(
                uow, store_id=store_id, checkout_id=created.id, actor=STAFF, now=now
            ).id

    return place


def _paid_orders(runtime: Runtime, store_id: int, place) -> None:
    for quantity in (1, 2, 1):
        place(quantity)
    held = place()
    _do(
        runtime,
        orders.place_hold,
        store_id=store_id,
        order_id=held,
        reason=HoldReason.HIGH_RISK_OF_FRAUD,
        note="Adresse de livraison différente du pays de la carte",
    )


def _manual_orders(runtime: Runtime, store_id: int, place) -> None:
    """Orders only authorised: one left for more than 7 days expires, one waits, one is captured."""
    _set_capture(runtime, store_id, PaymentCapture.MANUAL)
    place()
    runtime.clock.advance(days=3)
    place()
    captured = place(2)
    _do(runtime, orders.capture_order, store_id=store_id, order_id=captured, amount=None)
    _set_capture(runtime, store_id, PaymentCapture.AUTOMATIC)


def _orders_in_progress(runtime: Runtime, store_id: int, place) -> None:
    partial = place(3)
    line = _lines(runtime, store_id, partial)[0]
    _do(
        runtime,
        fulfillments.fulfill_order,
        store_id=store_id,
        order_id=partial,
        picks=[fulfillments.LinePick(line, 1)],
        tracking=_tracking("6A10000000001"),
    )
    shipped = place(2)
    _do(
        runtime,
        fulfillments.fulfill_order,
        store_id=store_id,
        order_id=shipped,
        picks=None,
        tracking=_tracking("6A10000000002"),
    )
    _do(
        runtime,
        refunds.cancel_order,
        store_id=store_id,
        order_id=place(),
        request=refunds.CancelRequest(reason=CancelReason.CUSTOMER),
    )
    _do(
        runtime,
        refunds.refund_order,
        store_id=store_id,
        order_id=place(2),
        request=refunds.RefundRequest(lines=[], amount=Decimal("10.00"), note="Geste commercial"),
    )
    for _ in range(2):
        place()


def _with_the_supplier(runtime: Runtime, network: Network, place) -> None:
    """Orders released to the supplier after their window: one left open, one shipped in part, one
    in full, and a mixed order whose own item the retailer shipped while the supplier's is open."""
    bowl, plaid, candle = network.linked
    _place_and_release(runtime, place, items=[bowl])
    partial = _place_and_release(runtime, place, 3, items=[candle])
    _supplier_ships(runtime, network, partial, "Colissimo", "6C20000000011", quantity=1)
    shipped = _place_and_release(runtime, place, items=[plaid])
    _supplier_ships(runtime, network, shipped, "La Poste", "6A20000000012")
    mixed = _place_and_release(runtime, place, items=[network.own[0], bowl])
    _do(
        runtime,
        fulfillments.fulfill_order,
        store_id=network.retailer_id,
        order_id=mixed,
        picks=None,  # the retailer's own lines only; the supplier ships the bowl
        tracking=_tracking("6A10000000013"),
    )


def _before_release(runtime: Runtime, network: Network, place) -> None:
    """Stopped inside the window: a hold, a cancellation; and one waiting for a manual request."""
    bowl, plaid, candle = network.linked
    store_id = network.retailer_id
    held = place(items=[candle])
    _do(
        runtime,
        orders.place_hold,
        wait=INSIDE_THE_WINDOW,
        store_id=store_id,
        order_id=held,
        reason=HoldReason.INCORRECT_ADDRESS,
        note="Numéro de rue manquant : client recontacté",
    )
    request = refunds.CancelRequest(reason=CancelReason.FRAUD)
    cancelled = place(items=[plaid])
    _do(
        runtime,
        refunds.cancel_order,
        wait=INSIDE_THE_WINDOW,
        store_id=store_id,
        order_id=cancelled,
        request=request,
    )
    _set_capture(runtime, store_id, PaymentCapture.MANUAL)
    place(2, items=[bowl])  # awaits the retailer's fulfilment request
    _set_capture(runtime, store_id, PaymentCapture.AUTOMATIC)


def _in_the_window(runtime: Runtime, network: Network, place) -> None:
    """Placed at the very end: still inside its 2-minute window when the admin is opened."""
    runtime.clock.set(SystemClock().now())
    place(items=[network.linked[2]], wait=False)


def _place_and_release(runtime: Runtime, place, quantity: int = 1, *, items: list[int]) -> int:
    order_id = place(quantity, items=items)
    runtime.clock.advance(seconds=runtime.settings.collective_delay_seconds + 1)
    build_worker(runtime).run_until_idle()  # opens it at the supplier and charges the retailer
    return order_id


def _supplier_ships(
    runtime: Runtime, network: Network, order_id: int, company: str, number: str, quantity: int | None = None
) -> None:
    runtime.clock.advance(hours=6)
    with runtime.uow() as uow:
        [supplier_order] = supplier_orders.of_order(uow.session, order_id)
        picks = None if quantity is None else [supplier_orders.Pick(supplier_order.lines[0].id, quantity)]
        supplier_orders.fulfill(
            uow,
            store_id=network.supplier_id,
            supplier_order_id=supplier_order.id,
            picks=picks,
            tracking=asdict(_tracking(number, company)),
            now=runtime.clock.now(),
        )


def _tracking(number: str, company: str = "La Poste") -> fulfillments.Tracking:
    return fulfillments.Tracking(
        company, number, f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
    )


def _lines(runtime: Runtime, store_id: int, order_id: int) -> list[int]:
    with runtime.uow(read_only=True) as uow:
        return [li.id for li in orders.get_order(uow, store_id=store_id, order_id=order_id).line_items]


def _set_capture(runtime: Runtime, store_id: int, capture: PaymentCapture) -> None:
    _configure(runtime, store_id, payment_capture=capture.value)


def _do(runtime: Runtime, use_case, *, wait: timedelta = timedelta(minutes=42), **kwargs) -> None:
    runtime.clock.advance(wait.total_seconds())
    with runtime.uow() as uow:
        use_case(uow, actor=STAFF, now=runtime.clock.now(), **kwargs)


def _login_text(settings: Settings, *, token: str | None) -> str:
    lines = [
        "Demo data is ready.",
        f"  Admin:    {settings.base_url}/admin/login",
        f"  Retailer: {RETAILER_EMAIL} / {PASSWORD}",
        f"  Supplier: {SUPPLIER_EMAIL} / {PASSWORD}",
    ]
    if token:
        lines.append(f"  API token of the retailer (shown once): {token}")
    return "\n".join(lines)
