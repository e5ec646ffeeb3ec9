"""The store's settings in the admin UI: payment capture, collective payments and the billing
card, the supplier's shipping fee, language and time zone (SPEC §2.1). One form, one save.

Two sections of the page have their own forms: a retailer's automation rules (SPEC §2.3,
`#automation-rules`: add, delete) and a supplier's return policy (`#return-policy`).
"""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tandem.admin.acting import FormProblem, complain, perform, refusal
from tandem.admin.deps import FormViewerDep, Viewer, ViewerDep, runtime_of
from tandem.admin.pages import redirect, render, site_of
from tandem.admin.routing import AdminRoute
from tandem.admin.security import Flash
from tandem.admin.supplier_returns import policy_from_form
from tandem.api.types import Id
from tandem.automation import service as automation
from tandem.automation.domain import RuleAction
from tandem.automation.schemas import RuleOut
from tandem.db import UnitOfWork
from tandem.errors import TandemError
from tandem.i18n.catalogs import LOCALES
from tandem.i18n.labels import N_
from tandem.orders.domain import HoldReason
from tandem.paging import EVERYTHING
from tandem.stores import service
from tandem.stores.domain import PaymentCapture
from tandem.stores.schemas import StoreOut
from tandem.suppliers.domain import LabelProvider

router = APIRouter(prefix="/admin/settings", include_in_schema=False, route_class=AdminRoute)
HERE = "/admin/settings"
MAX_FEE = Decimal("1e9")  # as the API's Amount
LANGUAGES = {"en": "English", "fr": "Français"}  # each in its own language
EXPLAIN = {
    "billing_card_token": N_("The payment gateway does not know this card token. Nothing was saved."),
    "timezone": N_("Choose a time zone from the list. Nothing was saved."),
    "locale": N_("Choose a language from the list. Nothing was saved."),
    "payment_capture": N_("Choose automatic or manual capture. Nothing was saved."),
    "supplier_shipping_fee": N_("Enter a shipping fee such as 4.50. Nothing was saved."),
}
# Keyed by the invalid field too, for the refusal whose code it is.
EXPLAIN_BY_CODE = {
    "billing_card_required": {
        "billing_card_token": N_(
            "Automatic payments need a billing card: enter a card token beside the switch. Nothing was saved."
        )
    }
}


@cache
def time_zones() -> list[str]:
    return sorted(available_timezones())


@router.get("")
def settings_page(request: Request, viewer: ViewerDep) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        store = StoreOut.of(service.get_store(uow, store_id=viewer.store_id))
        found = automation.list_rules(uow, store_id=viewer.store_id, page=EVERYTHING).items
        rules = [RuleOut.of(rule) for rule in reversed(found)]  # in the order they run
    return render(
        request,
        "settings.html",
        viewer=viewer,
        store=store,
        captures=[c.value for c in PaymentCapture],
        languages=[(code, LANGUAGES[code]) for code in LOCALES],
        time_zones=time_zones(),
        rules=rules,
        rule_actions=RULE_ACTIONS,
        variables=VARIABLE_HELP,
        label_providers=[provider.value for provider in LabelProvider],
    )


@router.post("")
def save_settings(
    request: Request,
    viewer: FormViewerDep,
    locale: Annotated[str, Form(max_length=5)] = "",
    timezone: Annotated[str, Form(max_length=64)] = "",
    payment_capture: Annotated[str, Form(max_length=20)] = "",
    collective_automatic_payments: Annotated[bool, Form()] = False,
    billing_card_token: Annotated[str, Form(max_length=255)] = "",
    supplier_shipping_fee: Annotated[str, Form(max_length=30)] = "",
) -> Response:
    try:
        changes = _changes(
            viewer,
            locale=locale,
            timezone=timezone,
            payment_capture=payment_capture,
            collective_automatic_payments=collective_automatic_payments,
            billing_card_token=billing_card_token.strip(),
            supplier_shipping_fee=_fee(supplier_shipping_fee),
        )
    except FormProblem as problem:
        return complain(request, viewer, HERE, problem)
    runtime = runtime_of(request)
    try:
        with runtime.uow() as uow:
            store = service.update_store(
                uow, store_id=viewer.store_id, changes=changes, now=runtime.clock.now()
            )
            new_locale = viewer.staff.locale or store.locale
    except TandemError as exc:
        if exc.status == 404:
            raise
        explain = {**EXPLAIN, **EXPLAIN_BY_CODE.get(exc.code, {})}
        return redirect(request, HERE, Flash("error", refusal(viewer, exc, explain)))
    saved = site_of(request).catalogs.get(new_locale).gettext(N_("The settings were saved."))
    return redirect(request, HERE, Flash("success", saved))


def _changes(viewer: Viewer, **form) -> dict:
    """What the form may change: only the fields it showed for this kind of store."""
    changes = {key: form[key] for key in ("locale", "timezone") if form[key]}
    changes["collective_automatic_payments"] = form["collective_automatic_payments"]
    if viewer.is_retailer:
        if form["payment_capture"]:
            changes["payment_capture"] = form["payment_capture"]
        if form["billing_card_token"]:
            changes["billing_card_token"] = form["billing_card_token"]
    if viewer.is_supplier and form["supplier_shipping_fee"] is not None:
        changes["supplier_shipping_fee"] = form["supplier_shipping_fee"]
    return changes


