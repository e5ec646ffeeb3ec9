"""The admin's home page: what needs attention, as counts that open the filtered list, and
the last 30 days of orders and revenue, drawn on the server as SVG (no script, no CDN)."""

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tandem.admin import attention
from tandem.admin.deps import ViewerDep, runtime_of
from tandem.admin.pages import render
from tandem.admin.routing import AdminRoute
from tandem.stores.service import get_store

router = APIRouter(prefix="/admin", include_in_schema=False, route_class=AdminRoute)
CHART_WIDTH, CHART_HEIGHT = 600, 140


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    day: attention.Day
    value: int


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    total: int
    peak: int


@router.get("")
@router.get("/")
def home(request: Request, viewer: ViewerDep) -> Response:
    runtime = runtime_of(request)
    with runtime.uow(read_only=True) as uow:
        supplier = viewer.is_supplier and not viewer.is_retailer  # a store that is both sees its own sales
        counts = (
            attention.supplier_counts(uow, viewer.store_id)
            if supplier
            else attention.retailer_counts(uow, viewer.store_id)
        )
        days = attention.daily_sales(
            uow, viewer.store_id, timezone=viewer.timezone, now=runtime.clock.now(), supplier=supplier
        )
        currency = get_store(uow, store_id=viewer.store_id).currency
    return render(
        request,
        "home.html",
        viewer=viewer,
        section="home",
        counts=counts,
        orders_chart=chart(days, lambda day: day.orders),
        revenue_chart=chart(days, lambda day: day.revenue),
        currency=currency,
        supplier=supplier,
    )


def chart(days: list[attention.Day], value) -> Chart:
    """Bars scaled to the highest day (a flat line when nothing happened)."""
    values = [value(day) for day in days]
    peak = max(values, default=0)
    slot = CHART_WIDTH / max(len(days), 1)
    bars = []
    for index, (day, amount) in enumerate(zip(days, values, strict=True)):
        height = (amount / peak) * (CHART_HEIGHT - 4) if peak else 0
        bars.append(Bar(index * slot + 1, CHART_HEIGHT - height, slot - 2, max(height, 1), day, amount))
    return Chart(bars, sum(values), peak)
