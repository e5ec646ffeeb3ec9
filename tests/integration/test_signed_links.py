"""Signed customer links: signed, expiring, single-use."""

from datetime import timedelta

import pytest

from tandem.errors import Conflict, NotFound
from tandem.notifications import links

SECRET = "a-secret-key-for-links-of-at-least-32-chars"


@pytest.fixture
def issued(runtime, shop, clock):
    with runtime.uow() as uow:
        link = links.issue(
            uow.session,
            secret_key=SECRET,
            base_url="https://shop.example",
            store_id=shop.store_id,
            purpose="update_card",
            subject_type="payment_method",
            subject_id=7,
            now=clock.now(),
            lifetime=timedelta(days=2),
        )
        uow.commit()
    return link


def _open(runtime, token, clock, purpose="update_card", consume=True, secret=SECRET):
    with runtime.uow() as uow:
        link = links.open_link(
            uow.session, secret_key=secret, token=token, purpose=purpose, now=clock.now(), consume=consume
        )
        uow.commit()
        return link


def test_a_link_points_at_the_public_page_and_expires_when_told(issued, clock):
    assert issued.url == f"https://shop.example/p/update_card/{issued.token}"
    assert issued.expires_at == clock.now() + timedelta(days=2)


def test_a_link_opens_once(runtime, issued, clock):
    link = _open(runtime, issued.token, clock)
    assert (link.subject_type, link.subject_id) == ("payment_method", 7)
    with pytest.raises(Conflict) as refused:
        _open(runtime, issued.token, clock)
    assert refused.value.code == "link_used"


def test_looking_at_a_link_does_not_use_it(runtime, issued, clock):
    _open(runtime, issued.token, clock, consume=False)
    assert _open(runtime, issued.token, clock).used_at is not None


def test_an_expired_link_is_refused(runtime, issued, clock):
    clock.advance(days=2)
    with pytest.raises(Conflict) as refused:
        _open(runtime, issued.token, clock)
    assert refused.value.code == "link_expired"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "x" + t,
        lambda t: "garbage",
    ],
)
def test_a_tampered_token_is_not_found(runtime, issued, clock, tamper):
    with pytest.raises(NotFound):
        _open(runtime, tamper(issued.token), clock)


def test_a_token_for_another_purpose_is_not_found(runtime, issued, clock):
    with pytest.raises(NotFound):
        _open(runtime, issued.token, clock, purpose="pay_invoice")


def test_a_token_signed_with_another_key_is_not_found(runtime, issued, clock):
    with pytest.raises(NotFound):
        _open(runtime, issued.token, clock, secret="another-secret-key-of-at-least-32-chars")
