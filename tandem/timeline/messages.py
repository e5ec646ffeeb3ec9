"""Sentences for timeline entries, in the reader's language."""

from collections.abc import Callable

from tandem.money import display


def _(text: str) -> str:  # marks a string for translation; translated when shown
    return text


MESSAGES: dict[str, str] = {
    "order_placed": _("Order #{number} was placed"),
    "payment_authorized": _("A payment of {amount} was authorized"),
    "payment_captured": _("A payment of {amount} was captured"),
    "marked_as_paid": _("{amount} was marked as paid"),
    "capture_succeeded": _("A payment of {amount} was captured"),
    "capture_failed": _("Capturing {amount} failed: {message}"),
    "void_succeeded": _("The authorization of {amount} was voided"),
    "void_failed": _("Voiding the authorization failed: {message}"),
    "refund_created": _("A refund of {amount} was created"),
    "refund_succeeded": _("{amount} was refunded"),
    "refund_failed": _("Refunding {amount} failed: {message}"),
    "manual_refund_required": _("{amount} must be refunded manually"),
    "authorization_expired": _("The payment authorization expired"),
    "financial_status_changed": _("Payment status changed from {from} to {to}"),
    "fulfillment_status_changed": _("Fulfillment status changed from {from} to {to}"),
    "status_changed": _("Order status changed from {from} to {to}"),
    "order_cancelled": _("The order was cancelled (reason: {reason})"),
    "hold_placed": _("Fulfillment was put on hold: {reason}"),
    "hold_released": _("A fulfillment hold was released: {reason}"),
    "fulfillment_created": _("{units} item(s) were fulfilled {tracking_number}"),
    "supplier_order_created": _("A supplier order was created"),
    "supplier_order_status_changed": _("Supplier order status changed from {from} to {to}"),
    "collective_payment_received": _("The supplier received the payment of {amount}"),
    "collective_payment_charged": _("The retailer was charged {amount} for the supplier"),
    "collective_payment_failed": _("Charging {amount} for the supplier failed: {message}"),
    "rule_matched": _("Automation rule “{rule}” matched: {action}"),
    "rule_failed": _("Automation rule “{rule}” could not run: {message}"),
    "cancellation_requested": _("The retailer asked the supplier to cancel {message}"),
    "cancellation_accepted": _("The supplier accepted the cancellation"),
    "cancellation_declined": _("The supplier declined the cancellation: {message}"),
    "supplier_refund_created": _("The supplier refunded {amount} {note}"),
    "supplier_refund_succeeded": _("The supplier's refund of {amount} went through"),
    "supplier_refund_failed": _("The supplier's refund of {amount} failed: {message}"),
    "supplier_refund_sent": _("The supplier sent the refund of {amount} by hand"),
    "return_requested": _("A return was requested (reason: {reason})"),
    "return_approved": _("The supplier approved the return"),
    "return_declined": _("The supplier declined the return"),
    "return_closed": _("The return was closed"),
    "payment_schedule_paid": _("The balance of {amount} was paid"),
    "payment_schedule_failed": _("Charging the balance of {amount} failed: {message}"),
    "payment_schedule_awaiting_customer": _("The bank asked the customer to confirm the balance of {amount}"),
    "payment_schedule_charge_error": _("Charging the balance of {amount} did not go through: {message}"),
    "payment_schedule_overdue": _("The balance of {amount} is overdue"),
    "payment_schedule_retry_planned": _("The balance will be charged again"),
    "payment_schedule_cancelled": _("The balance of {amount} was cancelled"),
    "payment_schedule_due": _("The balance of {amount} is due now that the items shipped"),
    "payment_schedule_card_changed": _("The balance will be charged to the card ending in {last4}"),
    "payment_schedule_rescheduled": _("The balance's due date was changed"),
    "invoice_sent": _("An invoice for {amount} was sent to the customer"),
    "notice_resolved": _("A notice was resolved"),
}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


def describe(
    verb: str, data: dict, currency: str, *, locale: str = "en", translate: Callable[[str], str] = str
) -> str:
    template = MESSAGES.get(verb)
    if template is None:
        return verb.replace("_", " ")
    values = _Blank({k: ("" if v is None else v) for k, v in data.items()})
    if isinstance(data.get("amount"), int):
        values["amount"] = display(data["amount"], currency, locale)
    return translate(template).format_map(values).strip()
