"""The worker: due jobs run exactly once in effect, across workers and crashes."""

import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tandem.timeline import service as timeline
from tandem.timeline.domain import WORKER, Change
from tandem.timeline.models import Event
from tandem.worker import service as jobs
from tandem.worker.models import Job
from tandem.worker.runner import Worker


def _record(uow, payload, now):
    timeline.record(
        uow.session,
        store_id=payload["store_id"],
        subject_type="test",
        subject_id=payload["n"],
        changes=[Change("job_done", {})],
        actor=WORKER,
        now=now,
    )


def _schedule(runtime, store_id: int, count: int, *, kind: str = "test.record", delay: float = 0) -> None:
    now = runtime.clock.now()
    with runtime.uow() as uow:
        for n in range(count):
            jobs.schedule(
                uow.session,
                kind=kind,
                payload={"store_id": store_id, "n": n},
                run_at=now + timedelta(seconds=delay),
                now=now,
            )
        uow.commit()


def _effects(runtime) -> dict[int, int]:
    with runtime.uow(read_only=True) as uow:
        rows = uow.session.execute(
            select(Event.subject_id, func.count())
            .where(Event.subject_type == "test")
            .group_by(Event.subject_id)
        ).all()
    return dict(rows)


def _statuses(runtime) -> dict[str, int]:
    with runtime.uow(read_only=True) as uow:
        return dict(uow.session.execute(select(Job.status, func.count()).group_by(Job.status)).all())


def test_a_job_waits_until_it_is_due(runtime, shop, clock):
    _schedule(runtime, shop.store_id, 1, delay=60)
    worker = Worker(runtime, handlers={"test.record": _record})
    assert worker.run_once() == 0
    clock.advance(seconds=60)
    assert worker.run_once() == 1
    assert _effects(runtime) == {0: 1}
    assert _statuses(runtime) == {"done": 1}


