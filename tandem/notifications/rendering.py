"""Rendering an email: subject, plain text and HTML, in the reader's language.

Every email is `templates/email/<name>.txt` (blocks `subject` and `body`, not
escaped) and `templates/email/<name>.html` (the HTML part, autoescaped), translated
with the gettext catalogs of tandem.i18n. Contexts are plain JSON (they are stored
with the email when it is queued); amounts are minor units and times ISO strings,
formatted here for the locale and the store's time zone.

Context of every email:
  store:     {name, email, url (the shop's site, or null), timezone}
  recipient: {name, email}
Per template (see TEMPLATES):
  order:        {name, number, created_at, currency, subtotal, shipping_total, total,
                 lines: [{title, variant_title, sku, quantity, price, total}], shipping_address,
                 url (staff mails: the order in the admin)}
  fulfillment:  {tracking_company, tracking_number, tracking_url, lines: [{title, quantity}], complete}
  cancellation: {reason, refunded}              (refunded: minor units or null)
  refund:       {amount, note, lines: [{title, quantity}]}
  link:         {url, expires_at}
  payment:      {amount, currency, due_at}
  payment_method: {brand, last4} | null;  reason: "requested" | "declined" | "revoked"
  supplier_order: {id, retailer_name, supplier_name, order_name, currency, lines: [{title, sku, quantity}],
                   url}
  message:      free text written by the other party, or null
  notice:       {amount, currency, reason}
  return_request: {id, status, reason, lines: [{title, quantity}], refund_amount}
"""

from dataclasses import dataclass
from datetime import datetime

from babel import Locale
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tandem.i18n.catalogs import LOCALES, Catalogs, load_catalogs
from tandem.i18n.formatting import format_moment, format_money

CUSTOMER, STAFF = "customer", "staff"
TEMPLATES: dict[str, str] = {
    "order_confirmation": CUSTOMER,
    "shipping_confirmation": CUSTOMER,
    "order_cancelled": CUSTOMER,
    "refund_issued": CUSTOMER,
    "payment_method_update": CUSTOMER,
    "payment_confirmation": CUSTOMER,
    "invoice": CUSTOMER,
    "payment_failed": CUSTOMER,
    "supplier_order_new": STAFF,
    "cancellation_requested": STAFF,
    "cancellation_declined": STAFF,
    "cancellation_accepted": STAFF,
    "manual_refund_required": STAFF,
    "return_requested": STAFF,
    "return_updated": STAFF,
    "supplier_order_cancelled": STAFF,
}


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailRenderer:
    """One Jinja environment per language and part, built once."""

    def __init__(self, catalogs: Catalogs | None = None):
        catalogs = catalogs or load_catalogs()
        self._text = {locale: _environment(catalogs, locale, html=False) for locale in LOCALES}
        self._html = {locale: _environment(catalogs, locale, html=True) for locale in LOCALES}

    def render(self, template: str, locale: str, context: dict) -> RenderedEmail:
        if template not in TEMPLATES:
            raise LookupError(f"no email template {template!r}")
        locale = locale if locale in LOCALES else "en"
        values = {**context, "locale": locale}
        text_template = self._text[locale].get_template(f"email/{template}.txt")
        subject = "".join(text_template.blocks["subject"](text_template.new_context(values))).strip()
        body = "".join(text_template.blocks["body"](text_template.new_context(values))).strip() + "\n"
        html = self._html[locale].get_template(f"email/{template}.html").render(values)
        return RenderedEmail(" ".join(subject.split()), body, html)


def _environment(catalogs: Catalogs, locale: str, *, html: bool) -> Environment:
    environment = Environment(
        loader=PackageLoader("tandem.notifications", "templates"),
        autoescape=select_autoescape(default=html, default_for_string=html),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the package: no stat() of their files per email
    )
    environment.install_gettext_translations(catalogs.get(locale), newstyle=True)
    environment.filters["money"] = lambda minor, currency: format_money(minor, currency, locale=locale)
    environment.filters["country"] = lambda code: Locale.parse(locale).territories.get(code or "", code)
    environment.filters["moment"] = lambda iso, timezone: format_moment(
        datetime.fromisoformat(iso) if isinstance(iso, str) else iso, timezone=timezone, locale=locale
    )
    return environment
