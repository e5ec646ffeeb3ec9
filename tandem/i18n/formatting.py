"""Dates in the store's time zone and money, written the way each locale writes them."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time

from tandem.money import display


def format_moment(moment: datetime | None, *, timezone: str, locale: str) -> str:
    """ "Nov 22, 2026, 10:00 AM" / "22 nov. 2026, 10:00" in `timezone`."""
    if moment is None:
        return ""
    zone = ZoneInfo(timezone)
    day = format_skeleton("yMMMd", moment, tzinfo=zone, locale=locale)
    time = format_time(moment, "short", tzinfo=zone, locale=locale)
    return Locale.parse(locale).datetime_formats["medium"].format(time, day)


def format_money(minor: int | None, currency: str, *, locale: str) -> str:
    """ "€49.90" / "49,90 €"."""
    return "" if minor is None else display(minor, currency, locale)
