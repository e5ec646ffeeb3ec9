"""Why these forms are safe without a login, and the headers every customer page carries.

The secret is the signed, single-use token in the URL (tandem.notifications.links): a POST
acts only on the link named in its own URL, so a site that does not know the token cannot
forge one, and one that knows it needs no victim. Two checks are added on top:

- the form repeats a key derived from the token with an HMAC of the server's secret, so a
  POST is accepted only from a form this server rendered for that very link;
- a browser that says where the form came from (Sec-Fetch-Site, or an Origin naming a
  site) must name this site: no other page can make a customer's browser submit it.

The pages set no cookie, and the staff session cookie is scoped to /admin: there is no
ambient credential for a forged request to ride on, and staff sessions play no part here.

The token must not leak from the page: no referrer, no caching, no framing.
"""

import hashlib
import hmac
from urllib.parse import urlsplit

from fastapi import Request

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
}


def form_key(secret: str, purpose: str, token: str) -> str:
    """The hidden field that binds a form to its link."""
    key = hashlib.sha256(b"tandem-customer-page-form:" + secret.encode()).digest()
    return hmac.new(key, f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()


def form_is_ours(request: Request, *, secret: str, base_url: str, purpose: str, token: str, key: str) -> bool:
    """The form key matches the link, and the browser did not post it from another site."""
    expected = form_key(secret, purpose, token)
    return bool(key) and hmac.compare_digest(expected, key) and _same_origin(request, base_url)


def _same_origin(request: Request, base_url: str) -> bool:
    """Did the browser post this from our own page? Browsers say so in Sec-Fetch-Site; the
    Origin of a page with no-referrer is "null", so Origin only counts when it names a site."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    origin = request.headers.get("origin")
    if origin is None or origin == "null":  # not every client says; the form key still binds the POST
        return True
    return origin in {_origin(base_url), _origin(str(request.base_url))}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
