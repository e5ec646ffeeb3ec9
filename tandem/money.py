"""Money is an integer of minor units with an ISO 4217 currency; JSON shows decimal strings."""

import functools
from decimal import Context, Decimal, DecimalException, Inexact, InvalidOperation, Overflow

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies


@functools.cache
def _currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that are legal tender somewhere today (CLDR): no XXX, XTS, XAU, XDR or
    retired codes, only currencies with a defined minor unit."""
    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, tender=True, non_tender=False)
    )


def is_currency(code: str) -> bool:
    return code in _currencies_in_use()


@functools.cache
def exponent(currency: str) -> int:
    """Minor units per major unit, as a power of ten (CLDR; read once per currency)."""
    return get_currency_precision(currency)


def to_minor(value: str | int | Decimal, currency: str) -> int:
    """Parse a decimal amount ("49.90") into minor units; ValueError if not exact."""
    if isinstance(value, str) and (not value.isascii() or "_" in value):
        raise ValueError('must be a decimal amount of digits 0-9 such as "49.90"')
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError('must be a decimal amount such as "49.90"') from exc
    if not amount.is_finite():
        raise ValueError("must be a finite amount")
    exact = Context(prec=40, traps=[Inexact, Overflow, InvalidOperation])
    try:
        minor = amount.scaleb(exponent(currency), context=exact)
    except DecimalException as exc:
        raise ValueError("has too many digits") from exc
    if minor != minor.to_integral_value():
        raise ValueError(f"has more decimals than {currency} allows")
    return int(minor)


@functools.lru_cache(maxsize=4096)
def to_decimal_string(minor: int, currency: str) -> str:
    digits = exponent(currency)
    return f"{Decimal(minor).scaleb(-digits):.{digits}f}"


@functools.lru_cache(maxsize=4096)
def display(minor: int, currency: str, locale: str = "en") -> str:
    """Amount for people: "€49.90" / "49,90 €" (prices repeat: CLDR formatting is slow)."""
    return format_currency(Decimal(minor).scaleb(-exponent(currency)), currency, locale=locale)


def percentage_of(minor: int, percent: Decimal) -> int:
    """A percentage of an amount, rounded half up to the minor unit."""
    from decimal import ROUND_HALF_UP

    return int((Decimal(minor) * percent / 100).to_integral_value(rounding=ROUND_HALF_UP))


def parse_field(value, currency: str, field: str) -> int:
    """Minor units of an input amount, or a 422 naming `field`."""
    from tandem.errors import InvalidInput

    try:
        return to_minor(value, currency)
    except ValueError as exc:
        raise InvalidInput(field, str(exc)) from None
