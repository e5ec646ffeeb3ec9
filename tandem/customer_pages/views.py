"""The pages behind mailed links, under /p/: update the card on file, confirm a payment the
bank challenged, pay an invoice. No login: the signed token in the URL is the credential
(see security.py for how the forms are protected).

Each route parses its input, calls one use case of tandem.preorders.customer_links and
renders a page in the customer's language (the store's, unless the customer chose one).
A link that cannot be used any more gets a page saying why (404 not valid, 409 used or
nothing left to do, 410 expired), never JSON and never a 500 for what a customer types.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from starlette.concurrency import run_in_threadpool

from tandem.api.errors import is_contention
from tandem.api.throttling import client_address
from tandem.customer_pages import presenting, security
from tandem.customer_pages.pages import CustomerSite, render
from tandem.customer_pages.presenting import CONFIRM_PAYMENT, PAY_INVOICE, UPDATE_CARD
from tandem.errors import Conflict, Forbidden, InvalidInput, NotFound, PaymentFailed, TandemError
from tandem.i18n.catalogs import negotiate
from tandem.i18n.labels import N_, TOO_MANY_ATTEMPTS
from tandem.preorders import customer_links
from tandem.runtime import Runtime

STATIC = Path(__file__).parent / "static"
CARD_TOKEN_MAX = 100
CardToken = Annotated[str, Form()]
FormKey = Annotated[str, Form()]


class CustomerPageRoute(APIRoute):
    """Errors become pages: a refused link says why, in its reader's language."""

    def get_route_handler(self) -> Callable:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError:
                return await run_in_threadpool(refused_page, request, 400, "bad_request")
            except TandemError as exc:
                return await run_in_threadpool(refused_page, request, *refusal(exc))
            except OperationalError as exc:
                if not is_contention(exc):
                    raise
                return await run_in_threadpool(refused_page, request, 503, "busy")

        return handle_page


router = APIRouter(prefix="/p", include_in_schema=False, route_class=CustomerPageRoute)


def mount(app: FastAPI) -> None:
    """Add the customer pages to `app`; catalogs and templates are built here, once."""
    app.state.customer_pages = CustomerSite()
    app.mount("/p/static", StaticFiles(directory=STATIC), name="customer-static")
    app.include_router(router)


# -- update the card on file ---------------------------------------------------------------------


@router.get("/update_card/{token}")
def card_page(request: Request, token: str) -> Response:
    return _form(request, UPDATE_CARD, token, _view(request, UPDATE_CARD, token))


@router.post("/update_card/{token}")
def update_card(request: Request, token: str, card_token: CardToken = "", form_key: FormKey = "") -> Response:
    view = _posted(request, UPDATE_CARD, token, form_key)
    if problem := card_token_problem(card_token):
        return _form(request, UPDATE_CARD, token, view, card_token=card_token, field_error=problem)
    if refused := _too_many_attempts(request, UPDATE_CARD, token, view):
        return refused
    runtime = _runtime(request)
    try:
        with runtime.uow() as uow:
            card = customer_links.update_card(
                uow, token=token, card_token=card_token.strip(), now=runtime.clock.now()
            )
            last4 = card.last4
    except InvalidInput:
        _attempt_failed(request, token)
        problem = N_("This card was not accepted. Check the card token and try again.")
        return _form(request, UPDATE_CARD, token, view, card_token=card_token, field_error=problem)
    return _done(request, view, "card_saved", last4=last4)


# -- confirm a payment the bank challenged --------------------------------------------------------


@router.get("/confirm_payment/{token}")
def confirmation_page(request: Request, token: str) -> Response:
    return _form(request, CONFIRM_PAYMENT, token, _view(request, CONFIRM_PAYMENT, token))


@router.post("/confirm_payment/{token}")
def confirm_payment(request: Request, token: str, form_key: FormKey = "") -> Response:
    view = _posted(request, CONFIRM_PAYMENT, token, form_key)
    runtime = _runtime(request)
    try:
        with runtime.uow() as uow:
            customer_links.confirm_payment(uow, token=token, now=runtime.clock.now())
    except PaymentFailed as exc:  # the link is used up: say what happens next
        if exc.code == "payment_pending":
            return _done(request, view, "payment_pending", status=202)
        if exc.code == "gateway_error":
            return _done(request, view, "confirmation_error", status=503)
        return _done(request, view, "confirmation_declined", status=402)
    return _done(request, view, "payment_confirmed")


# -- pay an invoice ---------------------------------------------------------------------------------


@router.get("/pay_invoice/{token}")
def invoice_page(request: Request, token: str) -> Response:
    return _form(request, PAY_INVOICE, token, _view(request, PAY_INVOICE, token))


