"""Addresses as merchants send them to Shopify: a whole name or its two parts, a country by its
English or French name or by its ISO code (CLDR's names, through Babel)."""

import unicodedata
from functools import cache

from babel import Locale

# CLDR also lists groupings and placeholders (EU, UN, ZZ "Unknown Region"...): not countries.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}
NAME_LOCALES = ("en", "fr")


@cache
def country_codes() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes CLDR names."""
    return frozenset(
        code
        for code in Locale("en").territories
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    )


@cache
def _codes_by_name() -> dict[str, str]:
    codes = country_codes()
    return {
        _folded(name): code
        for locale in NAME_LOCALES
        for code, name in Locale(locale).territories.items()
        if code in codes
    }


def _folded(text: str) -> str:
    """Case, accents, apostrophes and spacing do not matter: "cote d'ivoire" is Côte d’Ivoire."""
    plain = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return " ".join("".join(c for c in plain if not unicodedata.combining(c)).casefold().split())


def country_code_of(text: str) -> str | None:
    """The ISO code of a country given by code or by English or French name; None if unknown."""
    text = text.strip()
    if len(text) == 2 and text.upper() in country_codes():
        return text.upper()
    return _codes_by_name().get(_folded(text))


def country_name(code: str) -> str:
    return Locale("en").territories.get(code, code)


def split_name(name: str) -> tuple[str | None, str | None]:
    """Shopify's reading of a whole name: the first word is the first name, the rest the last."""
    parts = name.split(None, 1)
    if not parts:
        return None, None
    return parts[0], parts[1] if len(parts) > 1 else None


def joined_name(first_name: str | None, last_name: str | None) -> str | None:
    return " ".join(p for p in (first_name, last_name) if p) or None


def presented(address: dict | None) -> dict | None:
    """An address with both forms (kept before both were stored, an address may lack one)."""
    if not address:
        return address
    shown = dict(address)
    if not shown.get("name"):
        shown["name"] = joined_name(shown.get("first_name"), shown.get("last_name"))
    if shown.get("name") and not (shown.get("first_name") or shown.get("last_name")):
        shown["first_name"], shown["last_name"] = split_name(shown["name"])
    if shown.get("country_code") and not shown.get("country"):
        shown["country"] = country_name(shown["country_code"])
    for key in ("name", "first_name", "last_name"):
        shown.setdefault(key, None)
    return shown
