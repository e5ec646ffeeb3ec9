"""Rendering customer pages: one Jinja2 environment per language, built at start-up."""

from datetime import datetime

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tandem import __version__
from tandem.customer_pages.security import PAGE_HEADERS
from tandem.i18n.catalogs import LOCALES, Catalogs, load_catalogs, supported
from tandem.i18n.formatting import format_moment, format_money


class CustomerSite:
    """What the customer pages build once: the catalogs and a template environment per language."""

    def __init__(self, catalogs: Catalogs | None = None):
        catalogs = catalogs or load_catalogs()
        self._environments = {locale: _environment(catalogs, locale) for locale in LOCALES}

    def render(self, name: str, locale: str, context: dict) -> str:
        return self._environments[supported(locale)].get_template(name).render(context)


def _environment(catalogs: Catalogs, locale: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("tandem.customer_pages", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(catalogs.get(locale), newstyle=True)
    environment.globals["version"] = __version__
    environment.filters["money"] = lambda minor, currency: format_money(minor, currency, locale=locale)
    environment.filters["moment"] = lambda moment, timezone: _moment(moment, timezone, locale)
    return environment


def _moment(moment: datetime | None, timezone: str, locale: str) -> str:
    return format_moment(moment, timezone=timezone, locale=locale)


def site_of(request: Request) -> CustomerSite:
    return request.app.state.customer_pages


def render(request: Request, template: str, *, locale: str, status: int = 200, **context) -> HTMLResponse:
    """A customer page in `locale`, never cached and never giving its URL away."""
    page = {"locale": supported(locale), "store": None, "status": status, **context}
    html = site_of(request).render(template, locale, page)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
