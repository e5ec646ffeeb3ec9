"""Input types shared by the API schemas: ids, bounded text, money, quantities.

JSON bodies are read strictly: a number is a JSON integer (never `true` or `"1"`), a flag is
`true` or `false`, money is a decimal string of ASCII digits. Path and form values are text,
so the types used there (`Id`) read digits from text.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    WithJsonSchema,
    field_validator,
)

from tandem.money import is_currency
from tandem.text import is_one_line

MAX_ID = 2**53 - 1

_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?", re.ASCII)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _one_line(value: str) -> str:
    if not is_one_line(value):
        raise ValueError("must not contain line breaks or control characters")
    return value


def _decimal_text(value: Any) -> Any:
    """Money in JSON: a decimal string of ASCII digits ("49.90"), or a whole number."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return value
    raise ValueError('must be a decimal string of digits such as "49.90"')


def _currency(code: str) -> str:
    if not is_currency(code):
        raise ValueError("must be an ISO 4217 currency code in use, such as EUR")
    return code


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be between the years 1 and 9999 in UTC") from None


def _webhook_address(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise ValueError("must not contain credentials (user:password@)")
    if not parts.hostname:
        raise ValueError("must name a host")
    try:
        parts.port  # noqa: B018 - urllib checks the port only when it is read
    except ValueError:
        raise ValueError("must have a port between 0 and 65535, or none") from None
    return url


# Ids in a path or a form (text); JSON bodies use BodyId.
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Integer = Annotated[int, Strict()]  # a JSON integer; bounds are given where it is used
Flag = Annotated[bool, Strict()]
# A date and time with its offset (ISO 8601), read as UTC.
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]
Quantity = Annotated[int, Strict(), Field(ge=1, le=100_000)]
StockCount = Annotated[int, Strict(), Field(ge=0, le=10**9)]
# One line (names, titles, references): safe in an email header.
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(_one_line)
]
OptionalText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_one_line)
]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_no_nul)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    AfterValidator(_one_line),
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://\S+$"),
    AfterValidator(_one_line),
]
WebhookAddress = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=255, pattern=r"^https?://\S+$"),
    AfterValidator(_one_line),
    AfterValidator(_webhook_address),
]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(_currency)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_nul)]
# Capped so price x quantity x lines always fits a 64-bit integer of minor units.
Amount = Annotated[
    Decimal,
    BeforeValidator(_decimal_text),
    Field(ge=0, le=Decimal("1e9"), allow_inf_nan=False),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
                {"type": "integer", "minimum": 0},
            ]
        }
    ),
]


class Input(BaseModel):
    """Request bodies: unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class SettingsPatch(Input):
    """A PATCH of settings: a field left out keeps its value; null is refused, never a wipe.

    Fields are declared with their non-null type and a default of None (left out)."""

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value
