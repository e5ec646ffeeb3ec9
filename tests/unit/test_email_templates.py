"""Every email renders in English and in French: a one-line subject, a plain-text part and an escaped
HTML part, with amounts and times written for the reader."""

import re
import string
from copy import deepcopy
from importlib.resources import files
from io import BytesIO

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tandem.notifications.rendering import CUSTOMER, TEMPLATES, EmailRenderer

RETAILER = {
    "name": "Maison Lune",
    "email": "bonjour@maison-lune.example",
    "url": "https://maison-lune.example",
    "timezone": "Europe/Paris",
}
SUPPLIER = {
    "name": "Atelier Nord",
    "email": "contact@atelier-nord.example",
    "url": "https://atelier-nord.example",
    "timezone": "Europe/Paris",
}
LEA = {"name": "Léa Moreau", "email": "lea.moreau@example.com"}
STAFF = {"name": None, "email": "equipe@example.com"}

ORDER = {
    "name": "#1001",
    "number": 1001,
    "created_at": "2026-11-22T09:00:00+00:00",
    "currency": "EUR",
    "subtotal": 11800,
    "shipping_total": 490,
    "total": 12290,
    "lines": [
        {
            "title": "Chemise en lin",
            "variant_title": "Blanc / M",
            "sku": "LIN-BL-M",
            "quantity": 2,
            "price": 4990,
            "total": 9980,
        },
        {
            "title": "Carnet pointillé",
            "variant_title": None,
            "sku": "CAR-PT",
            "quantity": 1,
            "price": 1820,
            "total": 1820,
        },
    ],
    "shipping_address": {
        "first_name": "Léa",
        "last_name": "Moreau",
        "address1": "8 rue des Lilas",
        "city": "Lyon",
        "zip": "69003",
        "country_code": "FR",
    },
}
SUPPLIER_ORDER = {
    "id": 73,
    "retailer_name": "Maison Lune",
    "supplier_name": "Atelier Nord",
    "order_name": "#1001",
    "currency": "EUR",
    "url": "https://tandem.example/admin/supplier-orders/73",
    "lines": [{"title": "Chemise en lin", "sku": "AN-LIN-BL-M", "quantity": 2}],
}
LINK = {"url": "https://maison-lune.example/p/9f2c1e", "expires_at": "2026-11-29T09:00:00+00:00"}
PAYMENT = {"amount": 4990, "currency": "EUR", "due_at": "2026-12-01T09:00:00+00:00"}

# What each email is given, beyond store, recipient and locale (see the rendering module).
CONTEXTS = {
    "order_confirmation": {"order": ORDER},
    "shipping_confirmation": {
        "order": ORDER,
        "fulfillment": {
            "tracking_company": "Colissimo",
            "tracking_number": "6A12345678901",
            "tracking_url": "https://suivi.example/6A12345678901",
            "lines": [{"title": "Chemise en lin", "quantity": 2}],
            "complete": True,
        },
    },
    "order_cancelled": {"order": ORDER, "cancellation": {"reason": "inventory", "refunded": 12290}},
    "refund_issued": {
        "order": ORDER,
        "refund": {
            "amount": 4990,
            "note": "Geste commercial pour le retard.",
            "lines": [{"title": "Chemise en lin", "quantity": 1}],
        },
    },
    "payment_method_update": {
        "link": LINK,
        "payment_method": {"brand": "visa", "last4": "4242"},
        "reason": "requested",
    },
    "payment_confirmation": {"link": LINK, "order": ORDER, "payment": PAYMENT},
    "invoice": {"link": LINK, "order": ORDER, "payment": PAYMENT},
    "payment_failed": {"link": LINK, "order": ORDER, "payment": PAYMENT},
    "supplier_order_new": {"supplier_order": SUPPLIER_ORDER},
    "cancellation_requested": {"supplier_order": SUPPLIER_ORDER, "message": "La cliente a changé d’avis."},
    "cancellation_declined": {
        "supplier_order": SUPPLIER_ORDER,
        "message": "Colis déjà remis au transporteur.",
    },
    "cancellation_accepted": {"supplier_order": SUPPLIER_ORDER},
    "supplier_order_cancelled": {"supplier_order": SUPPLIER_ORDER, "message": "Rupture de stock chez nous."},
    "manual_refund_required": {
        "order": ORDER,
        "notice": {"amount": 4990, "currency": "EUR", "reason": "Carte expirée"},
    },
    "return_requested": {
        "supplier_order": SUPPLIER_ORDER,
        "return_request": {
            "id": 5,
            "status": "requested",
            "reason": "Taille trop grande",
            "lines": [{"title": "Chemise en lin", "sku": "AN-LIN-BL-M", "quantity": 1}],
            "refund_amount": 2400,
        },
    },
    "return_updated": {
        "supplier_order": SUPPLIER_ORDER,
        "return_request": {
            "id": 5,
            "status": "approved",
            "reason": "Taille trop grande",
            "lines": [{"title": "Chemise en lin", "sku": "AN-LIN-BL-M", "quantity": 1}],
            "refund_amount": 2400,
        },
    },
}
# Emails to a supplier's staff come from the supplier's store; the others from the retailer's.
SENT_BY_SUPPLIER = {"supplier_order_new", "cancellation_requested", "return_requested"}

