"""Input types shared by the API schemas: ids, bounded text, money, quantities."""

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2**53 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Quantity = Annotated[int, Field(ge=1, le=100_000)]
StockCount = Annotated[int, Field(ge=0, le=10**9)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255), AfterValidator(_no_nul)
]
OptionalText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_no_nul)
]
LongText = Annotated[str, StringConstraints(max_length=5000), AfterValidator(_no_nul)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
    AfterValidator(_no_nul),
]
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://\S+$"),
    AfterValidator(_no_nul),
]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_no_nul)]
# Capped so price x quantity x lines always fits a 64-bit integer of minor units.
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("1e9"), allow_inf_nan=False)]


class Input(BaseModel):
    """Request bodies: unknown fields are refused so typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")
