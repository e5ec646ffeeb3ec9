"""Words for the enum values people see (statuses, reasons, actions), marked for translation.

Keys are the contract values of SPEC §2; the English labels are gettext message ids.
"""

from collections.abc import Callable


def N_(text: str) -> str:  # marks a string for extraction; translated when shown
    return text


FINANCIAL_STATUS = {
    "pending": N_("Pending"),
    "authorized": N_("Authorized"),
    "partially_paid": N_("Partially paid"),
    "paid": N_("Paid"),
    "partially_refunded": N_("Partially refunded"),
    "refunded": N_("Refunded"),
    "voided": N_("Voided"),
    "expired": N_("Expired"),
}

FULFILLMENT_STATUS = {
    "unfulfilled": N_("Unfulfilled"),
    "scheduled": N_("Scheduled"),
    "on_hold": N_("On hold"),
    "in_progress": N_("In progress"),
    "partially_fulfilled": N_("Partially fulfilled"),
    "fulfilled": N_("Fulfilled"),
    "request_declined": N_("Request declined"),
}

ORDER_STATUS = {
    "open": N_("Open"),
    "cancelled": N_("Cancelled"),
    "archived": N_("Archived"),
}

HOLD_REASON = {
    "awaiting_payment": N_("Awaiting payment"),
    "high_risk_of_fraud": N_("High risk of fraud"),
    "incorrect_address": N_("Incorrect address"),
    "inventory_out_of_stock": N_("Inventory out of stock"),
    "unknown_delivery_date": N_("Unknown delivery date"),
    "other": N_("Other"),
}

CANCEL_REASON = {
    "customer": N_("Customer changed or cancelled the order"),
    "fraud": N_("Fraudulent order"),
    "inventory": N_("Items unavailable"),
    "declined": N_("Payment declined"),
    "other": N_("Other"),
}

ACTION = {
    "capture": N_("Capture payment"),
    "mark_as_paid": N_("Mark as paid"),
    "hold": N_("Hold fulfillment"),
    "release_hold": N_("Release holds"),
    "cancel": N_("Cancel order"),
    "refund": N_("Refund"),
    "fulfill": N_("Fulfill"),
    "archive": N_("Archive"),
    "unarchive": N_("Unarchive"),
}

TRANSACTION_KIND = {
    "authorization": N_("Authorization"),
    "capture": N_("Capture"),
    "sale": N_("Sale"),
    "void": N_("Void"),
    "refund": N_("Refund"),
}

TRANSACTION_STATUS = {
    "pending": N_("Pending"),
    "success": N_("Success"),
    "failure": N_("Failure"),
    "error": N_("Error"),
    "awaiting_customer": N_("Awaiting customer"),
}