# Words each French email must contain, in both parts: proof that its body was translated.
FRENCH_WORD = {
    "order_confirmation": "Nous avons bien reçu votre commande",
    "shipping_confirmation": "a été expédiée",
    "order_cancelled": "a été annulée",
    "refund_issued": "Nous vous avons remboursé",
    "payment_method_update": "moyen de paiement enregistré",
    "payment_confirmation": "Votre banque vous demande de confirmer",
    "invoice": "est à régler",
    "payment_failed": "Nous n’avons pas pu débiter",
    "supplier_order_new": "vous a transmis la commande",
    "cancellation_requested": "vous demande d’annuler",
    "cancellation_declined": "a refusé votre demande",
    "cancellation_accepted": "a accepté votre demande",
    "supplier_order_cancelled": "a annulé les articles",
    "manual_refund_required": "n’a pas pu être effectué automatiquement",
    "return_requested": "a demandé un retour",
    "return_updated": "a accepté le retour",
}
ENGLISH_WORDS = re.compile(
    r"\b(the|your|you|order|please|was|has|been|with|for|items?|shipping)\b", re.IGNORECASE
)
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
EVERY_EMAIL = [(name, locale) for name in TEMPLATES for locale in ("en", "fr")]


@pytest.fixture(scope="module")
def renderer():
    return EmailRenderer()


def context(name: str, **changes) -> dict:
    store = SUPPLIER if name in SENT_BY_SUPPLIER else RETAILER
    recipient = LEA if TEMPLATES[name] == CUSTOMER else STAFF
    values = deepcopy({"store": store, "recipient": recipient, **CONTEXTS[name]})
    values.update(changes)
    return values


def text_of(html: str) -> str:
    """What a reader sees of an HTML part: its words, without tags and entities."""
    body = re.sub(r"<!DOCTYPE html>|<head>.*?</head>", " ", html, flags=re.DOTALL)
    return " ".join(TAG.sub(" ", body).replace("&nbsp;", " ").split())


# -- every email, in both languages ---------------------------------------------------------------


def test_there_is_a_sample_context_for_every_email():
    assert set(CONTEXTS) == set(TEMPLATES) == set(FRENCH_WORD)


@pytest.mark.parametrize("name, locale", EVERY_EMAIL)
def test_an_email_has_a_one_line_subject_a_text_part_and_an_html_part(renderer, name, locale):
    email = renderer.render(name, locale, context(name))

    assert email.subject.strip() and "\n" not in email.subject
    assert email.text.strip() and not TAG.search(email.text)
    assert "\n\n\n" not in email.text and "None" not in email.text
    assert email.html.lstrip().startswith("<!DOCTYPE html>")
    assert f'<html lang="{locale}">' in email.html
    assert context(name)["store"]["name"] in email.html


