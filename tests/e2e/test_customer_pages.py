"""The pages behind mailed links, over HTTP: a customer updates their card, confirms a payment
their bank challenged, or pays an invoice, in the store's language; used, expired and bogus
links get a page that says why (SPEC §2.4)."""

import re

import pytest

from tandem.money import display
from tests.support.mail import parts

DAY = 86400
BALANCE = 8000  # 100.00 with a 20 % deposit

HEADINGS = {
    ("update_card", "en"): "Update your payment method",
    ("update_card", "fr"): "Mettez à jour votre moyen de paiement",
    ("confirm_payment", "en"): "Confirm your payment",
    ("confirm_payment", "fr"): "Confirmez votre paiement",
    ("pay_invoice", "en"): "Pay your balance",
    ("pay_invoice", "fr"): "Réglez votre solde",
}


# -- arranging: a pre-order whose balance needs the customer, and the link they were mailed -----------


def _preorder(shop, card: str = "tok_success", email: str = "lea@example.com") -> dict:
    variant = shop.product(price="100.00")
    plan = shop.selling_plan([variant["id"]])
    return shop.preorder(variant["id"], plan["id"], card=card, email=email)


def declined_balance(shop, clock, worker, **kwargs) -> dict:
    """The card on file declined the balance: the customer is asked for a new card."""
    order = _preorder(shop, card="tok_decline_after_first", **kwargs)
    clock.advance(seconds=DAY + 1)
    worker.run_until_idle()
    return order


def challenged_balance(shop, clock, worker, **kwargs) -> dict:
    """The bank wants the customer to confirm the balance (3-D Secure)."""
    order = _preorder(shop, card="tok_requires_action", **kwargs)
    clock.advance(seconds=DAY + 1)
    worker.run_until_idle()
    return order


def invoiced_balance(shop, clock, worker, **kwargs) -> dict:
    """Staff sent an invoice for the balance."""
    order = _preorder(shop, **kwargs)
    sent = shop.post(
        f"/orders/{order['id']}/payment_schedules/{_schedule(shop, order['id'])['id']}/send_invoice"
    )
    assert sent.status_code == 200, sent.text
    worker.run_until_idle()
    return order


SITUATIONS = {
    "update_card": declined_balance,
    "confirm_payment": challenged_balance,
    "pay_invoice": invoiced_balance,
}


def _schedule(shop, order_id: int) -> dict:
    [schedule] = shop.order(order_id)["payment_schedules"]
    return schedule


def mailed_link(smtp, purpose: str) -> str:
    """The path of the newest link of `purpose` the customer was mailed."""
    for message in reversed(smtp.wait_for(1)):
        found = re.search(rf"https?://[^/\s]+(/p/{purpose}/[^\s]+)", parts(message)["plain"])
        if found:
            return found.group(1)
    raise AssertionError(f"no {purpose} link was mailed")


def form_key(page) -> str:
    return re.search(r'name="form_key" value="([0-9a-f]+)"', page.text).group(1)


def submit(client, path: str, **fields):
    """Fill in the form the page shows and send it."""
    key = form_key(client.get(path))
    return client.post(path, data={"form_key": key, **fields})


def heading(page) -> str:
    return re.search(r"<h1>(.*?)</h1>", page.text, re.S).group(1).strip()


# -- each page in the store's language ----------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "fr"])
@pytest.mark.parametrize("purpose", sorted(SITUATIONS))
def test_each_page_shows_the_store_and_the_balance_in_the_stores_language(
    make_store, clock, worker, smtp, client, purpose, locale
):
    shop = make_store("Maison Lune", locale=locale)
    order = SITUATIONS[purpose](shop, clock, worker)

    page = client.get(mailed_link(smtp, purpose))
    assert page.status_code == 200, page.text
    assert f'<html lang="{locale}">' in page.text
    assert heading(page) == HEADINGS[purpose, locale]
    assert "Maison Lune" in page.text
    assert order["name"] in page.text
    assert display(BALANCE, "EUR", locale) in page.text


def test_a_customer_who_chose_french_reads_french_in_an_english_store(shop, clock, worker, smtp, client):
    shop.post("/customers", {"email": "lea@example.com", "locale": "fr"})
    declined_balance(shop, clock, worker, email="lea@example.com")

    page = client.get(mailed_link(smtp, "update_card"))
    assert '<html lang="fr">' in page.text
    assert heading(page) == HEADINGS["update_card", "fr"]


