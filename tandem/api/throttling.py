"""Rate limits, counted with the `limits` library: failed attempts at a secret (a staff
password, a card typed on a customer page) and, optionally, API calls per token.

Counters live in TANDEM_RATE_LIMIT_STORAGE_URI: `memory://` (one process) by default, or a
shared store such as `redis://host:6379` when several processes serve the same site.
"""

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from tandem.settings import Settings


def client_address(request) -> str:
    """The client's address (as uvicorn sees it, after trusted proxy headers)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class Refusal:
    """Too many requests: try again in `retry_after` seconds."""

    retry_after: int


def _seconds_until(reset_time: float) -> int:
    return max(1, math.ceil(reset_time - time.time()))


class Throttle:
    """Failed attempts counted per key (an account, a client address...); once a key reaches
    one of its limits, attempts are refused until the window moves on."""

    def __init__(self, limiter: RateLimiter, name: str, limits: dict[str, list[RateLimitItem]]):
        self.limiter, self.name, self.limits = limiter, name, limits

    def refusal(self, **keys: str) -> Refusal | None:
        """A Refusal if any key used up a limit; nothing is counted."""
        waits = [
            _seconds_until(self.limiter.get_window_stats(item, self.name, kind, key).reset_time)
            for kind, key in keys.items()
            for item in self.limits[kind]
            if not self.limiter.test(item, self.name, kind, key)
        ]
        return Refusal(max(waits)) if waits else None

    def failed(self, **keys: str) -> None:
        """Count one failed attempt against every key."""
        for kind, key in keys.items():
            for item in self.limits[kind]:
                self.limiter.hit(item, self.name, kind, key)


@dataclass(frozen=True)
class Allowance:
    """The outcome of one API call against its token's limit, with the X-RateLimit-* headers."""

    allowed: bool
    headers: dict[str, str]


class ApiRateLimit:
    """TANDEM_API_RATE_LIMIT per API token (fixed windows: one counter update per call)."""

    def __init__(self, limiter: RateLimiter, items: list[RateLimitItem]):
        self.limiter, self.items = limiter, items

    def hit(self, token_key: str) -> Allowance:
        allowed = all([self.limiter.hit(item, "api", token_key) for item in self.items])
        item, stats = min(
            ((item, self.limiter.get_window_stats(item, "api", token_key)) for item in self.items),
            key=lambda pair: pair[1].remaining,
        )
        headers = {
            "X-RateLimit-Limit": str(item.amount),
            "X-RateLimit-Remaining": str(stats.remaining),
            "X-RateLimit-Reset": str(math.ceil(stats.reset_time)),
        }
        if not allowed:
            headers["Retry-After"] = str(_seconds_until(stats.reset_time))
        return Allowance(allowed, headers)


@dataclass(frozen=True)
class Limits:
    sign_in: Throttle  # the admin login form: per account and per client address
    card_forms: Throttle  # the customer pages' card forms: per link and per client address
    api: ApiRateLimit | None  # off unless TANDEM_API_RATE_LIMIT is set


def build_limits(settings: Settings, storage: Storage | None = None) -> Limits:
    storage = storage or storage_from_string(settings.rate_limit_storage_uri)
    moving = MovingWindowRateLimiter(storage)
    per_account = parse_many(settings.login_rate_limit)
    per_address = parse_many(settings.login_address_rate_limit)
    api = settings.api_rate_limit
    return Limits(
        sign_in=Throttle(moving, "sign_in", {"account": per_account, "address": per_address}),
        card_forms=Throttle(moving, "card_forms", {"link": per_account, "address": per_address}),
        api=ApiRateLimit(FixedWindowRateLimiter(storage), parse_many(api)) if api else None,
    )