@pytest.mark.parametrize("name, locale", EVERY_EMAIL)
def test_the_html_part_escapes_what_people_typed_and_the_text_part_keeps_it(renderer, name, locale):
    values = context(name, store={**context(name)["store"], "name": "Lune & <script>alert(1)</script>"})

    email = renderer.render(name, locale, values)

    assert "<script>" not in email.html
    assert "Lune &amp; &lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "Lune & <script>alert(1)</script>" in email.text


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_a_french_email_is_written_in_french(renderer, name):
    english = renderer.render(name, "en", context(name))
    french = renderer.render(name, "fr", context(name))

    assert french.subject != english.subject
    assert FRENCH_WORD[name] in french.text
    assert FRENCH_WORD[name] in text_of(french.html)
    for part in (french.subject, french.text, text_of(french.html)):
        without_links = re.sub(r"\S+@\S+|https?://\S+", "", part)
        assert ENGLISH_WORDS.findall(without_links) == [], part


@pytest.mark.parametrize("name", list(TEMPLATES))
def test_customers_and_staff_are_told_why_they_get_an_email(renderer, name):
    email = renderer.render(name, "en", context(name))
    store = context(name)["store"]["name"]

    if TEMPLATES[name] == CUSTOMER:
        footer = f"You are receiving this email because you placed an order with {store}."
    else:
        footer = f"Sent by Tandem to the staff of {store}."
    assert footer in email.text
    assert footer in text_of(email.html)


# -- amounts, times, addresses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "locale, total, paid", [("en", "€122.90", "€49.90"), ("fr", "122,90\u00a0€", "49,90\u00a0€")]
)
def test_amounts_are_written_the_way_the_reader_writes_them(renderer, locale, total, paid):
    confirmation = renderer.render("order_confirmation", locale, context("order_confirmation"))
    invoice = renderer.render("invoice", locale, context("invoice"))

    assert total in confirmation.text and total in confirmation.html
    assert paid in invoice.text
    assert paid in invoice.html


@pytest.mark.parametrize(
    "locale, placed", [("en", "Nov 22, 2026, 10:00\u202fAM"), ("fr", "22 nov. 2026, 10:00")]
)
def test_times_are_shown_in_the_store_time_zone(renderer, locale, placed):
    email = renderer.render("order_confirmation", locale, context("order_confirmation"))

    assert placed in email.text and placed in email.html
    assert "09:00" not in email.text


def test_a_link_says_until_when_it_works(renderer):
    english = renderer.render("payment_method_update", "en", context("payment_method_update"))
    french = renderer.render("payment_method_update", "fr", context("payment_method_update"))

    assert "This link expires on Nov 29, 2026, 10:00\u202fAM." in english.text
    assert "Ce lien expire le 29 nov. 2026, 10:00." in text_of(french.html)


def test_the_shipping_address_is_written_as_a_postal_address(renderer):
    email = renderer.render("order_confirmation", "en", context("order_confirmation"))
    french = renderer.render("order_confirmation", "fr", context("order_confirmation"))

    assert "Léa Moreau\n8 rue des Lilas\n69003 Lyon\nFrance" in email.text
    assert "Léa Moreau<br>8 rue des Lilas<br>69003 Lyon<br>France" in email.html
    assert "69003 Lyon\nFrance" in french.text


def test_an_american_address_puts_the_zip_code_after_the_state(renderer):
    address = {
        "first_name": "Ann",
        "address1": "1 Main St",
        "city": "Austin",
        "province": "TX",
        "zip": "78701",
        "country_code": "US",
    }
    order = {**ORDER, "shipping_address": address}

    email = renderer.render("order_confirmation", "en", context("order_confirmation", order=order))

    assert "Ann\n1 Main St\nAustin, TX 78701\nUnited States" in email.text


def test_a_store_without_a_contact_address_does_not_invite_questions(renderer):
    values = context("order_confirmation", store={**RETAILER, "email": None})

    email = renderer.render("order_confirmation", "en", values)

    assert "Questions?" not in email.text and "Questions?" not in email.html
    assert "None" not in email.text


def test_an_order_without_a_shipping_address_has_no_address_section(renderer):
    values = context("shipping_confirmation", order={**ORDER, "shipping_address": {}})

    email = renderer.render("shipping_confirmation", "en", values)

    assert "Shipping address" not in email.text and "Shipping address" not in email.html
    assert "\n\n\n" not in email.text


# -- what each email says -------------------------------------------------------------------------