def _fee(raw: str) -> str | None:
    """A fee typed as "4.50" or "4,50"; the service checks the currency's decimals."""
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        fee = Decimal(raw)
    except InvalidOperation:
        fee = None
    if fee is None or not fee.is_finite() or not 0 <= fee <= MAX_FEE:
        raise FormProblem(EXPLAIN["supplier_shipping_fee"])
    return raw


# -- automation rules (a retailer's) ----------------------------------------------------------

RULES = f"{HERE}#automation-rules"
RULE_ACTIONS = {
    RuleAction.HOLD.value: N_("Hold fulfillment"),
    RuleAction.CANCEL.value: N_("Cancel the order"),
    RuleAction.TAG.value: N_("Add a tag"),
}
# What a condition may use: the names of automation.domain.VARIABLES, explained for people.
VARIABLE_HELP = {
    "total": N_("the order total, e.g. total > 500.0"),
    "subtotal": N_("the order subtotal"),
    "currency": N_('the currency code, e.g. currency == "EUR"'),
    "shipping_country": N_('the shipping country code, e.g. shipping_country != "FR"'),
    "billing_country": N_("the billing country code (the shipping one when there is no billing address)"),
    "email": N_("the customer’s email"),
    "email_domain": N_("the part of the email after @"),
    "customer_order_count": N_("how many orders the customer placed in the store, this one included"),
    "quantity": N_("how many items were ordered"),
    "line_count": N_("how many lines the order has"),
    "has_supplier_items": N_("whether a supplier ships part of the order"),
    "tags": N_('the order’s tags, e.g. "vip" in tags'),
}
EXPLAIN_RULE = {
    "condition": N_("This condition cannot be used: %(reason)s. Nothing was saved."),
    "action.tag": N_("Enter the tag to add. Nothing was saved."),
}


@router.post("/automation_rules")
def add_rule(
    request: Request,
    viewer: FormViewerDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    condition: Annotated[str, Form(max_length=5000)] = "",
    action: Annotated[str, Form(max_length=20)] = "",
    hold_reason: Annotated[str, Form(max_length=40)] = "",
    tag: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        rule = _rule(name=name, condition=condition, action=action, hold_reason=hold_reason, tag=tag)
    except FormProblem as problem:
        return complain(request, viewer, RULES, problem)
    return perform(
        request,
        viewer,
        automation.create_rule,
        back=RULES,
        done=N_("The rule was added. It applies to orders paid from now on."),
        explain=EXPLAIN_RULE,
        **rule,
    )


@router.post("/automation_rules/{rule_id}/delete")
def delete_rule(request: Request, rule_id: Id, viewer: FormViewerDep) -> Response:
    return perform(
        request, viewer, _delete_rule, back=RULES, done=N_("The rule was deleted."), rule_id=rule_id
    )


def _delete_rule(uow: UnitOfWork, *, store_id: int, rule_id: int, now: datetime) -> None:
    automation.delete_rule(uow, store_id=store_id, rule_id=rule_id)


def _rule(*, name: str, condition: str, action: str, hold_reason: str, tag: str) -> dict:
    """The rule as automation.create_rule takes it; the service checks the condition itself."""
    name, condition, tag = name.strip(), condition.strip(), tag.strip()
    if not name or len(name) > 200 or "\x00" in name:
        raise FormProblem(N_("Give the rule a name of at most 200 characters. Nothing was saved."))
    if not condition or "\x00" in condition:
        raise FormProblem(N_("Write the condition, e.g. total > 500.0. Nothing was saved."))
    if action not in RULE_ACTIONS:
        raise FormProblem(N_("Choose what the rule does. Nothing was saved."))
    if hold_reason and hold_reason not in {reason.value for reason in HoldReason}:
        raise FormProblem(N_("Choose a hold reason from the list. Nothing was saved."))
    if len(tag) > 100 or "\x00" in tag:
        raise FormProblem(N_("A tag has at most 100 characters. Nothing was saved."))
    return {
        "name": name,
        "condition": condition,
        "action": RuleAction(action),
        "hold_reason": HoldReason(hold_reason) if hold_reason else None,
        "tag": tag or None,
    }


# -- the return policy (a supplier's) ----------------------------------------------------------

POLICY = f"{HERE}#return-policy"


@router.post("/return_policy")
def save_return_policy(
    request: Request,
    viewer: FormViewerDep,
    window_days: Annotated[str, Form(max_length=30)] = "",
    restocking_fee_percent: Annotated[str, Form(max_length=30)] = "",
    label_provider: Annotated[str, Form(max_length=20)] = "",
    final_sale_skus: Annotated[str, Form(max_length=300_000)] = "",
) -> Response:
    try:
        if not viewer.is_supplier:
            raise FormProblem(N_("Only a supplier store has a return policy."))
        policy = policy_from_form(
            window_days=window_days,
            restocking_fee_percent=restocking_fee_percent,
            label_provider=label_provider,
            skus=final_sale_skus,
        )
    except FormProblem as problem:
        return complain(request, viewer, POLICY, problem)
    return perform(
        request,
        viewer,
        _set_return_policy,
        back=POLICY,
        done=N_("The return policy was saved."),
        policy=policy,
    )


def _set_return_policy(uow: UnitOfWork, *, store_id: int, policy: dict, now: datetime) -> None:
    service.update_store(uow, store_id=store_id, changes={"return_policy": policy}, now=now)
