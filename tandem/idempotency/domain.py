"""Idempotency keys: the first request with a key runs; later ones get its response.

started  -- the request runs; another request with the key waits for it
applied  -- its effect committed (bound inside the effect's own transaction)
finished -- its response is stored and replayed to every retry
"""

from enum import StrEnum


class KeyStatus(StrEnum):
    STARTED = "started"
    APPLIED = "applied"
    FINISHED = "finished"


KEY_TRANSITIONS = {
    KeyStatus.STARTED: frozenset({KeyStatus.APPLIED, KeyStatus.FINISHED, KeyStatus.STARTED}),
    KeyStatus.APPLIED: frozenset({KeyStatus.FINISHED}),
    KeyStatus.FINISHED: frozenset(),
}
