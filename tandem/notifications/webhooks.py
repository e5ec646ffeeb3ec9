"""Webhook delivery: signed POSTs, and the checks that keep them off private networks.

Addresses that resolve to loopback, private, link-local or otherwise non-public
addresses are refused (server-side request forgery) unless
TANDEM_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true. The check runs when the subscription
is created and again before every delivery (the name may resolve elsewhere later);
redirects are not followed.
"""

import base64
import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography.fernet import Fernet, InvalidToken

from tandem import __version__

TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class AddressRefused(Exception):
    """The address is not a public http(s) address."""


def check_address(address: str, *, allow_private: bool) -> None:
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AddressRefused("must be an http:// or https:// address")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"cannot resolve {parts.hostname}") from exc
    for info in infos:
        if not _public(info[4][0]):
            raise AddressRefused(f"{parts.hostname} resolves to a private or reserved network address")


def _public(raw: str) -> bool:
    address = ipaddress.ip_address(raw.split("%")[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def signature(secret: str, body: bytes) -> str:
    """X-Tandem-Hmac-SHA256: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(frozen=True)
class DeliveryResult:
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int


def post(
    *, address: str, topic: str, webhook_id: str, store_id: int, body: str, secret: str, allow_private: bool
) -> DeliveryResult:
    """One attempt: any 2xx is success; anything else (or no answer) is retried later."""
    started = time.monotonic()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Tandem-Webhooks/{__version__}",
        "X-Tandem-Topic": topic,
        "X-Tandem-Webhook-Id": webhook_id,
        "X-Tandem-Store-Id": str(store_id),
        "X-Tandem-Hmac-SHA256": signature(secret, body.encode()),
    }
    try:
        check_address(address, allow_private=allow_private)
        response = httpx.post(
            address, content=body.encode(), headers=headers, timeout=TIMEOUT, follow_redirects=False
        )
    except Exception as exc:  # noqa: BLE001 - refused, unreachable, or a request httpx cannot make
        return DeliveryResult(False, None, f"{type(exc).__name__}: {exc}"[:1000], _ms(started))
    ok = 200 <= response.status_code < 300
    return DeliveryResult(
        ok, response.status_code, None if ok else f"HTTP {response.status_code}", _ms(started)
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


class SecretBox:
    """Subscription secrets are kept encrypted (Fernet) with a key derived from TANDEM_SECRET_KEY."""

    def __init__(self, secret_key: str):
        key = hashlib.sha256(f"tandem-webhook-secrets:{secret_key}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:
            raise RuntimeError("webhook secret cannot be read: was TANDEM_SECRET_KEY changed?") from exc
