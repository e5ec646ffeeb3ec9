"""Small helpers for turning domain values into JSON values."""

from datetime import UTC, datetime

from fastapi.responses import StreamingResponse

from tandem.money import to_decimal_string


def money(minor: int | None, currency: str) -> str | None:
    return None if minor is None else to_decimal_string(minor, currency)


def timestamp(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z") if moment else None


def csv_response(rows, filename: str) -> StreamingResponse:
    """A CSV download streamed as it is produced (rows: an iterator of text)."""
    return StreamingResponse(
        (text.encode("utf-8") for text in rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
