"""Cookies of the admin UI: the staff session, CSRF checks, the login form's token, flashes.

The session cookie holds a random token; the database keeps its hash and the
session's CSRF token (tandem.auth). Every POST form repeats that CSRF token in a
hidden field. The login form has no session yet, so it uses a double-submit
cookie: a random value set in a cookie and repeated in the form; a cross-site
page can make the browser send the cookie but cannot read it to fill the field.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi.responses import Response

from tandem.auth.service import SESSION_LIFETIME

SESSION_COOKIE = "tandem_session"
LOGIN_CSRF_COOKIE = "tandem_login_csrf"
FLASH_COOKIE = "tandem_flash"
ADMIN_PATH = "/admin"
HOME = "/admin"


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; an empty token never matches."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def new_login_token() -> str:
    return secrets.token_urlsafe(32)


def safe_next(raw: str | None) -> str:
    """Where to go after logging in: only a path inside the admin UI, never another site."""
    if not raw or not raw.startswith(ADMIN_PATH) or "\\" in raw:
        return HOME
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc:
        return HOME
    return raw


@dataclass(frozen=True)
class CookiePolicy:
    """Cookie attributes; Secure when the site is served over HTTPS."""

    secure: bool

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path=ADMIN_PATH,
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path=ADMIN_PATH, httponly=True, samesite="lax", secure=self.secure
        )

    def set_login_token(self, response: Response, token: str) -> None:
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, path=ADMIN_PATH, httponly=True, samesite="strict", secure=self.secure
        )

    def clear_login_token(self, response: Response) -> None:
        response.delete_cookie(
            LOGIN_CSRF_COOKIE, path=ADMIN_PATH, httponly=True, samesite="strict", secure=self.secure
        )

    def set_flash(self, response: Response, value: str) -> None:
        response.set_cookie(
            FLASH_COOKIE, value, path=ADMIN_PATH, httponly=True, samesite="lax", secure=self.secure
        )

    def clear_flash(self, response: Response) -> None:
        response.delete_cookie(
            FLASH_COOKIE, path=ADMIN_PATH, httponly=True, samesite="lax", secure=self.secure
        )


@dataclass(frozen=True)
class Flash:
    """A one-time message shown on the page a POST redirects to."""

    kind: str  # success | error
    text: str


class FlashSigner:
    """Flashes travel in a cookie, signed so no other site can plant a message."""

    def __init__(self, secret: str):
        self._key = hashlib.sha256(b"tandem-admin-flash:" + secret.encode()).digest()

    def dump(self, flash: Flash) -> str:
        body = base64.urlsafe_b64encode(json.dumps([flash.kind, flash.text]).encode()).decode()
        return f"{body}.{self._sign(body)}"

    def load(self, raw: str | None) -> Flash | None:
        body, _, signature = (raw or "").partition(".")
        if not body or not same_token(self._sign(body), signature):
            return None
        try:
            kind, text = json.loads(base64.urlsafe_b64decode(body))
        except (ValueError, TypeError):
            return None
        return Flash(str(kind), str(text))

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
