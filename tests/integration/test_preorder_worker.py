"""Pre-order balances charged by real worker processes: many falling due at once, a worker
killed in the middle of a charge, staff collecting early while the worker charges (SPEC §2.4,
SPEC §6: the card is never charged twice for one balance).

The workers run in their own processes (`python -c ... run_worker_process()`), on the test's
frozen time, against the same database; they start together on a signal file.
"""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tandem.clock import FrozenClock, SystemClock
from tandem.orders.models import Order
from tandem.payments.models import PaymentTransaction
from tandem.payments.test_gateway import TestGatewayOperation
from tandem.preorders.models import PaymentSchedule
from tandem.preorders.service import CHARGE_SCHEDULE, schedule_charge
from tandem.runtime import build_runtime
from tandem.settings import Settings
from tandem.wiring import build_worker
from tandem.worker.models import Job
from tests.support.live import serving

DAY = 86400
DIED = 17
CHILD = "from tests.integration.test_preorder_worker import run_worker_process; run_worker_process()"
POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


# -- the worker process ---------------------------------------------------------------------------


class DiesMidCharge:
    """The gateway, but the process dies on the first balance charge: before the call reaches
    the provider, or after the provider charged the card and before the answer is recorded."""

    def __init__(self, inner, *, reach_provider: bool):
        self.inner, self.reach_provider, self.name = inner, reach_provider, inner.name

    def __getattr__(self, method):
        return getattr(self.inner, method)

    async def sale(self, **kwargs):
        if not kwargs["idempotency_key"].startswith("tdm_schedule_"):
            return await self.inner.sale(**kwargs)
        if self.reach_provider:
            await self.inner.sale(**kwargs)
        os._exit(DIED)


def run_worker_process() -> None:
    """argv: database URL, frozen now (ISO), worker name, batch, dies (never|before|after),
    ready file, go file; the secret key comes in TANDEM_SECRET_KEY."""
    url, now, name, batch, dies, ready, go = sys.argv[1:8]
    settings = Settings(env="test", database_url=url, base_url="http://testserver")
    runtime = build_runtime(settings, clock=FrozenClock(datetime.fromisoformat(now)))
    if dies != "never":
        runtime.gateway = DiesMidCharge(runtime.gateway, reach_provider=dies == "after")
    worker = build_worker(runtime, name=name, batch=int(batch))
    Path(ready).touch()
    deadline = time.monotonic() + 60
    while not Path(go).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.run_until_idle(max_rounds=2000)
    runtime.close()


class Workers:
    """Start worker processes, let them go at once, wait for them."""

    def __init__(self, settings, tmp_path: Path):
        self.url, self.dir = settings.database_url, tmp_path
        self.env = {**os.environ, "TANDEM_SECRET_KEY": settings.secret_key.get_secret_value()}
        self.env.pop("TANDEM_SMTP_URL", None)  # mails are kept, not sent
        self.go = tmp_path / "go"
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def start(self, name: str, now: datetime, *, batch: int = 1, dies: str = "never") -> None:
        ready = self.dir / f"ready-{name}"
        args = [self.url, now.isoformat(), name, str(batch), dies, str(ready), str(self.go)]
        self.started.append((subprocess.Popen([sys.executable, "-c", CHILD, *args], env=self.env), ready))

    def release(self) -> None:
        deadline = time.monotonic() + 60
        while not all(ready.exists() for _, ready in self.started):
            assert time.monotonic() < deadline, "a worker process did not start"
            assert all(p.poll() is None for p, _ in self.started), "a worker process died starting"
            time.sleep(0.02)
        self.go.touch()

    def wait(self, timeout: float = 240) -> list[int]:
        codes = [process.wait(timeout=timeout) for process, _ in self.started]
        self.started = []
        self.go.unlink(missing_ok=True)
        return codes

    def kill_leftovers(self) -> None:
        """After a failed test: stop the processes this test started, and only those."""
        for process, _ in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)


@pytest.fixture
def workers(settings, tmp_path):
    started = Workers(settings, tmp_path)
    yield started
    started.kill_leftovers()


# -- arranging ------------------------------------------------------------------------------------


