"""Worker jobs: the lifecycle table and how long a failed job waits before its next attempt."""

from datetime import timedelta
from itertools import product

import pytest

from tandem.worker.domain import JOB_TRANSITIONS, JobStatus, backoff, can_move

PENDING, RUNNING, DONE, FAILED, CANCELLED = (
    JobStatus.PENDING,
    JobStatus.RUNNING,
    JobStatus.DONE,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)
ALLOWED = {
    (PENDING, RUNNING),  # a worker takes it
    (PENDING, CANCELLED),
    (RUNNING, DONE),
    (RUNNING, PENDING),  # failed an attempt; retried later
    (RUNNING, FAILED),  # out of attempts
    (RUNNING, RUNNING),  # another worker takes over after the lease ran out
    (FAILED, PENDING),  # staff retry
}


def test_every_job_status_has_its_moves_listed():
    assert set(JOB_TRANSITIONS) == set(JobStatus)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_a_job_can_make_the_moves_of_its_lifecycle(source, target):
    assert can_move(source, target)


@pytest.mark.parametrize(
    ("source", "target"), [pair for pair in product(JobStatus, JobStatus) if pair not in ALLOWED]
)
def test_a_job_cannot_make_any_other_move(source, target):
    assert not can_move(source, target)


@pytest.mark.parametrize("target", list(JobStatus))
def test_a_done_or_cancelled_job_never_moves_again(target):
    assert not can_move(DONE, target)
    assert not can_move(CANCELLED, target)


def test_a_failed_job_must_be_queued_again_before_it_runs():
    assert not can_move(FAILED, RUNNING)
    assert can_move(FAILED, PENDING)


def test_a_pending_job_cannot_be_done_without_running():
    assert not can_move(PENDING, DONE)


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 5), (2, 10), (3, 20), (4, 40), (10, 2560)])
def test_the_wait_doubles_from_five_seconds_with_each_attempt(attempts, seconds):
    assert backoff(attempts) == timedelta(seconds=seconds)


def test_a_job_that_has_not_been_attempted_waits_the_base_delay():
    assert backoff(0) == timedelta(seconds=5)


@pytest.mark.parametrize("attempts", [11, 12, 50, 5000])
def test_the_wait_never_exceeds_an_hour(attempts):
    assert backoff(attempts) == timedelta(hours=1)


def test_the_base_and_the_cap_can_be_chosen():
    assert backoff(3, base_seconds=1, cap_seconds=3) == timedelta(seconds=3)
    assert backoff(2, base_seconds=1, cap_seconds=3) == timedelta(seconds=2)
