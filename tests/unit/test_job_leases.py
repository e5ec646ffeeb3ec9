"""Job leases and outbox retries: when a running job becomes another worker's, how much a
worker claims, and how a message that keeps failing reaches `failed`."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tandem.notifications.domain import (
    EMAIL_RETRY_DELAYS,
    MAX_EMAIL_ATTEMPTS,
    MAX_WEBHOOK_ATTEMPTS,
    WEBHOOK_RETRY_DELAYS,
    retry_delay,
)
from tandem.settings import Settings
from tandem.worker.domain import claim_size, may_take_over

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
STALE = timedelta(seconds=10)


def _take_over(*, lease_left: float, beat_ago: float | None) -> bool:
    beat_at = None if beat_ago is None else NOW - timedelta(seconds=beat_ago)
    return may_take_over(
        locked_until=NOW + timedelta(seconds=lease_left), now=NOW, owner_beat_at=beat_at, stale_after=STALE
    )


def test_a_job_whose_worker_beats_and_whose_lease_runs_is_left_alone():
    assert not _take_over(lease_left=20, beat_ago=1)


def test_a_job_whose_lease_ran_out_is_taken_over():
    assert _take_over(lease_left=-0.001, beat_ago=1)


def test_a_job_of_a_process_that_stopped_beating_is_taken_over_before_its_lease_ends():
    assert _take_over(lease_left=25, beat_ago=10.5)


def test_a_process_that_beat_just_now_keeps_its_job():
    assert not _take_over(lease_left=25, beat_ago=9.9)


def test_a_worker_that_never_beats_keeps_its_job_for_the_lease_alone():
    assert not _take_over(lease_left=25, beat_ago=None)
    assert _take_over(lease_left=-1, beat_ago=None)


def test_a_running_job_without_a_lease_is_taken_over():
    assert may_take_over(locked_until=None, now=NOW, owner_beat_at=None, stale_after=STALE)


def test_a_worker_claims_one_job_at_a_time():
    assert claim_size(batchable=False, batch=20) == 1


def test_a_worker_claims_a_whole_batch_only_of_a_batchable_kind():
    assert claim_size(batchable=True, batch=20) == 20
    assert claim_size(batchable=True, batch=0) == 1


def test_a_failing_email_is_retried_after_ten_seconds_then_less_and_less_often():
    waits = [retry_delay(EMAIL_RETRY_DELAYS, attempts) for attempts in range(1, MAX_EMAIL_ATTEMPTS)]
    assert waits[0] == timedelta(seconds=10)
    assert waits == sorted(waits)


def test_an_email_fails_after_its_seventh_attempt():
    assert MAX_EMAIL_ATTEMPTS == 7
    assert retry_delay(EMAIL_RETRY_DELAYS, MAX_EMAIL_ATTEMPTS - 1) is not None
    assert retry_delay(EMAIL_RETRY_DELAYS, MAX_EMAIL_ATTEMPTS) is None


def test_a_failing_webhook_is_retried_within_ten_seconds_then_fails_after_its_eleventh_attempt():
    assert retry_delay(WEBHOOK_RETRY_DELAYS, 1) <= timedelta(seconds=10)
    assert retry_delay(WEBHOOK_RETRY_DELAYS, MAX_WEBHOOK_ATTEMPTS - 1) == timedelta(hours=24)
    assert retry_delay(WEBHOOK_RETRY_DELAYS, MAX_WEBHOOK_ATTEMPTS) is None


def test_the_lease_is_thirty_seconds_unless_set(monkeypatch):
    assert Settings(env="test", secret_key="k" * 40).worker_lease_seconds == 30
    monkeypatch.setenv("TANDEM_WORKER_LEASE_SECONDS", "12")
    assert Settings(env="test", secret_key="k" * 40).worker_lease_seconds == 12


@pytest.mark.parametrize("seconds", ["1", "0", "-5", "7200"])
def test_a_lease_shorter_than_a_few_beats_or_longer_than_an_hour_is_refused(monkeypatch, seconds):
    monkeypatch.setenv("TANDEM_WORKER_LEASE_SECONDS", seconds)
    with pytest.raises(ValidationError):
        Settings(env="test", secret_key="k" * 40)