def test_two_workers_do_two_hundred_jobs_exactly_once(runtime, shop):
    _schedule(runtime, shop.store_id, 200)
    workers = [Worker(runtime, handlers={"test.record": _record}, name=f"w{i}", batch=7) for i in range(2)]
    threads = [threading.Thread(target=w.run_until_idle, kwargs={"max_rounds": 500}) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    effects = _effects(runtime)
    assert len(effects) == 200
    assert set(effects.values()) == {1}
    assert _statuses(runtime) == {"done": 200}
    with runtime.uow(read_only=True) as uow:
        by_worker = dict(
            uow.session.execute(select(Job.locked_by, func.count()).group_by(Job.locked_by)).all()
        )
    assert set(by_worker) <= {"w0", "w1"} and sum(by_worker.values()) == 200


def test_a_failing_job_is_retried_with_backoff_then_given_up(runtime, shop, clock):
    attempts = []

    def flaky(uow, payload, now):
        attempts.append(now)
        raise RuntimeError("the mail server is down")

    with runtime.uow() as uow:
        jobs.schedule(
            uow.session, kind="test.flaky", payload={}, run_at=clock.now(), now=clock.now(), max_attempts=3
        )
        uow.commit()
    worker = Worker(runtime, handlers={"test.flaky": flaky})
    worker.run_once()
    assert _statuses(runtime) == {"pending": 1}
    clock.advance(seconds=4)
    worker.run_once()
    assert len(attempts) == 1
    clock.advance(seconds=1)
    worker.run_once()
    clock.advance(seconds=10)
    worker.run_once()
    assert len(attempts) == 3
    assert _statuses(runtime) == {"failed": 1}
    with runtime.uow(read_only=True) as uow:
        assert "mail server is down" in uow.session.scalar(select(Job.last_error))


def test_a_job_whose_lease_was_taken_over_commits_nothing(runtime, shop, clock):
    _schedule(runtime, shop.store_id, 1)
    slow = Worker(runtime, handlers={}, name="slow", lease=timedelta(seconds=30))
    with runtime.uow() as uow:
        claimed = jobs.claim_due(uow.session, worker="slow", now=clock.now(), lease=slow.lease, limit=1)
        uow.commit()
    clock.advance(seconds=31)
    Worker(runtime, handlers={"test.record": _record}, name="fast").run_once()
    slow.handlers = {"test.record": _record}
    slow._run(claimed[0])
    assert _effects(runtime) == {0: 1}
    assert _statuses(runtime) == {"done": 1}


def test_an_unknown_job_kind_fails_visibly(runtime, shop):
    _schedule(runtime, shop.store_id, 1, kind="test.nobody")
    Worker(runtime, handlers={}).run_once()
    with runtime.uow(read_only=True) as uow:
        assert "no handler" in uow.session.scalar(select(Job.last_error))


@pytest.mark.timeout(120)
def test_a_worker_killed_mid_job_loses_nothing_and_doubles_nothing(settings, runtime, shop, tmp_path):
    """A real process dies holding a job; after its lease a new worker redoes it, once."""
    from tandem.clock import SystemClock

    runtime.clock = SystemClock()  # the worker processes use real time
    _schedule(runtime, shop.store_id, 200)
    marker = tmp_path / "crashed"
    command = [sys.executable, "-m", "tests.support.worker_process", settings.database_url, "57", str(marker)]
    first = subprocess.run(command, timeout=60, env=_env(seconds=20))
    assert first.returncode == 17 and marker.exists()
    assert 0 < len(_effects(runtime)) < 200
    second = subprocess.run(command, timeout=60, env=_env(seconds=6))
    assert second.returncode == 0
    effects = _effects(runtime)
    assert len(effects) == 200
    assert set(effects.values()) == {1}
    assert _statuses(runtime) == {"done": 200}


def _env(seconds: int) -> dict:
    import os

    return {**os.environ, "WORKER_SECONDS": str(seconds)}


def test_jobs_of_one_kind_run_as_one_batch_with_their_done_marks(runtime, shop):
    batches = []

    def record_all(uow, payloads, now):
        batches.append(len(payloads))
        for payload in payloads:
            _record(uow, payload, now)

    _schedule(runtime, shop.store_id, 5)
    worker = Worker(
        runtime,
        handlers={"test.record": _record},
        batch_handlers={"test.record": jobs.BatchHandler(record_all)},
    )
    worker.run_until_idle()
    assert batches == [5]
    assert _effects(runtime) == {n: 1 for n in range(5)} and _statuses(runtime) == {"done": 5}


def test_a_batch_that_fails_runs_its_jobs_one_by_one(runtime, shop):
    def refuse_the_third(uow, payload, now):
        if payload["n"] == 3:
            raise ValueError("not this one")
        _record(uow, payload, now)

    def all_at_once(uow, payloads, now):
        for payload in payloads:
            refuse_the_third(uow, payload, now)

    _schedule(runtime, shop.store_id, 5)
    batched = {"test.record": jobs.BatchHandler(all_at_once)}
    Worker(runtime, handlers={"test.record": refuse_the_third}, batch_handlers=batched).run_once()
    assert _effects(runtime) == {0: 1, 1: 1, 2: 1, 4: 1}  # the batch's own writes were rolled back
    assert _statuses(runtime) == {"done": 4, "pending": 1}  # the failed one waits for its retry


def _held(runtime) -> list[tuple[str, str | None]]:
    with runtime.uow(read_only=True) as uow:
        return [tuple(row) for row in uow.session.execute(select(Job.status, Job.locked_by).order_by(Job.id))]


def test_a_worker_claims_only_the_job_it_runs_next(runtime, shop):
    running_meanwhile = []

    def record_and_look(uow, payload, now):
        _record(uow, payload, now)
        running_meanwhile.append([status for status, _ in _held(runtime)].count("running"))

    _schedule(runtime, shop.store_id, 5)
    Worker(runtime, handlers={"test.record": record_and_look}).run_until_idle()
    assert running_meanwhile == [1, 1, 1, 1, 1]
    assert _statuses(runtime) == {"done": 5}


def test_the_lease_is_thirty_seconds_by_default_and_renewed_by_the_heartbeat(runtime, shop, clock):
    _schedule(runtime, shop.store_id, 1)
    worker = Worker(runtime, handlers={})
    assert worker.lease == timedelta(seconds=30) and worker.name == runtime.owner
    with runtime.uow() as uow:
        jobs.claim_due(uow.session, worker=worker.name, now=clock.now(), lease=worker.lease, limit=1)
        uow.commit()
    clock.advance(seconds=25)
    with runtime.database.engine.begin() as connection:  # what the heartbeat does every second
        worker.renew_leases(connection, clock.now())
    clock.advance(seconds=25)  # 50 s after the claim, 25 s after the renewal
    other = Worker(runtime, handlers={"test.record": _record}, name="other")
    assert other.run_once() == 0
    clock.advance(seconds=6)  # the renewed lease ran out: the worker is gone
    assert other.run_once() == 1
    assert _effects(runtime) == {0: 1}


def test_a_running_worker_renews_its_leases_with_each_beat(runtime, shop, clock):
    import time

    started = threading.Event()
    proceed = threading.Event()

    def slow(uow, payload, now):
        started.set()
        assert proceed.wait(10)
        _record(uow, payload, now)

    _schedule(runtime, shop.store_id, 1)
    runtime.beat()
    worker = Worker(runtime, handlers={"test.record": slow})
    stop = threading.Event()
    thread = threading.Thread(target=worker.run_forever, args=(stop,))
    thread.start()
    try:
        assert started.wait(10)
        clock.advance(seconds=100)  # far past the first lease
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _locked_until(runtime) != clock.now() + worker.lease:
            time.sleep(0.1)
        assert _locked_until(runtime) == clock.now() + worker.lease
        assert Worker(runtime, handlers={}, name="other").run_once() == 0  # still this worker's
    finally:
        proceed.set()
        stop.set()
        thread.join(10)
    assert _effects(runtime) == {0: 1} and _statuses(runtime) == {"done": 1}


def _locked_until(runtime):
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(Job.locked_until))


