"""Rendering admin pages: one Jinja2 environment per language, built at start-up."""

import uuid

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from tandem import __version__
from tandem.admin.deps import Viewer
from tandem.admin.presenting import Formatter
from tandem.admin.security import FLASH_COOKIE, CookiePolicy, Flash, FlashSigner
from tandem.i18n.catalogs import LOCALES, Catalogs, load_catalogs, negotiate
from tandem.settings import Settings

# Pages hold customers' data and one-click actions: never cached, framed or posted elsewhere.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class Templates:
    """Each language gets its own environment, so requests never swap translations under each other."""

    def __init__(self, catalogs: Catalogs):
        self._environments = {locale: _environment(catalogs, locale) for locale in LOCALES}

    def render(self, name: str, locale: str, context: dict) -> str:
        return self._environments[locale].get_template(name).render(context)


def _environment(catalogs: Catalogs, locale: str) -> Environment:
    environment = Environment(
        loader=PackageLoader("tandem.admin", "templates"),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_translations(catalogs.get(locale), newstyle=True)
    environment.globals["version"] = __version__
    environment.globals["form_key"] = lambda: uuid.uuid4().hex  # see acting.perform(once=…)
    return environment


class AdminSite:
    """What the admin UI builds once: catalogs, templates, cookie settings, the flash signer."""

    def __init__(self, settings: Settings):
        self.catalogs = load_catalogs()
        self.templates = Templates(self.catalogs)
        self.cookies = CookiePolicy(secure=settings.base_url.startswith("https://"))
        self.flashes = FlashSigner(settings.secret())


def site_of(request: Request) -> AdminSite:
    return request.app.state.admin


def render(
    request: Request, template: str, *, viewer: Viewer | None = None, status: int = 200, **context
) -> HTMLResponse:
    """A page in the viewer's language (or the browser's, before login); shows and clears any flash."""
    site = site_of(request)
    locale = viewer.locale if viewer else negotiate(request.headers.get("accept-language"))
    translations = site.catalogs.get(locale)
    timezone = viewer.timezone if viewer else "UTC"
    page = {
        "viewer": viewer,
        "locale": locale,
        "flash": site.flashes.load(request.cookies.get(FLASH_COOKIE)),
        "here": _here(request),
        "fmt": Formatter(locale, timezone, translations.gettext),
        **context,
    }
    response = HTMLResponse(
        site.templates.render(template, locale, page), status_code=status, headers=PAGE_HEADERS
    )
    if FLASH_COOKIE in request.cookies:
        site.cookies.clear_flash(response)
    return response


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def redirect(request: Request, url: str, flash: Flash | None = None) -> RedirectResponse:
    """POST-redirect-GET, carrying a one-time message."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        site = site_of(request)
        site.cookies.set_flash(response, site.flashes.dump(flash))
    return response