def test_pages_are_never_cached_and_never_give_their_address_away(shop, clock, worker, smtp, client):
    invoiced_balance(shop, clock, worker)
    link = mailed_link(smtp, "pay_invoice")

    for response in (client.get(link), client.get("/p/pay_invoice/bogus")):
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "set-cookie" not in client.get(link).headers


# -- what the customer does ---------------------------------------------------------------------------


def test_a_new_card_replaces_the_declined_one_and_the_worker_charges_the_balance(
    shop, clock, worker, smtp, client
):
    order = declined_balance(shop, clock, worker)
    declined = _schedule(shop, order["id"])
    assert declined["status"] == "failed"

    saved = submit(client, mailed_link(smtp, "update_card"), card_token="tok_success")
    assert saved.status_code == 200, saved.text
    assert heading(saved) == "Your card is saved"
    assert "4242" in saved.text
    cards = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"]
    assert [c["status"] for c in cards] == ["replaced", "active"]

    worker.run_until_idle()
    schedule = _schedule(shop, order["id"])
    assert schedule["status"] == "paid"
    assert schedule["payment_method_id"] == cards[1]["id"] != declined["payment_method_id"]
    assert shop.order(order["id"])["financial_status"] == "paid"


def test_a_customer_whose_card_was_removed_adds_one_and_the_balance_is_charged(
    shop, clock, worker, smtp, client
):
    order = _preorder(shop)
    [card] = shop.get(f"/customers/{order['customer_id']}").json()["payment_methods"]
    shop.delete(f"/customers/{order['customer_id']}/payment_methods/{card['id']}")
    worker.run_until_idle()
    link = mailed_link(smtp, "update_card")

    page = client.get(link)
    assert "The card you enter below will be used for your next payments." in page.text
    assert order["name"] in page.text  # the payment waiting for a card
    assert submit(client, link, card_token="tok_success").status_code == 200
    clock.advance(seconds=DAY + 1)
    worker.run_until_idle()
    assert _schedule(shop, order["id"])["status"] == "paid"


def test_confirming_a_challenged_payment_pays_the_balance(shop, clock, worker, smtp, client):
    order = challenged_balance(shop, clock, worker)
    assert _schedule(shop, order["id"])["status"] == "awaiting_customer"

    confirmed = submit(client, mailed_link(smtp, "confirm_payment"))
    assert confirmed.status_code == 200, confirmed.text
    assert heading(confirmed) == "Payment confirmed"
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"


def test_paying_an_invoice_pays_the_balance(shop, clock, worker, smtp, client):
    order = invoiced_balance(shop, clock, worker)

    paid = submit(client, mailed_link(smtp, "pay_invoice"), card_token="tok_success")
    assert paid.status_code == 200, paid.text
    assert heading(paid) == "Thank you for your payment"
    assert _schedule(shop, order["id"])["status"] == "paid"
    assert shop.order(order["id"])["financial_status"] == "paid"


def test_a_declined_card_on_an_invoice_leaves_the_link_usable_for_another_card(
    shop, clock, worker, smtp, client
):
    order = invoiced_balance(shop, clock, worker)
    link = mailed_link(smtp, "pay_invoice")

    declined = submit(client, link, card_token="tok_decline")
    assert declined.status_code == 402
    assert 'role="alert"' in declined.text and "Your card was declined" in declined.text
    assert 'name="card_token"' in declined.text  # the form again, to try another card
    assert _schedule(shop, order["id"])["status"] != "paid"

    paid = submit(client, link, card_token="tok_success")
    assert paid.status_code == 200, paid.text
    assert _schedule(shop, order["id"])["status"] == "paid"


# -- links that cannot be used ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "purpose, fields",
    [
        ("update_card", {"card_token": "tok_success"}),
        ("confirm_payment", {}),
        ("pay_invoice", {"card_token": "tok_success"}),
    ],
)
def test_a_used_link_is_refused_with_a_page_that_says_so(shop, clock, worker, smtp, client, purpose, fields):
    SITUATIONS[purpose](shop, clock, worker)
    link = mailed_link(smtp, purpose)
    key = form_key(client.get(link))
    assert client.post(link, data={"form_key": key, **fields}).status_code == 200

    for again in (client.get(link), client.post(link, data={"form_key": key, **fields})):
        assert again.status_code == 409
        assert heading(again) == "This link was already used"
        assert "Maison Camille" in again.text
        assert 'name="form_key"' not in again.text


