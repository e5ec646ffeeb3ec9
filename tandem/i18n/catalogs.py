"""Gettext catalogs read from the .po files and compiled in memory once, at start-up."""

from importlib.resources import files
from io import BytesIO

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("en", "fr")
DEFAULT_LOCALE = "en"
DOMAIN = "messages"


class Catalogs:
    """The translations of every supported locale; English is the source language."""

    def __init__(self, translations: dict[str, NullTranslations]):
        self._translations = translations

    def get(self, locale: str | None) -> NullTranslations:
        return self._translations.get(supported(locale), self._translations[DEFAULT_LOCALE])


def load_catalogs() -> Catalogs:
    """Compile each locale's messages.po in memory (no .mo file on disk)."""
    loaded: dict[str, NullTranslations] = {DEFAULT_LOCALE: NullTranslations()}
    for locale in LOCALES:
        po_file = files("tandem.i18n") / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po_file.is_file():
            loaded[locale] = compile_po(po_file.read_bytes(), locale)
    return Catalogs(loaded)


def compile_po(po_bytes: bytes, locale: str) -> Translations:
    catalog = read_po(BytesIO(po_bytes), locale=locale, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as gettext does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def supported(locale: str | None) -> str:
    """`locale` if Tandem speaks it, else English."""
    return locale if locale in LOCALES else DEFAULT_LOCALE


def negotiate(accept_language: str | None) -> str:
    """The best supported locale for an Accept-Language header."""
    wanted = [part.split(";")[0].strip() for part in (accept_language or "").split(",") if part.strip()]
    found = Locale.negotiate(wanted, LOCALES, sep="-") if wanted else None
    return str(found) if found else DEFAULT_LOCALE
