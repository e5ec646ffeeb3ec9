"""Per-process caches of what the checkout path reads for every order but rarely changes: a
store's settings, its automation rules (compiled) and its webhook subscriptions.

Every change to one of them bumps `stores.config_version` in the changing transaction
(`config_changed`). This process forgets its copy when that transaction commits; another
process sees the change within `RECHECK_SECONDS`, when it compares the version again (one
indexed read per store per interval, whatever the number of orders).
"""

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tandem.automation import expressions
from tandem.automation.models import AutomationRule
from tandem.notifications.models import WebhookSubscription
from tandem.stores.models import Store

RECHECK_SECONDS = 1.0


@dataclass(frozen=True)
class CachedRule:
    id: int
    name: str
    condition: str
    action: str
    hold_reason: str | None
    tag: str | None
    program: Any | None  # None: the condition no longer compiles (its failure is recorded)
    error: str | None = None


@dataclass(frozen=True)
class StoreConfig:
    """A store's settings as of `version` (read-only: change them through the store service)."""

    id: int
    version: int
    name: str
    email: str | None
    currency: str
    locale: str
    timezone: str
    payment_capture: str
    sender_name: str | None
    sender_email: str | None
    rules: tuple[CachedRule, ...] = ()
    subscriptions: dict[str, tuple[int, ...]] = field(default_factory=dict)  # topic -> ids

    def subscribed(self, topic: str) -> tuple[int, ...]:
        return self.subscriptions.get(topic, ())


@dataclass
class _Entry:
    config: StoreConfig
    checked: float


class Caches:
    """Thread-safe; shared by the threads and event loops of one process."""

    def __init__(self, recheck_seconds: float = RECHECK_SECONDS):
        self.recheck_seconds = recheck_seconds
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.Lock()

    def store(self, session: Session, store_id: int) -> StoreConfig:
        """The store's settings, rules and subscriptions, at most RECHECK_SECONDS stale."""
        with self._lock:
            entry = self._entries.get(store_id)
        now = time.monotonic()
        if entry is not None and now - entry.checked < self.recheck_seconds:
            return entry.config
        version = session.connection().scalar(select(Store.config_version).where(Store.id == store_id))
        if version is None:
            raise LookupError(f"no store {store_id}")
        config = entry.config if entry is not None and entry.config.version == version else None
        config = config or load(session, store_id)
        with self._lock:
            self._entries[store_id] = _Entry(config, now)
        return config

    def forget(self, store_id: int) -> None:
        with self._lock:
            self._entries.pop(store_id, None)


def config_changed(uow, store_id: int) -> None:
    """Call in any transaction that changes a store's settings, rules or subscriptions."""
    uow.session.execute(
        update(Store)
        .where(Store.id == store_id)
        .values(config_version=Store.config_version + 1)
        .execution_options(synchronize_session=False)
    )
    uow.after_commit(lambda: uow.caches.forget(store_id))


def load(session: Session, store_id: int) -> StoreConfig:
    store = session.execute(select(Store).where(Store.id == store_id)).scalar_one()
    rules = session.scalars(
        select(AutomationRule).where(AutomationRule.store_id == store_id).order_by(AutomationRule.id)
    )
    subscriptions: dict[str, list[int]] = {}
    for sid, topic in session.execute(
        select(WebhookSubscription.id, WebhookSubscription.topic)
        .where(WebhookSubscription.store_id == store_id, WebhookSubscription.deleted_at.is_(None))
        .order_by(WebhookSubscription.id)
    ):
        subscriptions.setdefault(topic, []).append(sid)
    return StoreConfig(
        id=store.id,
        version=store.config_version,
        name=store.name,
        email=store.email,
        currency=store.currency,
        locale=store.locale,
        timezone=store.timezone,
        payment_capture=store.payment_capture,
        sender_name=store.sender_name,
        sender_email=store.sender_email,
        rules=tuple(_cached(rule) for rule in rules),
        subscriptions={topic: tuple(ids) for topic, ids in subscriptions.items()},
    )


def _cached(rule: AutomationRule) -> CachedRule:
    try:
        program, error = expressions.compile_condition(rule.condition), None
    except expressions.BadCondition as exc:
        program, error = None, str(exc)
    return CachedRule(
        rule.id, rule.name, rule.condition, rule.action, rule.hold_reason, rule.tag, program, error
    )
