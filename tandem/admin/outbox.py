"""The outbox in the admin UI: emails and webhook deliveries, their attempts, resending.

Without an SMTP server (development), this is where mails can be read.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from tandem.admin.deps import FormViewerDep, ViewerDep, runtime_of
from tandem.admin.pages import redirect, render
from tandem.admin.routing import AdminRoute
from tandem.admin.security import Flash
from tandem.api.types import Id
from tandem.errors import TandemError
from tandem.i18n.labels import N_
from tandem.notifications import service
from tandem.notifications.domain import DeliveryStatus, EmailStatus

router = APIRouter(prefix="/admin/outbox", include_in_schema=False, route_class=AdminRoute)
KINDS = ("emails", "webhooks")
# The email's own HTML, shown in a sandboxed frame: no scripts, nothing fetched but inline styles.
EMAIL_FRAME_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@router.get("")
def outbox_page(
    request: Request,
    viewer: ViewerDep,
    kind: Annotated[str, Query(max_length=20)] = "emails",
    status: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    kind = kind if kind in KINDS else "emails"
    statuses = [s.value for s in (EmailStatus if kind == "emails" else DeliveryStatus)]
    status = status if status in statuses else ""
    with runtime_of(request).uow(read_only=True) as uow:
        if kind == "emails":
            rows = service.list_emails(uow, store_id=viewer.store_id, status=status or None, limit=100)
            addresses = {}
        else:
            rows = service.list_deliveries(
                uow, store_id=viewer.store_id, status=status or None, subscription_id=None, limit=100
            )
            addresses = service.addresses_of(uow, rows)
        failed = service.failed_counts(uow, store_id=viewer.store_id)
    return render(
        request,
        "outbox.html",
        viewer=viewer,
        kind=kind,
        chosen_status=status,
        statuses=statuses,
        rows=rows,
        addresses=addresses,
        failed=failed,
    )


@router.get("/emails/{email_id}")
def email_page(request: Request, email_id: Id, viewer: ViewerDep) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        email = service.get_email(uow, store_id=viewer.store_id, email_id=email_id)
        content = service.preview(uow, email)
        attempts = service.attempts_of(uow, email_id=email.id)
    return render(
        request, "outbox_email.html", viewer=viewer, email=email, content=content, attempts=attempts
    )


@router.get("/emails/{email_id}/html")
def email_html(request: Request, email_id: Id, viewer: ViewerDep) -> Response:
    with runtime_of(request).uow(read_only=True) as uow:
        email = service.get_email(uow, store_id=viewer.store_id, email_id=email_id)
        content = service.preview(uow, email)
    return HTMLResponse(content.html if content else "", headers=EMAIL_FRAME_HEADERS)


@router.post("/emails/{email_id}/resend")
def resend_email(request: Request, email_id: Id, viewer: FormViewerDep) -> Response:
    back = f"/admin/outbox/emails/{email_id}"
    return _resend(request, viewer, back, service.resend_email, email_id=email_id)


@router.post("/webhooks/{delivery_id}/resend")
def resend_delivery(request: Request, delivery_id: Id, viewer: FormViewerDep) -> Response:
    return _resend(
        request, viewer, "/admin/outbox?kind=webhooks", service.resend_delivery, delivery_id=delivery_id
    )


def _resend(request: Request, viewer, back: str, use_case, **ids) -> Response:
    runtime = runtime_of(request)
    try:
        with runtime.uow() as uow:
            use_case(uow, store_id=viewer.store_id, now=runtime.clock.now(), **ids)
    except TandemError as exc:
        if exc.status == 404:
            raise
        refused = viewer.gettext(N_("This action was refused: %(reason)s")) % {"reason": exc.message}
        return redirect(request, back, Flash("error", refused))
    return redirect(request, back, Flash("success", viewer.gettext(N_("It will be sent again shortly."))))
