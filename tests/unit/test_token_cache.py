"""The per-process token cache: a token is looked up again after `recheck` seconds, by one
request while the others keep the entry up to `stale` seconds."""

import time

from tandem.auth.service import Caller, TokenCache
from tandem.timeline.domain import Actor, ActorKind

CALLER = Caller(1, Actor(ActorKind.API, "API token default", 1))


def test_a_recent_token_is_served_from_the_cache():
    cache = TokenCache(recheck=60, stale=120)
    cache.put("h", CALLER)
    assert cache.get("h") == CALLER


def test_past_recheck_one_request_looks_it_up_and_the_others_wait_no_longer_than_stale():
    cache = TokenCache(recheck=0.01, stale=60)
    cache.put("h", CALLER)
    time.sleep(0.02)
    assert cache.get("h") is None  # this request looks the token up
    assert cache.get("h") == CALLER  # the others meanwhile keep the entry


def test_past_stale_every_request_looks_it_up():
    cache = TokenCache(recheck=0.01, stale=0.02)
    cache.put("h", CALLER)
    time.sleep(0.03)
    assert cache.get("h") is None
    assert cache.get("h") is None


def test_a_forgotten_token_is_not_served():
    cache = TokenCache()
    cache.put("h", CALLER)
    cache.forget("h")
    assert cache.get("h") is None
