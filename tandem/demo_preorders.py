"""The pre-orders of `tandem demo`: selling plans, and a pre-order in each payment-schedule state.

Everything is made through the real use cases and the worker, on the demo's frozen clock,
over the last day and a half: coats sold with a deposit and the balance on 15 January (still
to come), jackets sold with the balance charged when they ship (they shipped last night, so
the worker has charged each buyer's card: paid, declined, challenged by the bank, or the
gateway failing), and the customers' cards in each state (active, replaced, revoked).
"""

import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tandem.catalog import service as catalog
from tandem.checkout import service as checkout
from tandem.customers import service as customers
from tandem.orders import fulfillments, refunds
from tandem.orders import service as orders
from tandem.orders.domain import CancelReason
from tandem.preorders import service as preorders
from tandem.preorders.domain import BalanceTrigger, DepositType, InventoryReserve
from tandem.runtime import Runtime
from tandem.stores.models import Store
from tandem.timeline.domain import Actor
from tandem.wiring import build_worker

PARIS = ZoneInfo("Europe/Paris")
# The story takes about 34 hours and starts this long before the real "now" (after the demo's
# other orders, which end some 41 hours before it).
STARTED_AGO = timedelta(hours=40)
BETWEEN_ORDERS = timedelta(hours=1, minutes=37)


@dataclass(frozen=True)
class Buyer:
    first_name: str
    last_name: str
    card: str  # the test gateway's token (SPEC §3)

    @property
    def email(self) -> str:
        name = unicodedata.normalize("NFKD", f"{self.first_name}.{self.last_name}")
        return f"{name.encode('ascii', 'ignore').decode().lower()}@example.com"


# Coats: a deposit now, the balance on 15 January.
WAITING = Buyer("Camille", "Leroy", "tok_success")  # pending
PAID_UPFRONT = Buyer("Nathan", "Roux", "tok_success")  # chose to pay in full
CHANGED_MIND = Buyer("Zoé", "Fournier", "tok_success")  # cancelled: deposit refunded
REMOVED_CARD = Buyer("Lucas", "Girard", "tok_success")  # removed the card, then cancelled
# Jackets: the balance is charged when they ship.
PAYS_AT_SHIPPING = Buyer("Sarah", "Bonnet", "tok_success")  # paid
DECLINED = Buyer("Théo", "Lambert", "tok_decline_after_first")  # failed: asked for a new card
CHALLENGED = Buyer("Jade", "Fontaine", "tok_requires_action")  # awaiting_customer
GATEWAY_DOWN = Buyer("Adam", "Rousseau", "tok_success")  # a new card the gateway fails on: overdue
NEW_CARD = Buyer("Lina", "Mercier", "tok_decline_after_first")  # failed, then a new card paid it


@dataclass(frozen=True)
class Shop:
    runtime: Runtime
    store_id: int
    staff: Actor
    address: dict

    def now(self) -> datetime:
        return self.runtime.clock.now()

    def do(self, use_case, **kwargs):
        """Run one use case as staff, at the clock's time."""
        with self.runtime.uow() as uow:
            return use_case(uow, store_id=self.store_id, actor=self.staff, now=self.now(), **kwargs)


@dataclass(frozen=True)
class Offer:
    variant_id: int
    plan_id: int


def seed_preorders(
    runtime: Runtime, store_id: int, *, staff: Actor, address: dict, real_now: datetime
) -> None:
    """Pre-order products, plans and orders, the last charges made some hours before `real_now`."""
    runtime.clock.set(max(runtime.clock.now(), real_now - STARTED_AGO))
    shop = Shop(runtime, store_id, staff, address)
    january = balance_date(real_now)
    coat, jacket = _products(shop, january)
    deposit, in_full, at_shipping = _plans(shop, january, coat=coat, jacket=jacket)
    _coats(shop, Offer(coat, deposit), Offer(coat, in_full))
    _jackets(shop, Offer(jacket, at_shipping))


def balance_date(real_now: datetime) -> datetime:
    """The next 15 January (10:00 in Paris) at least two weeks away."""
    year = real_now.astimezone(PARIS).year
    while (due := datetime(year, 1, 15, 10, tzinfo=PARIS)) - real_now < timedelta(days=14):
        year += 1
    return due.astimezone(UTC)


def _products(shop: Shop, january: datetime) -> tuple[int, int]:
    coat = _product(shop, f"Manteau d’hiver {january.year} (précommande)", "MANTEAU-HIVER", "249.00", 30)
    jacket = _product(shop, "Veste en velours côtelé (précommande)", "VESTE-VELOURS", "139.00", 12)
    return coat, jacket


def _product(shop: Shop, title: str, sku: str, price: str, quantity: int) -> int:
    variant = catalog.NewVariant(
        sku=sku, price=Decimal(price), wholesale_price=Decimal(price) / 2, inventory_quantity=quantity
    )
    with shop.runtime.uow() as uow:
        product = catalog.create_product(
            uow,
            store_id=shop.store_id,
            title=title,
            description="",
            vendor=uow.session.get(Store, shop.store_id).name,
            now=shop.now(),
            variants=[variant],
        )
        return product.variants[0].id