def test_an_expired_link_is_refused_in_the_stores_language(make_store, clock, worker, smtp, client):
    shop = make_store("Maison Lune", locale="fr")
    order = invoiced_balance(shop, clock, worker)
    link = mailed_link(smtp, "pay_invoice")
    key = form_key(client.get(link))
    clock.advance(days=8)

    for refused in (client.get(link), client.post(link, data={"form_key": key, "card_token": "tok_success"})):
        assert refused.status_code == 410
        assert heading(refused) == "Ce lien a expiré"
        assert "Maison Lune" in refused.text
    assert _schedule(shop, order["id"])["status"] == "pending"


@pytest.mark.parametrize(
    "path",
    [
        "/p/update_card/bogus",
        "/p/pay_invoice/eyJsIjoxLCJuIjoieCJ9.forged",
        "/p/confirm_payment/",
        "/p/unknown_purpose/abc",
    ],
)
def test_a_bogus_link_is_not_found(client, path):
    page = client.get(path, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert heading(page) == "Ce lien n’est pas valide"
    assert client.post(path, data={"card_token": "tok_success"}).status_code == 404


def test_a_link_opens_only_the_page_it_was_made_for(shop, clock, worker, smtp, client):
    invoiced_balance(shop, clock, worker)
    token = mailed_link(smtp, "pay_invoice").rsplit("/", 1)[1]
    assert client.get(f"/p/update_card/{token}").status_code == 404
    assert client.get(f"/p/confirm_payment/{token}").status_code == 404


def test_an_invoice_already_paid_by_the_card_on_file_has_nothing_left_to_pay(
    shop, clock, worker, smtp, client
):
    order = invoiced_balance(shop, clock, worker)
    clock.advance(seconds=DAY + 1)
    worker.run_until_idle()  # the balance fell due and the card on file paid it
    assert _schedule(shop, order["id"])["status"] == "paid"

    page = client.get(mailed_link(smtp, "pay_invoice"))
    assert page.status_code == 409
    assert heading(page) == "Nothing to do here"


# -- what the customer types ----------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", ["update_card", "pay_invoice"])
@pytest.mark.parametrize("card_token", ["", "   "])
def test_an_empty_card_token_shows_the_form_again_with_the_fields_error(
    shop, clock, worker, smtp, client, purpose, card_token
):
    order = SITUATIONS[purpose](shop, clock, worker)
    before = _schedule(shop, order["id"])
    link = mailed_link(smtp, purpose)

    page = submit(client, link, card_token=card_token)
    assert page.status_code == 422
    field = re.search(r'<input id="card_token"[^>]*>', page.text).group(0)
    assert 'aria-invalid="true"' in field
    assert '<p class="field-error" id="card_token_error">Enter a card token.</p>' in page.text
    assert _schedule(shop, order["id"]) == before
    assert submit(client, link, card_token="tok_success").status_code == 200  # the link still works


def test_an_unknown_card_is_refused_on_the_field(shop, clock, worker, smtp, client):
    declined_balance(shop, clock, worker)
    link = mailed_link(smtp, "update_card")

    page = submit(client, link, card_token="4242 4242 4242 4242")
    assert page.status_code == 422
    assert "This card was not accepted" in page.text
    assert submit(client, link, card_token="tok_success").status_code == 200


def test_an_empty_card_token_is_refused_in_french(make_store, clock, worker, smtp, client):
    shop = make_store("Maison Lune", locale="fr")
    invoiced_balance(shop, clock, worker)

    page = submit(client, mailed_link(smtp, "pay_invoice"), card_token="")
    assert page.status_code == 422
    assert "Saisissez un jeton de carte." in page.text


# -- forms only from their own page ------------------------------------------------------------------------


def test_a_form_without_its_key_or_from_another_site_changes_nothing(shop, clock, worker, smtp, client):
    order = invoiced_balance(shop, clock, worker)
    link = mailed_link(smtp, "pay_invoice")
    fields = {"form_key": form_key(client.get(link)), "card_token": "tok_success"}

    refused = [
        client.post(link, data={"card_token": "tok_success"}),
        client.post(link, data={**fields, "form_key": "0" * 64}),
        client.post(link, data=fields, headers={"Origin": "https://evil.example"}),
        client.post(link, data=fields, headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert heading(response) == "This form was refused"
    assert _schedule(shop, order["id"])["status"] == "pending"

    # What a browser sends from the page itself (whose no-referrer policy makes its Origin "null").
    same_site = client.post(link, data=fields, headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert same_site.status_code == 200
    assert _schedule(shop, order["id"])["status"] == "paid"
