"""Idempotency keys: started, then applied (effect committed), then finished (response stored)."""

from itertools import product

import pytest

from tandem.idempotency.domain import KEY_TRANSITIONS, KeyStatus

STARTED, APPLIED, FINISHED = KeyStatus.STARTED, KeyStatus.APPLIED, KeyStatus.FINISHED
ALLOWED = {
    (STARTED, APPLIED),
    (STARTED, FINISHED),  # a request with no effect to bind stores its response directly
    (STARTED, STARTED),  # a request whose runner died is taken over
    (APPLIED, FINISHED),
}


def test_every_key_status_has_its_moves_listed():
    assert set(KEY_TRANSITIONS) == set(KeyStatus)


@pytest.mark.parametrize(("source", "target"), sorted(ALLOWED))
def test_a_key_moves_forward_through_its_lifecycle(source, target):
    assert target in KEY_TRANSITIONS[source]


@pytest.mark.parametrize(
    ("source", "target"), [pair for pair in product(KeyStatus, KeyStatus) if pair not in ALLOWED]
)
def test_a_key_never_makes_any_other_move(source, target):
    assert target not in KEY_TRANSITIONS[source]


def test_a_key_whose_effect_was_applied_cannot_be_started_again():
    """Otherwise a retry would run the effect a second time."""
    assert STARTED not in KEY_TRANSITIONS[APPLIED]


def test_a_finished_key_is_final():
    assert KEY_TRANSITIONS[FINISHED] == frozenset()