def _preorders(shop, clock, worker, count: int, *, price: str = "100.00") -> list[int]:
    """`count` pre-orders a second apart (20 % deposit), their balances due a day later;
    what placing them queued (mails) is done."""
    variant = shop.product(price=price, quantity=count)
    plan = shop.selling_plan([variant["id"]], deposit=("percentage", 20))
    order_ids = []
    for n in range(count):
        order_ids.append(shop.preorder(variant["id"], plan["id"], email=f"b{n}@example.com")["id"])
        clock.advance(seconds=1)
    worker.run_until_idle()
    return order_ids


def _deliver_every_charge_twice(runtime, clock) -> None:
    """At-least-once delivery: a second job for every schedule's due date, queued next to it."""
    with runtime.uow() as uow:
        for schedule in uow.session.scalars(select(PaymentSchedule)):
            schedule_charge(uow.session, schedule, run_at=schedule.due_at, now=clock.now())
        uow.commit()


# -- reading --------------------------------------------------------------------------------------


def _schedules(runtime) -> list[PaymentSchedule]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(PaymentSchedule).order_by(PaymentSchedule.due_at)))


def _balance_transactions(runtime) -> dict[int, list[PaymentTransaction]]:
    with runtime.uow(read_only=True) as uow:
        txs = uow.session.scalars(
            select(PaymentTransaction)
            .where(PaymentTransaction.payment_schedule_id.is_not(None))
            .order_by(PaymentTransaction.id)
        )
        found: dict[int, list[PaymentTransaction]] = {}
        for tx in txs:
            found.setdefault(tx.payment_schedule_id, []).append(tx)
        return found


def _gateway_balance_charges(runtime) -> dict[str, TestGatewayOperation]:
    """What the provider itself recorded for balances, by idempotency key."""
    with runtime.uow(read_only=True) as uow:
        ops = uow.session.scalars(
            select(TestGatewayOperation).where(TestGatewayOperation.idempotency_key.like("tdm_schedule_%"))
        )
        return {op.idempotency_key: op for op in ops}


def _charge_jobs(runtime) -> list[Job]:
    with runtime.uow(read_only=True) as uow:
        return list(uow.session.scalars(select(Job).where(Job.kind == CHARGE_SCHEDULE)))


def _assert_each_balance_charged_once(runtime) -> None:
    schedules = _schedules(runtime)
    txs = _balance_transactions(runtime)
    charges = _gateway_balance_charges(runtime)
    assert {s.status for s in schedules} == {"paid"}
    assert {s.attempts for s in schedules} == {1}  # no second attempt was ever begun
    for schedule in schedules:
        [tx] = txs[schedule.id]
        assert (tx.kind, tx.status, tx.amount) == ("sale", "success", schedule.amount)
        assert tx.idempotency_key == f"tdm_schedule_{schedule.id}_attempt_1"
        charge = charges[tx.idempotency_key]
        assert (charge.status, charge.amount, charge.reference) == (
            "succeeded",
            tx.amount,
            tx.gateway_reference,
        )
    assert len(charges) == len(schedules)  # the provider saw no other balance charge
    with runtime.uow(read_only=True) as uow:
        order_ids = [s.order_id for s in schedules]
        statuses = uow.session.scalars(select(Order.financial_status).where(Order.id.in_(order_ids)))
        assert set(statuses) == {"paid"}


# -- the tests ------------------------------------------------------------------------------------


@POSTGRES
@pytest.mark.timeout(600)
def test_two_workers_charge_a_hundred_balances_falling_due_at_once_exactly_once(
    runtime, shop, clock, worker, workers
):
    _preorders(shop, clock, worker, 100)
    _deliver_every_charge_twice(runtime, clock)
    clock.advance(seconds=DAY)
    assert len(_charge_jobs(runtime)) == 200

    for name in ("w0", "w1"):
        workers.start(name, clock.now())
    workers.release()
    assert workers.wait() == [0, 0]

    _assert_each_balance_charged_once(runtime)
    jobs = _charge_jobs(runtime)
    assert {j.status for j in jobs} == {"done"} and {j.last_error for j in jobs} == {None}
    ran = {name: sum(j.locked_by == name for j in jobs) for name in ("w0", "w1")}
    print(f"\ncharge jobs run: {ran}")
    assert sum(ran.values()) == 200 and min(ran.values()) > 0  # both workers really charged


