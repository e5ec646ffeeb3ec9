"""Buyers over HTTP: each wants one unit, reserves it with a checkout at one retailer's storefront
(round robin), and most of them pay for it."""

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from fractions import Fraction
from typing import Any

import aiohttp

from tandem.bench.errors import BenchError

COMPLETED = "completed"  # the order was created (201 at both steps)
REFUSED = "refused"  # 409 out_of_stock at either step
ABANDONED = "abandoned"  # reserved, then walked away
ERROR = "error"  # anything else: another status, a timeout, a dropped connection

# Longer than Tandem's own waits (SQLite's busy timeout is 60 s), so we see its answer, not our timeout.
REQUEST_TIMEOUT_SECONDS = 120
KEEPALIVE_SECONDS = 2
ADDRESS = {
    "first_name": "Camille",
    "last_name": "Martin",
    "address1": "12 rue de la Paix",
    "city": "Paris",
    "zip": "75002",
    "country_code": "FR",
}


@dataclass(frozen=True)
class Buyer:
    index: int
    abandons: bool
    run: str = ""  # the run's random token, in every Idempotency-Key
    wave: int = 1  # a buyer who tries again in the second wave is a new attempt

    @property
    def email(self) -> str:
        return f"buyer{self.index}@flash-sale.example"

    @property
    def idempotency_key(self) -> str:
        """The completion's key: retries of one attempt share it, a new attempt gets its own."""
        key = f"flash-{self.run}-{self.index}"
        return key if self.wave == 1 else f"{key}-{self.wave}"


@dataclass(frozen=True)
class Outcome:
    buyer: Buyer
    result: str
    seconds: float = 0.0
    reserved_until: datetime | None = None  # of an abandoned checkout
    error: str | None = None  # what was unexpected, for the report


