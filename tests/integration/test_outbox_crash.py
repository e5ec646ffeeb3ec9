"""A worker killed mid-delivery and restarted: every message sent, none lost."""

import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest

from tandem.clock import FrozenClock, SystemClock
from tandem.wiring import build_worker
from tests.conftest import TEST_SECRET
from tests.support.mail import SmtpServer


@pytest.mark.timeout(180)
def test_emails_survive_a_killed_worker(settings, runtime, make_store):
    runtime.clock = SystemClock()  # the worker process uses real time
    shop = make_store("Maison Camille")
    variant = shop.product(quantity=100)
    for n in range(30):
        shop.place_order(variant["id"], email=f"buyer{n}@example.com")
    with SmtpServer(delay=0.1) as server:
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": settings.database_url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": TEST_SECRET,
            "TANDEM_SMTP_URL": server.url,
            "TANDEM_WORKER_POLL_SECONDS": "0.05",
        }
        process = subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=env)
        server.inbox.wait_for(8, timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        sent_before_crash = len(server.inbox.messages)
        assert 0 < sent_before_crash < 30
        from tandem.notifications.smtp import SmtpMailer

        runtime.mailer = SmtpMailer.from_url(server.url)
        runtime.clock = FrozenClock(SystemClock().now() + timedelta(minutes=6))  # past the dead lease
        build_worker(runtime).run_until_idle()
        received = server.inbox.wait_for(30)
    emails = shop.get("/emails", params={"limit": 100}).json()["emails"]
    assert len(emails) == 30 and {e["status"] for e in emails} == {"sent"}
    by_id = {}
    for message in received:
        by_id.setdefault(message["Message-ID"], []).append(message["To"])
    assert set(by_id) == {e["message_id"] for e in emails}  # none lost
    assert all(len(set(to)) == 1 for to in by_id.values())  # a duplicate is the same message
    assert len(received) - 30 <= 1  # at most the one in flight when the worker died


@pytest.mark.timeout(180)
def test_webhooks_survive_a_killed_worker(settings, runtime, make_store, allow_private_webhooks):
    from tests.support.receiver import Receiver

    runtime.clock = SystemClock()
    runtime.mailer = None
    shop = make_store("Maison Camille")
    with Receiver(delay=0.1) as receiver:
        shop.post("/webhooks", {"topic": "orders/create", "address": receiver.url()})
        variant = shop.product(quantity=100)
        for n in range(30):
            shop.place_order(variant["id"], email=f"buyer{n}@example.com")
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": settings.database_url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": TEST_SECRET,
            "TANDEM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true",
            "TANDEM_WORKER_POLL_SECONDS": "0.05",
        }
        env.pop("TANDEM_SMTP_URL", None)
        process = subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=env)
        receiver.wait_for(8, timeout=60)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert 0 < len(receiver.requests) < 30
        runtime.clock = FrozenClock(SystemClock().now() + timedelta(minutes=6))
        build_worker(runtime).run_until_idle()
        received = receiver.wait_for(30)
    deliveries = shop.get("/webhook_deliveries", params={"limit": 100}).json()["deliveries"]
    assert len(deliveries) == 30 and {d["status"] for d in deliveries} == {"delivered"}
    ids = [r.headers["X-Tandem-Webhook-Id"] for r in received]
    assert set(ids) == {d["webhook_id"] for d in deliveries}  # none lost
    assert len(ids) - 30 <= 1  # at most the one in flight, with the same id