EMAIL_STATUS = {
    "pending": N_("Waiting to be sent"),
    "sent": N_("Sent"),
    "kept": N_("Kept (no mail server)"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

DELIVERY_STATUS = {
    "pending": N_("Waiting to be delivered"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

EMAIL_TEMPLATE = {
    "order_confirmation": N_("Order confirmation"),
    "shipping_confirmation": N_("Shipping confirmation"),
    "order_cancelled": N_("Order cancelled"),
    "refund_issued": N_("Refund issued"),
    "payment_method_update": N_("Payment method update"),
    "payment_confirmation": N_("Payment confirmation"),
    "invoice": N_("Invoice"),
    "payment_failed": N_("Payment failed"),
    "supplier_order_new": N_("New supplier order"),
    "cancellation_requested": N_("Cancellation requested"),
    "cancellation_declined": N_("Cancellation declined"),
    "cancellation_accepted": N_("Cancellation accepted"),
    "manual_refund_required": N_("Manual refund required"),
    "return_requested": N_("Return requested"),
    "return_updated": N_("Return updated"),
}

ATTENTION = {  # badges on the orders list: what an order waits for
    "on_hold": N_("On hold"),
    "in_review": N_("In review window"),
    "awaiting_request": N_("Awaiting request"),
    "balance_problem": N_("Balance failed"),
    "cancellation_request": N_("Cancellation requested"),
    "notice": N_("Refund to record"),
}

NOTICE_KIND = {
    "manual_refund_required": N_("A manual refund is required"),
}

SUPPLIER_ORDER_STATUS = {
    "pending_payment": N_("Pending payment"),
    "awaiting_request": N_("Awaiting fulfillment request"),
    "scheduled": N_("Scheduled"),
    "on_hold": N_("On hold"),
    "open": N_("In progress"),
    "partially_fulfilled": N_("Partially fulfilled"),
    "fulfilled": N_("Fulfilled"),
    "cancelled": N_("Cancelled"),
}

COLLECTIVE_PAYMENT_STATUS = {
    "none": N_("Not requested yet"),
    "pending": N_("Pending"),
    "paid": N_("Paid"),
    "failed": N_("Failed"),
    "partially_refunded": N_("Partially refunded"),
    "refunded": N_("Refunded"),
}

CONNECTION_STATUS = {
    "requested": N_("Requested"),
    "active": N_("Connected"),
    "declined": N_("Declined"),
}

CANCELLATION_STATUS = {
    "requested": N_("Cancellation requested"),
    "accepted": N_("Cancellation accepted"),
    "declined": N_("Cancellation declined"),
}

PAYMENT_CAPTURE = {
    "automatic": N_("Automatic"),
    "manual": N_("Manual"),
}

SCHEDULE_STATUS = {
    "pending": N_("Pending"),
    "overdue": N_("Overdue"),
    "awaiting_customer": N_("Awaiting customer"),
    "paid": N_("Paid"),
    "failed": N_("Failed"),
    "cancelled": N_("Cancelled"),
}

PAYMENT_METHOD_STATUS = {
    "active": N_("Active"),
    "revoked": N_("Revoked"),
    "replaced": N_("Replaced"),
}

SUPPLIER_REFUND_STATUS = {
    "pending": N_("Processing"),
    "succeeded": N_("Refunded"),
    "failed": N_("Failed"),
    "manual_pending": N_("To be sent by the supplier"),
    "sent": N_("Sent by the supplier"),
}

RETURN_STATUS = {
    "requested": N_("Return requested"),
    "approved": N_("Return approved"),
    "declined": N_("Return declined"),
    "closed": N_("Return closed"),
}

LABEL_PROVIDER = {
    "supplier": N_("The supplier provides the return label"),
    "retailer": N_("The retailer provides the return label"),
    "customer": N_("The customer provides the return label"),
}

RETURN_REASON = {
    "damaged": N_("Damaged"),
    "defective": N_("Defective"),
    "wrong_item": N_("Wrong item"),
    "not_as_described": N_("Not as described"),
    "size_or_fit": N_("Size or fit"),
    "changed_mind": N_("Customer changed their mind"),
    "other": N_("Other"),
}


# Which label table translates which value of a timeline entry's data.
TIMELINE_VALUES: dict[str, dict[str, dict[str, str]]] = {
    "supplier_order_status_changed": {"from": SUPPLIER_ORDER_STATUS, "to": SUPPLIER_ORDER_STATUS},
    "financial_status_changed": {"from": FINANCIAL_STATUS, "to": FINANCIAL_STATUS},
    "fulfillment_status_changed": {"from": FULFILLMENT_STATUS, "to": FULFILLMENT_STATUS},
    "status_changed": {"from": ORDER_STATUS, "to": ORDER_STATUS},
    "order_cancelled": {"reason": CANCEL_REASON},
    "hold_placed": {"reason": HOLD_REASON},
    "hold_released": {"reason": HOLD_REASON},
    "return_requested": {"reason": RETURN_REASON},
}


def label(table: dict[str, str], value: str | None, gettext: Callable[[str], str]) -> str:
    """The translated label of `value`, or the value itself if it has none."""
    if value is None:
        return ""
    english = table.get(value)
    return gettext(english) if english else value.replace("_", " ")


def timeline_data(verb: str, data: dict, gettext: Callable[[str], str]) -> dict:
    """A timeline entry's data with its enum values replaced by translated labels."""
    tables = TIMELINE_VALUES.get(verb, {})
    return {
        key: label(tables[key], value, gettext) if key in tables else value for key, value in data.items()
    }


# What the admin sign-in page and the customer pages' card forms say when they refuse (429).
TOO_MANY_ATTEMPTS = N_("Too many failed attempts. Please wait a few minutes, then try again.")