def test_the_jobs_of_a_process_that_stopped_beating_are_taken_over_before_their_lease_ends(
    runtime, shop, clock
):
    from tandem.liveness import ProcessBeat

    _schedule(runtime, shop.store_id, 3)
    with runtime.uow() as uow:
        uow.session.add(ProcessBeat(owner="killed", started_at=clock.now(), beat_at=clock.now()))
        jobs.claim_due(uow.session, worker="killed", now=clock.now(), lease=timedelta(seconds=30), limit=3)
        uow.commit()
    other = Worker(runtime, handlers={"test.record": _record}, name="other")
    clock.advance(seconds=10)
    assert other.run_once() == 0  # its last beat is 10 s old: not yet dead
    clock.advance(seconds=1)
    assert other.run_once() == 3  # 11 s: dead, though its leases run for 19 s more
    assert _effects(runtime) == {0: 1, 1: 1, 2: 1}


def test_a_stopped_worker_gives_back_the_jobs_it_holds_due_at_once(runtime, shop, clock):
    _schedule(runtime, shop.store_id, 3)
    worker = Worker(runtime, handlers={"test.record": _record}, name="leaving")
    with runtime.uow() as uow:
        jobs.claim_due(uow.session, worker="leaving", now=clock.now(), lease=worker.lease, limit=3)
        uow.commit()
    assert worker.release() == 3
    assert _held(runtime) == [("pending", None)] * 3
    assert Worker(runtime, handlers={"test.record": _record}, name="next").run_once() == 3  # no lease to wait
    assert _effects(runtime) == {0: 1, 1: 1, 2: 1}


def test_a_worker_told_to_stop_finishes_the_job_in_hand_and_claims_no_more(runtime, shop):
    stop = threading.Event()

    def record_then_stop(uow, payload, now):
        _record(uow, payload, now)
        stop.set()  # SIGTERM arrives while the first job runs

    _schedule(runtime, shop.store_id, 4)
    Worker(runtime, handlers={"test.record": record_then_stop}, name="leaving").run_forever(stop)
    assert _effects(runtime) == {0: 1}
    assert _statuses(runtime) == {"done": 1, "pending": 3}
    assert {locked_by for status, locked_by in _held(runtime) if status == "pending"} == {None}
