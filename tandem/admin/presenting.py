"""Values of the API's order views written for people: labels, money, times, timeline sentences."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_skeleton

from tandem.i18n import labels
from tandem.i18n.formatting import format_moment, format_money
from tandem.i18n.labels import N_
from tandem.money import to_minor
from tandem.orders.schemas import EventOut
from tandem.timeline.messages import describe

LABELS = {
    "financial_status": labels.FINANCIAL_STATUS,
    "fulfillment_status": labels.FULFILLMENT_STATUS,
    "status": labels.ORDER_STATUS,
    "hold_reason": labels.HOLD_REASON,
    "cancel_reason": labels.CANCEL_REASON,
    "action": labels.ACTION,
    "transaction_kind": labels.TRANSACTION_KIND,
    "transaction_status": labels.TRANSACTION_STATUS,
    "notice_kind": labels.NOTICE_KIND,
    "email_status": labels.EMAIL_STATUS,
    "delivery_status": labels.DELIVERY_STATUS,
    "email_template": labels.EMAIL_TEMPLATE,
    "supplier_order_status": labels.SUPPLIER_ORDER_STATUS,
    "collective_payment_status": labels.COLLECTIVE_PAYMENT_STATUS,
    "connection_status": labels.CONNECTION_STATUS,
    "cancellation_status": labels.CANCELLATION_STATUS,
    "payment_capture": labels.PAYMENT_CAPTURE,
    "schedule_status": labels.SCHEDULE_STATUS,
    "payment_method_status": labels.PAYMENT_METHOD_STATUS,
    "supplier_refund_status": labels.SUPPLIER_REFUND_STATUS,
    "return_status": labels.RETURN_STATUS,
    "return_reason": labels.RETURN_REASON,
    "label_provider": labels.LABEL_PROVIDER,
    "attention": labels.ATTENTION,
}
# A time left, as the countdown script writes it too.
MINUTES_LEFT = N_("%(minutes)s min %(seconds)s s")
SECONDS_LEFT = N_("%(seconds)s s")
ACTOR_WORKER = N_("Tandem (automatic)")
ACTOR_RULE = N_("Automation rule “%(name)s”")


def card_name(method) -> str | None:
    """A card on file as staff recognise it: "Visa •••• 4242"."""
    return f"{method.brand} •••• {method.last4}" if method else None


@dataclass(frozen=True)
class Formatter:
    """Formats for one reader: their language, their store's time zone."""

    locale: str
    timezone: str
    gettext: Callable[[str], str]

    def label(self, kind: str, value: str | None) -> str:
        return labels.label(LABELS[kind], value, self.gettext)

    def choices(self, kind: str) -> list[tuple[str, str]]:
        """(value, translated label) pairs for a select."""
        return [(value, self.gettext(text)) for value, text in LABELS[kind].items()]

    def money(self, amount: str | int | None, currency: str) -> str:
        """An amount as the API writes it ("49.90") or in minor units, for people."""
        if amount is None:
            return ""
        minor = amount if isinstance(amount, int) else to_minor(amount, currency)
        return format_money(minor, currency, locale=self.locale)

    def money_times(self, amount: str, quantity: int, currency: str) -> str:
        return self.money(to_minor(amount, currency) * quantity, currency)

    def nonzero(self, amount: str | None) -> bool:
        return amount is not None and Decimal(amount) != 0

    def time_left(self, seconds: int) -> str:
        """ "1 min 40 s": what remains of a short delay."""
        minutes, seconds = divmod(max(seconds, 0), 60)
        if minutes:
            return self.gettext(MINUTES_LEFT) % {"minutes": minutes, "seconds": seconds}
        return self.gettext(SECONDS_LEFT) % {"seconds": seconds}

    def time_left_patterns(self) -> dict[str, str]:
        """The translated patterns of `time_left`, for the script that counts down in the page."""
        return {"minutes": self.gettext(MINUTES_LEFT), "seconds": self.gettext(SECONDS_LEFT)}

    def country(self, code: str | None) -> str:
        if not code:
            return ""
        return Locale.parse(self.locale).territories.get(code.upper(), code)

    def moment(self, value: str | datetime | None) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return format_moment(value, timezone=self.timezone, locale=self.locale)

    def day(self, value: datetime) -> str:
        """ "Nov 22" / "22 nov.": a day of a chart, already in the store's time zone."""
        return format_skeleton("MMMd", value, locale=self.locale)

    def actor(self, actor) -> str:
        """Who did it, as a reader says it: the worker and rules get words, people their name."""
        if actor.kind == "worker":
            return self.gettext(ACTOR_WORKER)
        if actor.kind == "rule":
            return self.gettext(ACTOR_RULE) % {"name": actor.name}
        return actor.name

    def event(self, event: EventOut, currency: str) -> str:
        """The timeline sentence of `event`, in the reader's language."""
        data = labels.timeline_data(event.verb, event.data, self.gettext)
        return describe(event.verb, data, currency, locale=self.locale, translate=self.gettext)
