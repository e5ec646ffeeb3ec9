"""Customers in the admin UI (SPEC §2.4): the list with search, and a customer's page with their
orders and the cards they keep on file, which staff can add, replace, revoke, or ask the
customer to update by email."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from tandem.admin.acting import FormProblem, complain, perform
from tandem.admin.deps import FormViewerDep, ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.presenting import card_name
from tandem.admin.routing import AdminRoute
from tandem.api.types import Id, SearchText
from tandem.customers import service
from tandem.customers.models import Customer, PaymentMethod
from tandem.db import UnitOfWork
from tandem.i18n.labels import N_
from tandem.orders.models import Order
from tandem.orders.schemas import OrderSummary, summary_fields
from tandem.paging import PageRequest

router = APIRouter(prefix="/admin/customers", include_in_schema=False, route_class=AdminRoute)

LIST_SIZE = 100
ORDERS_SHOWN = 50
UNKNOWN_CARD = {"card_token": N_("This card was not accepted: check the card token.")}


@dataclass(frozen=True)
class CardRow:
    """A card on file as the customer page shows it."""

    method: PaymentMethod
    replaced_by: str | None  # "Visa •••• 4242"


# -- pages -------------------------------------------------------------------------------------


@router.get("")
def customers_page(request: Request, viewer: ViewerDep, q: Annotated[SearchText, Query()] = "") -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        page = PageRequest(limit=LIST_SIZE)
        found = service.list_customers(uow, store_id=viewer.store_id, q=q or None, page=page).items
        rows = [(customer, _active_cards(customer)) for customer in found]
    return render(request, "customers.html", viewer=viewer, rows=rows, q=q, limit=LIST_SIZE)


@router.get("/{customer_id}")
def customer_page(request: Request, customer_id: Id, viewer: ViewerDep) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        customer = service.get_customer(uow, store_id=viewer.store_id, customer_id=customer_id)
        cards = _cards(customer)
        orders = _orders_of(uow, viewer.store_id, customer.id)
    return render(
        request,
        "customer.html",
        viewer=viewer,
        customer=customer,
        cards=cards,
        orders=orders,
        orders_shown=ORDERS_SHOWN,
    )


def _active_cards(customer: Customer) -> int:
    return sum(1 for method in customer.payment_methods if method.status == "active")


def _cards(customer: Customer) -> list[CardRow]:
    by_id = {method.id: method for method in customer.payment_methods}
    return [
        CardRow(
            method,
            card_name(by_id.get(method.replaced_by_id)),
        )
        for method in reversed(customer.payment_methods)  # newest first
    ]


def _orders_of(uow: UnitOfWork, store_id: int, customer_id: int) -> list[OrderSummary]:
    found = uow.session.scalars(
        select(Order)
        .where(Order.store_id == store_id, Order.customer_id == customer_id)
        .order_by(Order.id.desc())
        .limit(ORDERS_SHOWN)
    )
    return [OrderSummary(**summary_fields(order)) for order in found]


# -- cards on file -----------------------------------------------------------------------------


@router.post("/{customer_id}/payment_methods")
def add_card(
    request: Request,
    customer_id: Id,
    viewer: FormViewerDep,
    card_token: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    try:
        token = _token(card_token)
    except FormProblem as problem:
        return complain(request, viewer, customer_page_url(customer_id), problem)
    return perform(
        request,
        viewer,
        service.add_payment_method,
        back=customer_page_url(customer_id),
        done=N_("The card was added."),
        explain=UNKNOWN_CARD,
        customer_id=customer_id,
        card_token=token,
        actor=viewer.actor,
    )


@router.post("/{customer_id}/payment_methods/{payment_method_id}/replace")
def replace_card(
    request: Request,
    customer_id: Id,
    payment_method_id: Id,
    viewer: FormViewerDep,
    card_token: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    try:
        token = _token(card_token)
    except FormProblem as problem:
        return complain(request, viewer, customer_page_url(customer_id), problem)
    return perform(
        request,
        viewer,
        service.replace_payment_method,
        back=customer_page_url(customer_id),
        done=N_("The card was replaced."),
        explain={**UNKNOWN_CARD, "invalid_transition": N_("This card was already revoked or replaced.")},
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        card_token=token,
        actor=viewer.actor,
    )


@router.post("/{customer_id}/payment_methods/{payment_method_id}/revoke")
def revoke_card(request: Request, customer_id: Id, payment_method_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request,
        viewer,
        service.revoke_payment_method,
        back=customer_page_url(customer_id),
        done=N_("The card was revoked: it will not be charged again."),
        explain={"invalid_transition": N_("This card was already revoked or replaced.")},
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        actor=viewer.actor,
    )


@router.post("/{customer_id}/payment_methods/{payment_method_id}/send_update_email")
def send_update_email(
    request: Request, customer_id: Id, payment_method_id: Id, viewer: FormViewerDep
) -> Response:
    return perform(
        request,
        viewer,
        service.request_card_update,
        back=customer_page_url(customer_id),
        done=N_("An email with a link to update the card is on its way to the customer."),
        explain={
            "payment_method_replaced": N_(
                "This card was already replaced: send the link for the card that replaced it."
            )
        },
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        actor=viewer.actor,
    )


def _token(card_token: str) -> str:
    token = card_token.strip()
    if not token or "\x00" in token:
        raise FormProblem(N_("Enter a card token."))
    return token


def customer_page_url(customer_id: int) -> str:
    return f"/admin/customers/{customer_id}"