def test_a_customer_without_a_name_is_greeted_plainly(renderer):
    values = context("order_confirmation", recipient={"name": None, "email": "lea.moreau@example.com"})

    assert renderer.render("order_confirmation", "en", values).text.startswith("Hello,\n")
    assert renderer.render("order_confirmation", "fr", values).text.startswith("Bonjour,\n")


def test_a_named_customer_is_greeted_by_name(renderer):
    email = renderer.render("order_confirmation", "fr", context("order_confirmation"))

    assert email.text.startswith("Bonjour Léa Moreau,\n")


def test_a_complete_shipment_says_the_order_is_on_its_way_with_a_tracking_link(renderer):
    email = renderer.render("shipping_confirmation", "en", context("shipping_confirmation"))

    assert email.subject == "Your order #1001 is on its way"
    assert "Tracking number: 6A12345678901" in email.text
    assert 'href="https://suivi.example/6A12345678901"' in email.html
    assert "Track your package" in email.html


def test_a_partial_shipment_says_part_of_the_order_is_on_its_way(renderer):
    fulfillment = {**CONTEXTS["shipping_confirmation"]["fulfillment"], "complete": False}

    email = renderer.render(
        "shipping_confirmation", "fr", context("shipping_confirmation", fulfillment=fulfillment)
    )

    assert email.subject == "Une partie de votre commande #1001 est en route"


def test_a_shipment_without_tracking_has_no_tracking_button(renderer):
    fulfillment = {
        **CONTEXTS["shipping_confirmation"]["fulfillment"],
        "tracking_company": None,
        "tracking_number": None,
        "tracking_url": None,
    }

    email = renderer.render(
        "shipping_confirmation", "en", context("shipping_confirmation", fulfillment=fulfillment)
    )

    assert "Track your package" not in email.html
    assert "Tracking number" not in email.text
    assert "\n\n\n" not in email.text


@pytest.mark.parametrize(
    "reason, sentence",
    [
        ("customer", "Your order #1001 has been cancelled at your request."),
        ("inventory", "Your order #1001 has been cancelled because some items are no longer available."),
        ("declined", "Your order #1001 has been cancelled because the payment was declined."),
        ("fraud", "Your order #1001 has been cancelled because we could not verify it."),
        ("other", "Your order #1001 has been cancelled."),
    ],
)
def test_a_cancellation_reason_reads_as_a_sentence(renderer, reason, sentence):
    values = context("order_cancelled", cancellation={"reason": reason, "refunded": None})

    email = renderer.render("order_cancelled", "en", values)

    assert sentence in email.text
    assert "refund" not in email.text.lower()


def test_a_cancellation_mentions_the_amount_refunded(renderer):
    email = renderer.render("order_cancelled", "fr", context("order_cancelled"))

    assert "Un remboursement de 122,90\u00a0€ a été effectué." in email.text


@pytest.mark.parametrize(
    "reason, payment_method, sentence",
    [
        ("requested", {"brand": "visa", "last4": "4242"}, "(currently Visa •••• 4242)"),
        ("declined", {"brand": "visa", "last4": "4242"}, "Your card Visa •••• 4242 was declined."),
        ("declined", None, "Your saved card was declined."),
        ("revoked", None, "Your saved payment method has been removed."),
    ],
)
def test_a_payment_method_update_explains_why_it_is_asked(renderer, reason, payment_method, sentence):
    values = context("payment_method_update", reason=reason, payment_method=payment_method)

    email = renderer.render("payment_method_update", "en", values)

    assert sentence in email.text
    assert 'href="https://maison-lune.example/p/9f2c1e"' in email.html


def test_an_invoice_without_a_due_date_still_asks_for_the_payment(renderer):
    values = context("invoice", payment={**PAYMENT, "due_at": None})

    email = renderer.render("invoice", "en", values)

    assert "A payment of €49.90 is due for your order #1001." in email.text
    assert "Pay €49.90" in email.html


def test_a_declined_cancellation_without_a_message_says_no_reason_was_given(renderer):
    email = renderer.render("cancellation_declined", "fr", context("cancellation_declined", message=None))

    assert "Aucun motif n’a été indiqué." in email.text


