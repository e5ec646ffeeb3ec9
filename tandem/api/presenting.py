"""Small helpers for turning domain values into JSON values."""

from datetime import UTC, datetime

from tandem.money import to_decimal_string


def money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else to_decimal_string(minor, currency)


def timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None
