"""The arithmetic the checks apply to what they read (pure)."""

from tandem.orders.domain import FinancialStatus as F

NOTHING_IN = frozenset({F.PENDING, F.VOIDED, F.EXPIRED})


def financial_status_problem(
    status: str, total: int, captured: int, refunded: int, authorized: int
) -> str | None:
    """Why `status` does not describe these amounts, or None when it does."""
    if _agrees(F(status), total, captured, refunded, authorized):
        return None
    return (
        f"financial status {status}, but captured {captured}, refunded {refunded}, "
        f"authorised {authorized}, total {total}"
    )


def _agrees(status: F, total: int, captured: int, refunded: int, authorized: int) -> bool:
    if status in NOTHING_IN:
        return captured == 0 and (status is not F.PENDING or authorized == 0)
    if status is F.AUTHORIZED:
        return captured == 0 and authorized > 0
    if status is F.PARTIALLY_PAID:
        return refunded == 0 and captured < total
    if status is F.PAID:
        return refunded == 0 and captured >= total
    if status is F.PARTIALLY_REFUNDED:
        return 0 < refunded < captured
    return 0 < captured <= refunded  # refunded
