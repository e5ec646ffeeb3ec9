"""Saving rules (validated: a bad condition is a 422), and running them when an order is paid.

Rules run inside the transaction that made the order paid, before anything can reach
a supplier: a hold or tag is applied there; a cancellation holds the order at once
(so it stays inside the window) and a job cancels it (the refund needs the gateway).
"""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tandem.automation import expressions
from tandem.automation.domain import OrderFacts, RuleAction
from tandem.automation.models import AutomationRule
from tandem.caching import config_changed
from tandem.db import UnitOfWork
from tandem.errors import InvalidInput, NotFound, TandemError
from tandem.money import exponent
from tandem.orders import events as order_events
from tandem.orders import service as orders
from tandem.orders.domain import Action, CancelReason, FinancialStatus, HoldReason, allowed_actions
from tandem.orders.models import Order
from tandem.paging import Page, PageRequest, newest_first
from tandem.timeline.domain import Actor, ActorKind, Change
from tandem.worker import service as jobs

CANCEL_ORDER = "automation.cancel_order"
PAID = (FinancialStatus.PAID, FinancialStatus.PARTIALLY_PAID)
UNPAID_BEFORE = (FinancialStatus.PENDING, FinancialStatus.AUTHORIZED, FinancialStatus.EXPIRED)


def create_rule(
    uow: UnitOfWork,
    *,
    store_id: int,
    name: str,
    condition: str,
    action: RuleAction,
    hold_reason: HoldReason | None,
    tag: str | None,
    now: datetime,
) -> AutomationRule:
    try:
        expressions.compile_condition(condition)
    except expressions.BadCondition as exc:
        raise InvalidInput("condition", str(exc)) from None
    if action is RuleAction.TAG and not tag:
        raise InvalidInput("action.tag", "a tag action needs the tag to add")
    rule = AutomationRule(
        store_id=store_id,
        name=name,
        condition=condition,
        action=action.value,
        hold_reason=(hold_reason or HoldReason.HIGH_RISK_OF_FRAUD).value
        if action is RuleAction.HOLD
        else None,
        tag=tag if action is RuleAction.TAG else None,
        created_at=now,
    )
    uow.session.add(rule)
    config_changed(uow, store_id)
    uow.commit()
    return rule


def list_rules(uow: UnitOfWork, *, store_id: int, page: PageRequest) -> Page[AutomationRule]:
    query = select(AutomationRule).where(AutomationRule.store_id == store_id)
    return newest_first(uow.session, query, AutomationRule.id, page)


def delete_rule(uow: UnitOfWork, *, store_id: int, rule_id: int) -> None:
    rule = uow.session.scalar(
        select(AutomationRule).where(AutomationRule.id == rule_id, AutomationRule.store_id == store_id)
    )
    if rule is None:
        raise NotFound("automation rule not found")
    uow.session.delete(rule)
    config_changed(uow, store_id)
    uow.commit()


# -- running them (bus handlers, inside the transaction that made the order paid) ------------


def on_orders_placed(uow: UnitOfWork, event: order_events.OrdersPlaced) -> None:
    """Rules run on each new paid order of a store that has rules (the cache says which)."""
    for placed in event.orders:
        if placed.financial_status not in PAID:
            continue
        rules = uow.caches.store(uow.session, placed.store_id).rules
        if rules:
            event.stored()
            if run_rules(uow, placed, event.at, rules):
                placed.changed_by_followers = True


def on_financial_status_changed(uow: UnitOfWork, event: order_events.OrderFinancialStatusChanged) -> None:
    if event.order.financial_status in PAID and event.previous in UNPAID_BEFORE:
        run_rules(uow, event.order, event.at, uow.caches.store(uow.session, event.order.store_id).rules)


def run_rules(uow: UnitOfWork, order, now: datetime, rules) -> bool:
    """Evaluate the store's (cached, compiled) rules; True if the order was changed."""
    facts, changed = None, False
    for rule in rules:
        actor = Actor(ActorKind.RULE, rule.name, rule.id)
        if rule.program is None:
            _failed(uow, order, rule.name, rule.error, actor, now)
            changed = True
            continue
        facts = facts or facts_of(uow.session, order)
        if expressions.matches(rule.program, facts):
            _act(uow, _loaded(uow, order), rule, actor, now)
            changed = True
    return changed


def _loaded(uow: UnitOfWork, order) -> Order:
    """The order as a mapped row (a rule acts on it)."""
    return order if isinstance(order, Order) else uow.session.get(Order, order.id)


def _failed(uow: UnitOfWork, order, rule_name: str, message: str, actor: Actor, now: datetime) -> None:
    orders.record(
        uow.session,
        _loaded(uow, order),
        [Change("rule_failed", {"rule": rule_name, "message": message})],
        actor,
        now,
    )


def _act(uow: UnitOfWork, order: Order, rule, actor: Actor, now: datetime) -> None:
    orders.record(
        uow.session, order, [Change("rule_matched", {"rule": rule.name, "action": rule.action})], actor, now
    )
    if rule.action == RuleAction.TAG:
        if rule.tag not in order.tags:
            order.tags = [*order.tags, rule.tag]
        return
    if Action.HOLD not in allowed_actions(order):
        return
    if rule.action == RuleAction.HOLD:
        orders.hold_order(uow, order, reason=HoldReason(rule.hold_reason), note=None, actor=actor, now=now)
        return
    orders.hold_order(
        uow,
        order,
        reason=HoldReason.HIGH_RISK_OF_FRAUD,
        note="cancelling (automation rule)",
        actor=actor,
        now=now,
    )
    jobs.schedule(
        uow.session,
        kind=CANCEL_ORDER,
        payload={"order_id": order.id, "rule": rule.name, "rule_id": rule.id},
        run_at=now,
        now=now,
        store_id=order.store_id,
    )


def facts_of(session: Session, order) -> OrderFacts:
    billing = order.billing_address or order.shipping_address
    scale = 10 ** exponent(order.currency)
    return OrderFacts(
        total=order.total / scale,
        subtotal=order.subtotal / scale,
        currency=order.currency,
        shipping_country=order.shipping_address.get("country_code", ""),
        billing_country=billing.get("country_code", ""),
        email=order.email,
        email_domain=order.email.rsplit("@", 1)[-1],
        customer_order_count=_orders_of_customer(session, order),
        quantity=sum(line.quantity for line in order.line_items),
        line_count=len(order.line_items),
        has_supplier_items=any(line.supplier_store_id for line in order.line_items),
        tags=list(order.tags),
    )


def _orders_of_customer(session: Session, order) -> int:
    if order.customer_id is None:
        return 1
    return session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.store_id == order.store_id, Order.customer_id == order.customer_id)
    )


# -- the job that cancels for a rule ---------------------------------------------------------


def cancel_for_rule(uow: UnitOfWork, payload: dict, now: datetime) -> None:
    from tandem.orders import refunds

    order = uow.session.get(Order, payload["order_id"])
    actor = Actor(ActorKind.RULE, payload["rule"], payload["rule_id"])
    try:
        refunds.cancel_order(
            uow,
            store_id=order.store_id,
            order_id=order.id,
            actor=actor,
            now=now,
            request=refunds.CancelRequest(reason=CancelReason.FRAUD),
        )
    except TandemError as exc:  # e.g. staff cancelled it already: the hold keeps it safe meanwhile
        uow.rollback()
        orders.record(
            uow.session,
            uow.session.get(Order, payload["order_id"]),
            [Change("rule_failed", {"rule": payload["rule"], "message": exc.message})],
            actor,
            now,
        )
        uow.commit()


HANDLERS = {CANCEL_ORDER: cancel_for_rule}