@router.post("/pay_invoice/{token}")
def pay_invoice(request: Request, token: str, card_token: CardToken = "", form_key: FormKey = "") -> Response:
    view = _posted(request, PAY_INVOICE, token, form_key)
    if problem := card_token_problem(card_token):
        return _form(request, PAY_INVOICE, token, view, card_token=card_token, field_error=problem)
    if refused := _too_many_attempts(request, PAY_INVOICE, token, view):
        return refused
    runtime = _runtime(request)
    try:
        with runtime.uow() as uow:
            customer_links.pay_invoice(
                uow, token=token, card_token=card_token.strip(), now=runtime.clock.now()
            )
    except PaymentFailed as exc:  # the link still works: another card can be tried
        if exc.code == "payment_pending":
            return _done(request, view, "payment_pending", status=202)
        if exc.code == "gateway_error":
            error = N_("The payment service did not answer and nothing was charged. Please try again.")
            return _form(request, PAY_INVOICE, token, view, error=error, status=503)
        _attempt_failed(request, token)
        error = N_("Your card was declined. Nothing was charged: please try another card.")
        return _form(request, PAY_INVOICE, token, view, error=error, status=402)
    return _done(request, view, "invoice_paid")


@router.api_route("/{anything:path}", methods=["GET", "POST"])
def no_such_page(anything: str) -> Response:
    raise NotFound("no such page")


# -- helpers ------------------------------------------------------------------------------------------


def _too_many_attempts(request: Request, purpose: str, token: str, view: dict) -> Response | None:
    """The form again with a 429 once a link or an address failed too often (card testing)."""
    throttle = request.app.state.limits.card_forms
    if not (refused := throttle.refusal(link=token, address=client_address(request))):
        return None
    response = _form(request, purpose, token, view, error=TOO_MANY_ATTEMPTS, status=429)
    response.headers["Retry-After"] = str(refused.retry_after)
    return response


def _attempt_failed(request: Request, token: str) -> None:
    request.app.state.limits.card_forms.failed(link=token, address=client_address(request))


def card_token_problem(card_token: str) -> str | None:
    """Why a typed card token cannot be sent to the gateway (a 422 on the field), if it cannot."""
    if not card_token.strip():
        return N_("Enter a card token.")
    if len(card_token.strip()) > CARD_TOKEN_MAX:
        return N_("This card token is too long.")
    return None


def refusal(exc: TandemError) -> tuple[int, str]:
    """The status and the page for a link that cannot be used."""
    if isinstance(exc, NotFound):
        return 404, "not_found"
    if isinstance(exc, Forbidden):
        return 403, "forbidden"
    if isinstance(exc, Conflict):
        return {"link_used": (409, "used"), "link_expired": (410, "expired")}.get(exc.code, (409, "settled"))
    return 400, "bad_request"


def refused_page(request: Request, status: int, reason: str) -> Response:
    """Why the link cannot be used, in its reader's language when the link names them."""
    store = _reader_of_link(request) if status != 404 else None
    locale = store["locale"] if store else negotiate(request.headers.get("accept-language"))
    return render(request, "refused.html", locale=locale, status=status, reason=reason, store=store)


def _reader_of_link(request: Request) -> dict | None:
    opened = getattr(request.state, "link", None)
    if opened is None:
        return None
    with _runtime(request).uow(read_only=True) as uow:
        try:
            return presenting.reader(customer_links.describe(uow, purpose=opened[0], token=opened[1]))
        except NotFound:
            return None


def _view(request: Request, purpose: str, token: str) -> dict:
    """What the page of a usable link shows (404/409/410 otherwise)."""
    request.state.link = (purpose, token)
    runtime = _runtime(request)
    with runtime.uow(read_only=True) as uow:
        page = customer_links.open_page(uow, purpose=purpose, token=token, now=runtime.clock.now())
        return presenting.link_view(uow.session, purpose, page)


def _posted(request: Request, purpose: str, token: str, key: str) -> dict:
    """The page of a usable link (404/409/410 otherwise), if its form was sent from it (403 otherwise)."""
    view = _view(request, purpose, token)
    settings = _runtime(request).settings
    ours = security.form_is_ours(
        request, secret=settings.secret(), base_url=settings.base_url, purpose=purpose, token=token, key=key
    )
    if not ours:
        raise Forbidden("this form was not sent from its page")
    return view


def _form(
    request: Request,
    purpose: str,
    token: str,
    view: dict,
    *,
    card_token: str = "",
    field_error: str | None = None,
    error: str | None = None,
    status: int | None = None,
) -> Response:
    key = security.form_key(_runtime(request).settings.secret(), purpose, token)
    return render(
        request,
        f"{purpose}.html",
        locale=view["store"]["locale"],
        status=status or (422 if field_error else 200),
        action=f"/p/{purpose}/{token}",
        form_key=key,
        card_token=card_token,
        field_error=field_error,
        error=error,
        **view,
    )


def _done(request: Request, view: dict, outcome: str, *, status: int = 200, **extra) -> Response:
    return render(
        request, "done.html", locale=view["store"]["locale"], status=status, outcome=outcome, **view, **extra
    )


def _runtime(request: Request) -> Runtime:
    return request.app.state.runtime