def test_a_manual_refund_between_stores_names_both_and_links_to_the_supplier_order(renderer):
    values = context("manual_refund_required", supplier_order=SUPPLIER_ORDER)
    del values["order"]

    email = renderer.render("manual_refund_required", "en", values)

    assert email.subject == "Manual refund required for order #1001"
    assert "Atelier Nord must refund €49.90 to Maison Lune by hand for order #1001." in email.text
    assert SUPPLIER_ORDER["url"] in email.html


@pytest.mark.parametrize(
    "status, subject",
    [
        ("approved", "Retour accepté pour la commande #1001"),
        ("declined", "Retour refusé pour la commande #1001"),
        ("closed", "Retour clôturé pour la commande #1001"),
    ],
)
def test_a_return_update_says_what_the_supplier_decided(renderer, status, subject):
    return_request = {**CONTEXTS["return_updated"]["return_request"], "status": status}

    email = renderer.render("return_updated", "fr", context("return_updated", return_request=return_request))

    assert email.subject == subject


# -- the French catalog ---------------------------------------------------------------------------


def test_every_email_string_has_a_french_translation():
    french = {m.id: m.string for m in catalog("fr", "LC_MESSAGES", "messages.po") if m.id and not m.fuzzy}
    wanted = email_messages()

    assert len(wanted) > 50
    assert sorted(m for m in wanted if not french.get(m)) == []
    for english in wanted:
        assert placeholders(english) == placeholders(french[english]), english


def test_every_email_string_is_in_the_catalog_template():
    template = {m.id for m in catalog("messages.pot")}

    assert sorted(email_messages() - template) == []


def email_messages() -> set[str]:
    """The msgids of the email templates, as `pybabel extract` finds them (.txt and .html alike)."""
    templates = files("tandem.notifications") / "templates"
    options = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}
    found = extract_from_dir(str(templates), [("**/email/*", "jinja2")], {"**/email/*": options})
    return {message for _, _, message, _, _ in found}


def catalog(*path: str):
    locales = files("tandem.i18n") / "locales"
    return read_po(BytesIO(locales.joinpath(*path).read_bytes()), locale="fr" if path[0] == "fr" else None)


def placeholders(text: str) -> set[str]:
    braces = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return braces | set(re.findall(r"%\((\w+)\)s", text))


def test_a_store_without_a_website_is_signed_with_its_name_only(renderer):
    values = context("order_confirmation")
    values["store"] = {**values["store"], "url": None}
    email = renderer.render("order_confirmation", "fr", values)

    assert "None" not in email.text and "None" not in email.html


def test_mail_is_sent_from_code_already_inside_an_event_loop():
    import asyncio
    import threading

    from tandem.notifications.smtp import _run

    ran = []

    async def send():
        ran.append(True)

    async def caller_with_a_running_loop():
        _run(send())

    def in_a_fresh_thread():
        asyncio.new_event_loop().run_until_complete(caller_with_a_running_loop())

    thread = threading.Thread(target=in_a_fresh_thread)
    thread.start()
    thread.join(10)
    assert ran == [True]


# -- pre-orders --------------------------------------------------------------------------------------

PREORDER = {
    **ORDER,
    "paid_now": 2458,
    "balances": [
        {"amount": 4916, "currency": "EUR", "due_at": "2027-01-15T09:00:00+00:00"},
        {"amount": 4916, "currency": "EUR", "due_at": None},
    ],
}


@pytest.mark.parametrize(
    ("locale", "paid", "dated", "at_shipping"),
    [
        ("en", "Paid today", "Balance due on", "Balance due when your order ships"),
        ("fr", "Payé aujourd’hui", "Solde dû le", "Solde dû à l’expédition de votre commande"),
    ],
)
def test_a_preorder_confirmation_says_what_was_paid_and_when_the_rest_is_due(
    renderer, locale, paid, dated, at_shipping
):
    email = renderer.render("order_confirmation", locale, context("order_confirmation", order=PREORDER))

    for part in (email.text, text_of(email.html)):
        assert paid in part and dated in part and at_shipping in part
        assert "49,16" in part or "49.16" in part
    assert "Paid today" not in renderer.render("order_confirmation", "en", context("order_confirmation")).text
