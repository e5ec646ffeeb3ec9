"""Timeline entries read as sentences in the reader's language."""

from dataclasses import dataclass
from datetime import UTC, datetime

from tandem.orders.domain import (
    CancelReason,
    FulfillmentStatus,
    PaymentEvent,
    apply_payment,
    cancel,
    move_fulfillment,
)
from tandem.timeline.messages import describe

FRENCH = {
    "A payment of {amount} was captured": "Un paiement de {amount} a été capturé",
}


def test_a_payment_reads_with_its_amount_in_the_order_currency():
    assert describe("payment_captured", {"amount": 4990}, "EUR") == "A payment of €49.90 was captured"


def test_the_amount_is_shown_with_the_currency_digits():
    assert describe("refund_succeeded", {"amount": 1500}, "JPY") == "¥1,500 was refunded"


def test_a_french_reader_sees_a_french_sentence_and_a_french_amount():
    text = describe("payment_captured", {"amount": 4990}, "EUR", locale="fr", translate=FRENCH.__getitem__)

    assert text == "Un paiement de 49,90\u00a0€ a été capturé"


def test_a_failure_names_its_amount_and_message():
    text = describe("capture_failed", {"amount": 4990, "message": "card declined"}, "EUR")

    assert text == "Capturing €49.90 failed: card declined"


def test_other_data_is_shown_as_it_is():
    text = describe("status_changed", {"from": "open", "to": "archived"}, "EUR")

    assert text == "Order status changed from open to archived"


def test_an_unknown_verb_falls_back_to_its_words():
    assert describe("supplier_notified", {"amount": 4990}, "EUR") == "supplier notified"


def test_missing_data_leaves_a_blank_instead_of_failing():
    assert describe("authorization_expired", {}, "EUR") == "The payment authorization expired"
    assert describe("hold_placed", {}, "EUR") == "Fulfillment was put on hold:"
    assert describe("order_placed", {}, "EUR") == "Order # was placed"


def test_missing_tracking_number_leaves_no_trailing_space():
    text = describe("fulfillment_created", {"units": 2, "tracking_number": None}, "EUR")

    assert text == "2 item(s) were fulfilled"


def test_an_amount_that_is_not_minor_units_is_shown_as_given():
    assert describe("payment_captured", {"amount": "49.90"}, "EUR") == "A payment of 49.90 was captured"


@dataclass
class Order:
    status: str = "open"
    financial_status: str = "pending"
    fulfillment_status: str = "unfulfilled"
    cancel_reason: str | None = None
    cancelled_at: datetime | None = None


def test_every_change_the_order_domain_records_has_its_own_sentence():
    order = Order()
    changes = [
        *apply_payment(order, PaymentEvent.PAY),
        *move_fulfillment(order, FulfillmentStatus.ON_HOLD),
        *cancel(order, reason=CancelReason.CUSTOMER, now=datetime(2026, 3, 14, tzinfo=UTC)),
    ]

    sentences = [describe(change.verb, change.data, "EUR") for change in changes]

    assert sentences == [
        "Payment status changed from pending to paid",
        "Fulfillment status changed from unfulfilled to on_hold",
        "The order was cancelled (reason: customer)",
        "Order status changed from open to cancelled",
    ]


def test_a_return_reason_reads_as_words_in_the_readers_language():
    from tandem.i18n.catalogs import load_catalogs
    from tandem.i18n.labels import timeline_data

    french = load_catalogs().get("fr").gettext

    assert timeline_data("return_requested", {"reason": "size_or_fit"}, str) == {"reason": "Size or fit"}
    assert timeline_data("return_requested", {"reason": "damaged"}, french) == {"reason": "Endommagé"}
