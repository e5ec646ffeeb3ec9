"""Reading what staff typed in the admin's forms: counts per line, tracking, amounts.

Each reader returns plain values or raises acting.FormProblem with the sentence to show."""

import re
from decimal import Decimal, InvalidOperation

from tandem.admin.acting import FormProblem
from tandem.i18n.labels import N_

TRACKING_URL = re.compile(r"^https?://\S+$")
MAX_AMOUNT = Decimal("1e9")  # as the API's Amount
CHOOSE_COUNTS = N_("Choose how many of each item you are shipping.")


def line_counts(
    line_ids: list[int], quantities: list[int], *, none_chosen: str | None, unclear: str = CHOOSE_COUNTS
) -> list[tuple[int, int]]:
    """The form lists every line with a count; 0 leaves a line out. (line id, count) pairs;
    none chosen is refused with `none_chosen` (None: allowed)."""
    if len(line_ids) != len(quantities) or any(count < 0 for count in quantities):
        raise FormProblem(unclear)
    chosen = [(line, count) for line, count in zip(line_ids, quantities, strict=True) if count]
    if not chosen and none_chosen is not None:
        raise FormProblem(none_chosen)
    return chosen


def tracking(company: str, number: str, url: str, *, required: bool) -> dict:
    company, number, url = company.strip(), number.strip(), url.strip()
    if "\x00" in company + number + url or (required and (not company or not number)):
        raise FormProblem(N_("Enter the carrier and the tracking number."))
    if url and not TRACKING_URL.match(url):
        raise FormProblem(N_("The tracking link must start with http:// or https://."))
    return {"company": company or None, "number": number or None, "url": url or None}


def amount(raw: str, message: str) -> Decimal:
    """An amount typed as "12.50" or "12,50"; the use case checks it against what it may be."""
    raw = raw.strip().replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise FormProblem(message) from None
    if not value.is_finite() or not 0 < value <= MAX_AMOUNT:
        raise FormProblem(message)
    return value