def _plans(shop: Shop, january: datetime, *, coat: int, jacket: int) -> tuple[int, int, int]:
    """A deposit with the balance on a date, payment in full, and the balance when it ships."""
    deposit = _plan(
        shop,
        "Précommande – acompte 20 %, solde le 15 janvier",
        (DepositType.PERCENTAGE, 20),
        (BalanceTrigger.EXACT_TIME, january),
        InventoryReserve.ON_SALE,
        expected=january + timedelta(days=5),
        variant_ids=[coat],
    )
    in_full = _plan(
        shop,
        "Précommande – paiement intégral",
        (DepositType.PERCENTAGE, 100),
        (BalanceTrigger.ON_FULFILLMENT, None),
        InventoryReserve.ON_SALE,
        expected=january + timedelta(days=5),
        variant_ids=[coat, jacket],
    )
    at_shipping = _plan(
        shop,
        "Précommande – acompte 30 %, solde à l’expédition",
        (DepositType.PERCENTAGE, 30),
        (BalanceTrigger.ON_FULFILLMENT, None),
        InventoryReserve.ON_FULFILLMENT,
        expected=shop.now() + timedelta(days=1),
        variant_ids=[jacket],
    )
    return deposit, in_full, at_shipping


def _plan(shop: Shop, name: str, deposit, balance, reserve, *, expected: datetime, variant_ids) -> int:
    with shop.runtime.uow() as uow:
        return preorders.create_plan(
            uow,
            store_id=shop.store_id,
            name=name,
            deposit_type=deposit[0],
            deposit_value=Decimal(deposit[1]),
            trigger=balance[0],
            at=balance[1],
            after_seconds=None,
            inventory_reserve=reserve,
            expected_fulfillment_at=expected,
            variant_ids=variant_ids,
            now=shop.now(),
        ).id


def _coats(shop: Shop, deposit: Offer, in_full: Offer) -> None:
    """Pending until January, paid in full, cancelled; and a removed card that leaves a refund to
    make by hand."""
    _preorder(shop, WAITING, deposit)
    _preorder(shop, PAID_UPFRONT, in_full)
    _cancel(shop, _preorder(shop, CHANGED_MIND, deposit, quantity=2))
    order_id = _preorder(shop, REMOVED_CARD, deposit)
    shop.runtime.clock.advance(hours=3)
    customer_id = _customer_of(shop, order_id)
    shop.do(
        customers.revoke_payment_method, customer_id=customer_id, payment_method_id=_card(shop, customer_id)
    )
    _cancel(shop, order_id)  # the deposit cannot go back to a removed card


def _jackets(shop: Shop, offer: Offer) -> None:
    """Jackets pre-ordered, shipped some hours later (the worker charges the balances), and one
    declined balance paid with the new card the customer gave."""
    buyers = (PAYS_AT_SHIPPING, DECLINED, CHALLENGED, GATEWAY_DOWN, NEW_CARD)
    orders = {buyer: _preorder(shop, buyer, offer) for buyer in buyers}
    shop.runtime.clock.advance(hours=2)
    _replace_card(shop, orders[GATEWAY_DOWN], "tok_error")
    shop.runtime.clock.advance(hours=8)
    for number, order_id in enumerate(orders.values(), start=1):
        _ship(shop, order_id, f"6A3000000{number:04d}")
    build_worker(shop.runtime).run_until_idle()  # charges the balances that fell due
    shop.runtime.clock.advance(hours=4)
    _replace_card(shop, orders[NEW_CARD], "tok_success")
    build_worker(shop.runtime).run_until_idle()  # the failed balance is tried again on the new card


def _preorder(shop: Shop, buyer: Buyer, offer: Offer, quantity: int = 1) -> int:
    shop.runtime.clock.advance(BETWEEN_ORDERS.total_seconds())
    request = checkout.CheckoutRequest(
        lines=[checkout.LineRequest(offer.variant_id, quantity, offer.plan_id)],
        shipping_address={**shop.address, "first_name": buyer.first_name, "last_name": buyer.last_name},
        customer_id=_customer(shop, buyer),
        card_token=buyer.card,
    )
    with shop.runtime.uow() as uow:
        created = checkout.create_checkout(uow, store_id=shop.store_id, request=request, now=shop.now())
        return checkout.complete_checkout(
            uow, store_id=shop.store_id, checkout_id=created.id, actor=shop.staff, now=shop.now()
        ).id


def _customer(shop: Shop, buyer: Buyer) -> int:
    with shop.runtime.uow() as uow:
        return customers.create_customer(
            uow,
            store_id=shop.store_id,
            email=buyer.email,
            first_name=buyer.first_name,
            last_name=buyer.last_name,
            locale="fr",
            now=shop.now(),
        ).id


def _cancel(shop: Shop, order_id: int) -> None:
    shop.runtime.clock.advance(hours=1)
    request = refunds.CancelRequest(reason=CancelReason.CUSTOMER)
    shop.do(refunds.cancel_order, order_id=order_id, request=request)


def _replace_card(shop: Shop, order_id: int, card_token: str) -> None:
    customer_id = _customer_of(shop, order_id)
    shop.do(
        customers.replace_payment_method,
        customer_id=customer_id,
        payment_method_id=_card(shop, customer_id),
        card_token=card_token,
    )


def _ship(shop: Shop, order_id: int, number: str) -> None:
    shop.runtime.clock.advance(minutes=6)
    tracking = fulfillments.Tracking(
        "Colissimo", number, f"https://www.laposte.fr/outils/suivre-vos-envois?code={number}"
    )
    shop.do(fulfillments.fulfill_order, order_id=order_id, picks=None, tracking=tracking)


def _customer_of(shop: Shop, order_id: int) -> int:
    with shop.runtime.uow(read_only=True) as uow:
        return orders.get_order(uow, store_id=shop.store_id, order_id=order_id).customer_id


def _card(shop: Shop, customer_id: int) -> int:
    """The customer's active card."""
    with shop.runtime.uow(read_only=True) as uow:
        return customers.active_card(uow.session, customer_id).id