def make_buyers(count: int, abandon_rate: float, *, run: str) -> list[Buyer]:
    """floor(count × rate) buyers abandon, spread evenly through the crowd (reproducible, no dice)."""
    rate = Fraction(abandon_rate).limit_denominator(100_000)
    return [Buyer(i, (i + 1) * rate // 1 > i * rate // 1, run) for i in range(count)]


@dataclass
class Tally:
    """What happened to the buyers of one wave."""

    outcomes: list[Outcome] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.counts[outcome.result] += 1

    def of(self, result: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.result == result]

    def progress(self, label: str, total: int) -> str:
        counts = ", ".join(f"{self.counts[r]} {r}" for r in (COMPLETED, REFUSED, ABANDONED))
        counts += f", {self.counts[ERROR]} unexpected"
        return f"{label}: {len(self.outcomes)}/{total} buyers done ({counts})"


class Shop:
    """One store's API, over the benchmark's one aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str, token: str):
        self.session = session
        self.api = f"{base_url}/api/v1"
        self.headers = {"Authorization": f"Bearer {token}"}

    async def post(
        self, path: str, body: dict | None = None, *, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        sent = {**self.headers, **(headers or {})}
        async with self.session.post(f"{self.api}{path}", json=body, headers=sent) as response:
            return response.status, await _json(response)

    async def expect(self, what: str, path: str, body: dict | None = None, status: int = 201) -> dict:
        """POST during setup, where anything but `status` stops the benchmark."""
        answered, answer = await self.post(path, body)
        if answered != status:
            raise BenchError(f"{what} answered HTTP {answered}: {answer}")
        return answer

    async def create_product(self, units: int, *, wholesale_price: str | None = None) -> dict:
        """A one-variant product with `units` in stock (a supplier's has a wholesale price)."""
        variant = {"sku": "FLASH-1", "price": "10.00", "inventory_quantity": units}
        if wholesale_price:
            variant["wholesale_price"] = wholesale_price
        body = {"title": "Flash sale tee", "variants": [variant]}
        return await self.expect("creating the product", "/products", body)

    async def request_connection(self, supplier_store_id: int) -> int:
        body = {"supplier_store_id": supplier_store_id}
        return (await self.expect("requesting the connection", "/connections", body))["id"]

    async def accept_connection(self, connection_id: int) -> None:
        await self.expect("accepting the connection", f"/connections/{connection_id}/accept", status=200)

    async def import_product(self, supplier_product_id: int) -> int:
        """Import a supplier's product at the same retail price; returns the linked variant's id."""
        body = {"supplier_product_id": supplier_product_id}
        return (await self.expect("importing the product", "/products/import", body))["variants"][0]["id"]


@dataclass(frozen=True)
class Storefront:
    """Where a share of the crowd buys: a retailer's API and the variant it sells."""

    store_id: int
    shop: Shop
    variant_id: int


def storefront_of(storefronts: list[Storefront], buyer: Buyer) -> Storefront:
    """Buyers are spread round robin; a buyer who tries again goes back to the same retailer."""
    return storefronts[buyer.index % len(storefronts)]


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    text = await response.text()
    try:
        body = json.loads(text)
    except ValueError:
        return {"raw": text[:300]}
    return body if isinstance(body, dict) else {"raw": text[:300]}


@asynccontextmanager
async def client_session(concurrency: int) -> AsyncIterator[aiohttp.ClientSession]:
    """One ClientSession for the whole run (every store's calls), at most `concurrency` connections."""
    # uvicorn closes idle connections after 5 s; dropping ours first avoids racing it on reuse.
    connector = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=KEEPALIVE_SECONDS)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def run_wave(
    storefronts: list[Storefront],
    buyers: list[Buyer],
    *,
    concurrency: int,
    label: str,
    say: Callable[[str], None],
) -> tuple[Tally, float]:
    """Send `buyers` through checkout, `concurrency` at a time; returns the tally and the wall time."""
    tally, waiting = Tally(), iter(buyers)

    async def lane() -> None:
        for buyer in waiting:  # lanes share the iterator: each buyer goes once
            tally.add(await buy(storefront_of(storefronts, buyer), buyer))

    reporter = asyncio.create_task(_report_every_second(tally, label, len(buyers), say))
    started = time.perf_counter()
    try:
        await asyncio.gather(*(lane() for _ in range(min(concurrency, len(buyers)))))
    finally:
        reporter.cancel()
    seconds = time.perf_counter() - started
    say(tally.progress(label, len(buyers)) + f" in {seconds:.1f} s")
    return tally, seconds


async def _report_every_second(tally: Tally, label: str, total: int, say: Callable[[str], None]) -> None:
    while True:
        await asyncio.sleep(1)
        say(tally.progress(label, total))


async def buy(storefront: Storefront, buyer: Buyer) -> Outcome:
    """The two-step checkout of one buyer, timed from the first request to the last answer."""
    started = time.perf_counter()
    try:
        outcome = await _two_steps(storefront.shop, storefront.variant_id, buyer)
    except (aiohttp.ClientError, TimeoutError) as exc:
        outcome = Outcome(buyer, ERROR, error=f"{type(exc).__name__}: {exc}"[:300])
    return replace(outcome, seconds=time.perf_counter() - started)


async def _two_steps(shop: Shop, variant_id: int, buyer: Buyer) -> Outcome:
    status, body = await shop.post("/checkouts", checkout_body(buyer, variant_id))
    if status != 201:
        return _refusal_or_error(buyer, "create checkout", status, body)
    if buyer.abandons:
        return Outcome(buyer, ABANDONED, reserved_until=datetime.fromisoformat(body["reserved_until"]))
    key = {"Idempotency-Key": buyer.idempotency_key}
    status, body = await shop.post(f"/checkouts/{body['id']}/complete", headers=key)
    if status != 201:
        return _refusal_or_error(buyer, "complete checkout", status, body)
    return Outcome(buyer, COMPLETED)


def checkout_body(buyer: Buyer, variant_id: int) -> dict:
    return {
        "email": buyer.email,
        "line_items": [{"variant_id": variant_id, "quantity": 1}],
        "shipping_address": ADDRESS,
        "card_token": "tok_success",
    }


def _refusal_or_error(buyer: Buyer, step: str, status: int, body: dict) -> Outcome:
    code = (body.get("error") or {}).get("code") if isinstance(body.get("error"), dict) else None
    if status == 409 and code == "out_of_stock":
        return Outcome(buyer, REFUSED)
    return Outcome(buyer, ERROR, error=f"{step}: HTTP {status} {code or body.get('raw', '')}".strip())
