"""What operators watch: /readyz, /metrics (requests by route and status, queues), the request id
in responses and error bodies, JSON logs, and X-Forwarded-* from a trusted proxy."""

import json
import os
import re
import subprocess
import sys

import httpx
import pytest
from fastapi.testclient import TestClient

from tandem.api.app import create_app
from tandem.runtime import build_runtime
from tests.conftest import TEST_SECRET, make_settings
from tests.e2e.test_cli import _wait_healthy
from tests.support.live import free_port


def _metric(client, name: str, **labels) -> float:
    text = client.get("/metrics").text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.M)
    return float(found.group(1)) if found else 0.0


# -- readiness ---------------------------------------------------------------------------------


def test_ready_when_the_database_answers_at_the_migrations_head(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_not_ready_while_migrations_are_pending(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path}/empty.db")
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            response = client.get("/readyz")
            assert client.get("/healthz").status_code == 200
    finally:
        runtime.close()
    assert response.status_code == 503
    assert "tandem db upgrade" in response.json()["reason"]


def test_not_ready_when_the_database_is_unreachable():
    settings = make_settings(f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    runtime = build_runtime(settings)
    try:
        with TestClient(create_app(runtime=runtime)) as client:
            response = client.get("/readyz")
    finally:
        runtime.close()
    assert response.status_code == 503
    assert response.json()["reason"].startswith("database unreachable")


# -- metrics -----------------------------------------------------------------------------------


def test_requests_are_counted_by_route_template_and_status(client, shop):
    route = {"method": "GET", "route": "/api/v1/products/{product_id}"}
    before_ok = _metric(client, "tandem_http_requests_total", **route, status="200")
    before_missing = _metric(client, "tandem_http_requests_total", **route, status="404")
    product_ids = [
        shop.post("/products", {"title": t, "variants": [{"sku": t, "price": "1.00"}]}).json()["id"]
        for t in "ab"
    ]
    for product_id in product_ids:
        assert shop.get(f"/products/{product_id}").status_code == 200
    assert shop.get("/products/999999").status_code == 404

    assert _metric(client, "tandem_http_requests_total", **route, status="200") == before_ok + 2
    assert _metric(client, "tandem_http_requests_total", **route, status="404") == before_missing + 1
    assert _metric(client, "tandem_http_request_seconds_count", **route) >= 3
    assert 'le="0.005"' in client.get("/metrics").text


def test_checkouts_and_unknown_paths_are_labelled_by_template_not_raw_path(client, shop):
    before = _metric(
        client,
        "tandem_http_requests_total",
        method="POST",
        route="/api/v1/checkouts/{checkout_id}/complete",
        status="201",
    )
    shop.place_order(shop.product()["id"])
    client.get("/no/such/path/12345")
    text = client.get("/metrics").text
    assert (
        _metric(
            client,
            "tandem_http_requests_total",
            method="POST",
            route="/api/v1/checkouts/{checkout_id}/complete",
            status="201",
        )
        == before + 1
    )
    assert "12345" not in text and 'route="unmatched"' in text


def test_queues_show_due_jobs_their_age_and_outbox_failures(
    client, shop, clock, worker, receiver, allow_private_webhooks
):
    worker.run_until_idle()
    receiver.answers = [500] * 20
    assert shop.post("/webhooks", {"topic": "orders/create", "address": receiver.url()}).status_code == 201
    shop.place_order(shop.product()["id"])
    clock.advance(seconds=90)
    assert _metric(client, "tandem_jobs_due") >= 1
    assert _metric(client, "tandem_jobs_oldest_due_age_seconds") >= 90

    worker.run_until_idle()

    assert _metric(client, "tandem_jobs_due") == 0
    assert _metric(client, "tandem_jobs_oldest_due_age_seconds") == 0
    assert _metric(client, "tandem_outbox_retrying", kind="webhook") == 1
    assert _metric(client, "tandem_outbox_failed", kind="email") == 0


# -- request ids -------------------------------------------------------------------------------


def test_every_response_carries_a_request_id_and_errors_repeat_it(client, shop):
    ok = shop.get("/store")
    assert re.fullmatch(r"[0-9a-f]{24}", ok.headers["x-request-id"])
    missing = client.get(
        "/api/v1/orders/999999",
        headers={"Authorization": f"Bearer {shop.token}", "X-Request-ID": "lb-42.abc"},
    )
    assert missing.headers["x-request-id"] == "lb-42.abc"
    assert missing.json()["error"] == {
        "code": "not_found",
        "message": "order not found",
        "request_id": "lb-42.abc",
    }
    assert int(missing.headers["content-length"]) == len(missing.content)


@pytest.mark.parametrize("path", ["/api/v1/checkouts/999999/complete", "/api/v1/checkouts"])
def test_the_checkout_path_errors_carry_the_request_id_too(client, shop, path):
    response = client.post(
        path, headers={"Authorization": f"Bearer {shop.token}", "X-Request-ID": "r1"}, json={}
    )
    assert response.status_code in (404, 422)
    assert response.json()["error"]["request_id"] == "r1"


def test_an_unusable_request_id_is_replaced(client):
    response = client.get("/api/v1/store", headers={"X-Request-ID": "has spaces <script>"})
    assert response.status_code == 401
    request_id = response.headers["x-request-id"]
    assert request_id != "has spaces <script>" and response.json()["error"]["request_id"] == request_id


# -- serve: JSON logs, X-Forwarded-* -----------------------------------------------------------


@pytest.mark.parametrize(("allowed", "seen_as"), [("127.0.0.1", "203.0.113.9"), ("10.9.9.9", "127.0.0.1")])
def test_serve_logs_json_per_request_and_believes_only_its_proxy(tmp_path, allowed, seen_as):
    port = free_port()
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": f"sqlite:///{tmp_path}/ops.db",
        "TANDEM_ENV": "test",
        "TANDEM_SECRET_KEY": TEST_SECRET,
        "TANDEM_LOG_FORMAT": "json",
        "TANDEM_FORWARDED_ALLOW_IPS": allowed,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--port", str(port), "--no-worker"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_healthy(port)
        headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Request-ID": "edge-7"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/orders/12", headers=headers).status_code == 401
    finally:
        server.terminate()
        logs = server.communicate(timeout=20)[1]
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    request = next(line for line in lines if line.get("request_id") == "edge-7")
    assert request["route"] == "/api/v1/orders/{order_id}" and request["status"] == 401
    assert request["client"] == seen_as
    assert request["scheme"] == ("https" if seen_as == "203.0.113.9" else "http")
    assert request["level"] == "info" and request["duration_ms"] >= 0
