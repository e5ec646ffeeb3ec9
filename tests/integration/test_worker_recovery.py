"""Quick recovery on PostgreSQL, with real `tandem worker` processes and a real SMTP server:
a worker killed with SIGKILL while it holds a job has every due job done by the next one
within 30 s, and a worker stopped with SIGTERM gives its jobs back at once."""

import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import func, select

from tandem.clock import SystemClock
from tandem.notifications.models import Email
from tandem.notifications.service import SEND_EMAIL
from tandem.notifications.smtp import SmtpMailer
from tandem.wiring import build_worker
from tandem.worker.models import Job
from tests.conftest import TEST_SECRET
from tests.support.mail import SmtpServer

ORDERS = 30


@pytest.fixture
def database_url(postgres_url):
    """PostgreSQL only: several worker processes at once."""
    return postgres_url


def _start_worker(settings, server: SmtpServer) -> subprocess.Popen:
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": settings.database_url,
        "TANDEM_ENV": "test",
        "TANDEM_SECRET_KEY": TEST_SECRET,
        "TANDEM_SMTP_URL": server.url,
        "TANDEM_WORKER_POLL_SECONDS": "0.05",
        "TANDEM_WORKER_NICE": "0",  # the test measures recovery, not how the worker yields CPU
    }
    return subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=env)


def _place_orders(runtime, make_store) -> None:
    runtime.clock = SystemClock()  # the worker processes use real time
    shop = make_store("Maison Camille")
    variant = shop.product(quantity=ORDERS)
    for n in range(ORDERS):
        shop.place_order(variant["id"], email=f"buyer{n}@example.com")


def _held_emails(runtime) -> list[int]:
    """The emails whose sending jobs a worker holds now."""
    with runtime.uow(read_only=True) as uow:
        payloads = uow.session.scalars(
            select(Job.payload).where(Job.status == "running", Job.kind == SEND_EMAIL)
        )
        return [payload["email_id"] for payload in payloads]


def _wait_until_holding(runtime, timeout: float = 10) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if held := _held_emails(runtime):
            return held
        time.sleep(0.01)
    raise AssertionError("the worker never held a job")


def _unfinished_jobs(runtime) -> int:
    """Jobs due now or running: what a worker still has to do."""
    now = SystemClock().now()
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count())
            .select_from(Job)
            .where((Job.status == "running") | ((Job.status == "pending") & (Job.run_at <= now)))
        )


def _emails(runtime) -> list[Email]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Email).order_by(Email.id)))


def _by_message_id(messages) -> dict[str, list[str]]:
    by_id: dict[str, list[str]] = {}
    for message in messages:
        by_id.setdefault(message["Message-ID"], []).append(message["To"])
    return by_id


@pytest.mark.timeout(180)
def test_after_a_sigkill_every_due_job_is_done_within_thirty_seconds_and_none_twice(
    settings, runtime, make_store
):
    _place_orders(runtime, make_store)
    with SmtpServer(delay=0.1) as server:
        first = _start_worker(settings, server)
        server.inbox.wait_for(ORDERS - 10, timeout=90)
        held = _wait_until_holding(runtime)
        first.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        first.wait(timeout=30)
        assert 0 < len(server.inbox.messages) < ORDERS
        second = _start_worker(settings, server)
        try:
            while time.monotonic() - killed_at < 40 and (
                len(_by_message_id(server.inbox.messages)) < ORDERS or _unfinished_jobs(runtime)
            ):
                time.sleep(0.25)
            recovered_in = time.monotonic() - killed_at
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=30)
        received = list(server.inbox.messages)
    # The replacement starts from nothing (imports, database check: seconds on a busy machine),
    # then takes the dead worker's job over once its beat is 10 s old.
    assert recovered_in <= 30, f"recovered in {recovered_in:.1f} s"
    emails = _emails(runtime)
    assert len(emails) == ORDERS and {e.status for e in emails} == {"sent"}
    by_id = _by_message_id(received)
    assert set(by_id) == {e.message_id for e in emails}  # none lost
    assert all(len(set(to)) == 1 for to in by_id.values())  # a duplicate is the same message
    in_flight = {e.message_id for e in emails if e.id in held}
    doubled = {message_id for message_id, to in by_id.items() if len(to) > 1}
    assert doubled <= in_flight  # only what the SMTP server may have taken as the worker died


@pytest.mark.timeout(180)
def test_a_worker_stopped_with_sigterm_gives_its_jobs_back_at_once(settings, runtime, make_store):
    _place_orders(runtime, make_store)
    with SmtpServer(delay=0.3) as server:
        process = _start_worker(settings, server)
        server.inbox.wait_for(3, timeout=60)
        _wait_until_holding(runtime)
        process.send_signal(signal.SIGTERM)
        asked_at = time.monotonic()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - asked_at < 5  # the job in hand, then out
        assert _held_emails(runtime) == []
        sent_by_it = len(server.inbox.messages)
        assert 0 < sent_by_it < ORDERS
        runtime.mailer = SmtpMailer.from_url(server.url)
        started = time.monotonic()
        build_worker(runtime).run_until_idle()  # the same clock: no lease to wait out
        assert time.monotonic() - started < 30
        received = server.inbox.wait_for(ORDERS)
    emails = _emails(runtime)
    assert {e.status for e in emails} == {"sent"}
    assert sorted(m["Message-ID"] for m in received) == sorted(e.message_id for e in emails)  # once each
    assert _unfinished_jobs(runtime) == 0