@pytest.mark.parametrize("reach_provider", [True, False], ids=["after-charge", "before-charge"])
@pytest.mark.timeout(300)
def test_a_worker_killed_mid_charge_is_finished_after_restart_without_charging_twice(
    runtime, shop, clock, worker, workers, reach_provider
):
    [order_id] = _preorders(shop, clock, worker, 1)
    [schedule] = _schedules(runtime)
    clock.advance(seconds=DAY)
    key = f"tdm_schedule_{schedule.id}_attempt_1"

    workers.start("doomed", clock.now(), dies="after" if reach_provider else "before")
    workers.release()
    assert workers.wait() == [DIED]

    [pending] = _balance_transactions(runtime)[schedule.id]
    assert (pending.status, pending.idempotency_key) == ("pending", key)
    assert set(_gateway_balance_charges(runtime)) == ({key} if reach_provider else set())
    path = f"/orders/{order_id}/payment_schedules/{schedule.id}/charge"
    refused = shop.post(path)  # staff cannot start a second charge while this one is unsettled
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "charge_in_progress"
    assert shop.post(f"/orders/{order_id}/cancel", {"reason": "customer"}).status_code == 409

    clock.advance(seconds=121)  # past the dead worker's lease on the charge
    workers.start("restarted", clock.now())
    workers.release()
    assert workers.wait() == [0]

    _assert_each_balance_charged_once(runtime)
    order = shop.order(order_id)
    assert (order["total_captured"], order["total_outstanding"]) == ("100.00", "0.00")
    assert order["payment_schedules"][0]["status"] == "paid"


@POSTGRES
@pytest.mark.timeout(600)
def test_staff_collecting_early_while_the_workers_charge_the_same_balances_charge_each_once(
    runtime, app, shop, clock, worker, workers
):
    order_ids = _preorders(shop, clock, worker, 40)
    clock.advance(seconds=DAY)
    schedules = _schedules(runtime)
    assert sorted(s.order_id for s in schedules) == sorted(order_ids)
    for name in ("w0", "w1"):
        workers.start(name, clock.now())

    def collect(url: str, schedule: PaymentSchedule) -> tuple[int, str | None]:
        with httpx.Client(base_url=f"{url}/api/v1", timeout=60) as http:
            response = http.post(
                f"/orders/{schedule.order_id}/payment_schedules/{schedule.id}/charge",
                headers={"Authorization": f"Bearer {shop.token}"},
            )
        body = response.json()
        return response.status_code, body["status"] if response.status_code == 200 else body["error"]["code"]

    with serving(app) as url, ThreadPoolExecutor(max_workers=4) as pool:
        workers.release()
        outcomes = list(pool.map(lambda s: collect(url, s), schedules))
        assert workers.wait() == [0, 0]

    collected = [o for o in outcomes if o[0] == 200]
    print(f"\ncollected by staff: {len(collected)}, by the workers: {len(outcomes) - len(collected)}")
    assert set(collected) <= {(200, "paid")}
    assert {o for o in outcomes if o[0] != 200} <= {(409, "charge_in_progress"), (409, "invalid_transition")}
    _assert_each_balance_charged_once(runtime)
    assert {j.status for j in _charge_jobs(runtime)} == {"done"}


@pytest.mark.timeout(180)
def test_the_tandem_worker_command_charges_a_balance_when_due(settings, runtime, shop):
    """The production worker process (`python -m tandem worker`, real time), not a test harness."""
    runtime.clock = SystemClock()
    variant = shop.product(price="100.00")
    plan = shop.selling_plan(
        [variant["id"]], balance_due={"trigger": "time_after_checkout", "after_seconds": 1}
    )
    order = shop.preorder(variant["id"], plan["id"])
    env = {
        **os.environ,
        "TANDEM_DATABASE_URL": settings.database_url,
        "TANDEM_ENV": "test",
        "TANDEM_SECRET_KEY": settings.secret_key.get_secret_value(),
        "TANDEM_WORKER_POLL_SECONDS": "0.05",
    }
    env.pop("TANDEM_SMTP_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "tandem", "worker"], env=env)
    try:
        deadline = time.monotonic() + 60
        while _schedules(runtime)[0].status == "pending" and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    [job] = _charge_jobs(runtime)
    assert (job.status, job.last_error) == ("done", None)
    _assert_each_balance_charged_once(runtime)
    assert shop.order(order["id"])["financial_status"] == "paid"
