"""The checkout path's database work is bounded, counted by the server itself (its /metrics):
a later change cannot quietly add queries to it.

Alone, a buyer's checkout (create, then complete with an Idempotency-Key) costs a fixed
number of statements; a crowd shares them, so per checkout they fall as batches grow. The
server runs in a process of its own, as in production (in the test's process the buyers and
the server would take turns on one interpreter lock, and no crowd would ever form)."""

import asyncio
import json

import pytest

from tests.conftest import TEST_SECRET
from tests.support.api import ADDRESS
from tests.support.live import TandemServer

# What the batched path needs today. Alone, on PostgreSQL: 15 statements and 3 commits (its
# writes go in one statement per transaction); on SQLite, which has no network between it and
# Tandem, 25 statements sent one after another. A crowd of 100 measured 0.30 (PostgreSQL) and
# 0.50 (SQLite) statements per checkout and 0.06 commits; the bounds leave room for a crowd
# that arrives in a few waves.
# Each bound has one statement more than the checkout itself: an API token is looked up again
# once a second per process (a revoked token stops working everywhere), and whether that second
# ends during the measured checkout depends on the machine's speed.
ALONE = {"postgresql": {"statements": 16, "commits": 3}, "sqlite": {"statements": 26, "commits": 3}}
CROWD = {"statements": 2, "commits": 0.25}


@pytest.fixture
def server(database_url, runtime):
    started = TandemServer(database_url, TEST_SECRET)
    yield started
    started.kill()


def _counted(server: TandemServer) -> tuple[float, float]:
    labels = (("engine", "tandem"), ("role", "api"))
    counters = server.counters()
    return (
        counters.get(("tandem_db_statements_total", labels), 0),
        counters.get(("tandem_db_commits_total", labels), 0),
    )


async def _crowd(url: str, token: str, variant_id: int, buyers: range) -> list[int]:
    """Every buyer creates a checkout, then every buyer completes theirs: each step's requests
    leave together, written on connections opened beforehand (a crowd, not a queue)."""
    host, port = url.removeprefix("http://").split(":")
    connections = [await asyncio.open_connection(host, int(port)) for _ in buyers]
    try:
        created = await _all_at_once(
            connections, [_request(token, "/checkouts", _checkout(variant_id, n)) for n in buyers]
        )
        paths = [f"/checkouts/{body['id']}/complete" for _, body in created]
        keys = [{"Idempotency-Key": f"k{n}"} for n in buyers]
        done = await _all_at_once(
            connections, [_request(token, path, None, key) for path, key in zip(paths, keys, strict=True)]
        )
    finally:
        for _, writer in connections:
            writer.close()
    return [status for status, _ in done]


async def _all_at_once(connections, requests: list[bytes]) -> list[tuple[int, dict]]:
    for (_, writer), request in zip(connections, requests, strict=True):
        writer.write(request)
    await asyncio.gather(*(writer.drain() for _, writer in connections))
    return await asyncio.gather(*(_response(reader) for reader, _ in connections))


def _request(token: str, path: str, body: dict | None, headers: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [
        f"POST /api/v1{path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Authorization: Bearer {token}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def _response(reader: asyncio.StreamReader) -> tuple[int, dict]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return status, json.loads(await reader.readexactly(length))


def _checkout(variant_id: int, n: int) -> dict:
    return {
        "email": f"buyer{n}@example.com",
        "line_items": [{"variant_id": variant_id, "quantity": 1}],
        "shipping_address": ADDRESS,
        "card_token": "tok_success",
    }


def _per_checkout(server: TandemServer, shop, variant_id: int, buyers: range) -> dict[str, float]:
    before = _counted(server)
    statuses = asyncio.run(_crowd(server.url, shop.token, variant_id, buyers))
    after = _counted(server)
    assert statuses == [201] * len(buyers)
    return {
        "statements": (after[0] - before[0]) / len(buyers),
        "commits": (after[1] - before[1]) / len(buyers),
    }


def test_one_checkout_alone_costs_a_fixed_number_of_statements(server, shop, database_url):
    variant = shop.product(quantity=10)
    asyncio.run(_crowd(server.url, shop.token, variant["id"], range(1)))  # caches and counters warm up
    cost = _per_checkout(server, shop, variant["id"], range(1, 2))
    bound = ALONE["sqlite" if database_url.startswith("sqlite") else "postgresql"]
    assert cost["statements"] <= bound["statements"] and cost["commits"] <= bound["commits"], cost


def test_a_hundred_concurrent_checkouts_share_their_statements(server, shop):
    variant = shop.product(quantity=200)
    asyncio.run(_crowd(server.url, shop.token, variant["id"], range(1)))
    cost = _per_checkout(server, shop, variant["id"], range(1, 101))
    assert cost["statements"] <= CROWD["statements"] and cost["commits"] <= CROWD["commits"], cost
