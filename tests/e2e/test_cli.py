"""The `tandem` command: store creation, migrations, serving."""

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from typer.testing import CliRunner

from tandem.cli import app
from tests.conftest import TEST_SECRET
from tests.support.live import free_port


@pytest.fixture
def env(database_url, monkeypatch):
    monkeypatch.setenv("TANDEM_DATABASE_URL", database_url)
    monkeypatch.setenv("TANDEM_ENV", "test")
    monkeypatch.setenv("TANDEM_SECRET_KEY", TEST_SECRET)
    return {**os.environ}


def test_store_create_prints_the_token_and_a_staff_login_that_work(env, client):
    result = CliRunner().invoke(
        app,
        [
            "store",
            "create",
            "--name",
            "Atelier Lune",
            "--kind",
            "supplier",
            "--email",
            "hello@lune.example",
            "--locale",
            "fr",
            "--capture",
            "manual",
            "--automatic-payments",
        ],
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["kinds"] == ["supplier"]
    assert created["staff_login"]["email"] == "hello@lune.example"
    store = client.get("/api/v1/store", headers={"Authorization": f"Bearer {created['api_token']}"}).json()
    assert (store["id"], store["locale"], store["payment_capture"]) == (created["id"], "fr", "manual")
    assert store["collective_automatic_payments"] is True


def test_a_retailer_with_automatic_payments_needs_a_billing_card(env, client):
    options = ["store", "create", "--name", "Maison Camille", "--automatic-payments"]
    refused = CliRunner().invoke(app, options)
    assert refused.exit_code == 2
    assert "--billing-card-token" in refused.output

    result = CliRunner().invoke(app, [*options, "--billing-card-token", "tok_success"])
    assert result.exit_code == 0, result.output
    token = json.loads(result.output)["api_token"]
    store = client.get("/api/v1/store", headers={"Authorization": f"Bearer {token}"}).json()
    assert store["collective_automatic_payments"] is True and store["billing_card"] == {"last4": "4242"}


def test_store_create_refuses_an_unknown_card_token(env):
    result = CliRunner().invoke(
        app, ["store", "create", "--name", "Maison Camille", "--billing-card-token", "tok_nope"]
    )
    assert result.exit_code == 2 and "--billing-card-token" in result.output


def test_rotate_token_prints_a_new_token_and_the_old_one_stops_working(env, client, make_store):
    shop = make_store("Maison Camille")
    assert shop.get("/store").status_code == 200
    result = CliRunner().invoke(app, ["store", "rotate-token", "--store-id", str(shop.store_id)])
    assert result.exit_code == 0, result.output
    rotated = json.loads(result.output)
    assert rotated["api_token"] != shop.token
    time.sleep(1.1)  # the server's cache rechecks a token every second
    assert shop.get("/store").status_code == 401
    headers = {"Authorization": f"Bearer {rotated['api_token']}"}
    assert client.get("/api/v1/store", headers=headers).json()["id"] == shop.store_id


def test_rotate_token_refuses_an_unknown_store(env):
    result = CliRunner().invoke(app, ["store", "rotate-token", "--store-id", "999999"])
    assert result.exit_code == 2 and "999999" in result.output


def test_store_create_refuses_an_unknown_kind(env):
    result = CliRunner().invoke(app, ["store", "create", "--name", "X", "--kind", "wholesaler"])
    assert result.exit_code != 0


def test_production_refuses_to_start_without_a_real_secret(env, monkeypatch):
    monkeypatch.setenv("TANDEM_ENV", "production")
    monkeypatch.setenv("TANDEM_SECRET_KEY", "changeme")
    result = subprocess.run(
        [sys.executable, "-m", "tandem", "db", "upgrade"], capture_output=True, text=True, env={**os.environ}
    )
    assert result.returncode == 2
    assert "TANDEM_SECRET_KEY" in result.stderr


def test_serve_on_a_fresh_sqlite_file_migrates_and_answers(tmp_path):
    port = free_port()
    env = {**os.environ, "TANDEM_DATABASE_URL": f"sqlite:///{tmp_path}/fresh.db", "TANDEM_ENV": "development"}
    server = subprocess.Popen(
        [sys.executable, "-m", "tandem", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_healthy(port)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/orders").status_code == 401
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"http://127.0.0.1:{port}/admin" in output
    assert (tmp_path / ".tandem-secret").exists()


def test_serve_refuses_a_postgres_database_that_was_not_upgraded(postgres_server):
    url = postgres_server.create_database()
    try:
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": TEST_SECRET,
        }
        result = subprocess.run(
            [sys.executable, "-m", "tandem", "worker"], capture_output=True, text=True, env=env, timeout=60
        )
        assert result.returncode == 2
        assert "tandem db upgrade" in result.stderr
        upgraded = subprocess.run(
            [sys.executable, "-m", "tandem", "db", "upgrade"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert upgraded.returncode == 0 and "revision" in upgraded.stdout
    finally:
        postgres_server.drop_database(url)


def _wait_healthy(port: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return True
        except httpx.HTTPError:
            time.sleep(0.2)
    return False
