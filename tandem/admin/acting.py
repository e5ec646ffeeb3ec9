"""Running one use case from an admin form: as the signed-in store, then back with what happened."""

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from tandem.admin.deps import Viewer, runtime_of
from tandem.admin.pages import redirect
from tandem.admin.security import Flash
from tandem.errors import InvalidInput, TandemError
from tandem.i18n.labels import N_
from tandem.idempotency import service as idempotency

REFUSED = N_("This action was refused: %(reason)s")
ALREADY_DONE = N_("This form was already sent: it was done once.")


def perform(
    request: Request,
    viewer: Viewer,
    use_case: Callable[..., object],
    /,
    *,
    back: str,
    done: str,
    explain: dict[str, str] | None = None,
    once: str | None = None,
    **arguments,
) -> Response:
    """Run `use_case` for the viewer's store and redirect to `back` with a flash.

    A refusal (conflict, invalid input…) is shown on the page; nothing was changed, since
    the use case commits only when it succeeds. "Not found" stays a 404 page.
    `once`, the form's own key, makes a form that moves money work once however often it is
    sent (a double click, a reload): the key commits with the effect, as an Idempotency-Key does.
    """
    runtime = runtime_of(request)
    claim = _claim(request, viewer, once)
    if isinstance(claim, idempotency.StoredResponse):
        return redirect(request, back, Flash("error", viewer.gettext(ALREADY_DONE)))
    try:
        with runtime.uow() as uow:
            if claim is not None:
                uow.before_commit(claim.bind)
            use_case(uow, store_id=viewer.store_id, now=runtime.clock.now(), **arguments)
    except BaseException as exc:
        if claim is not None:
            idempotency.abandon(runtime, claim)
        if not isinstance(exc, TandemError) or exc.status == 404:
            raise
        return redirect(request, back, Flash("error", refusal(viewer, exc, explain or {})))
    if claim is not None:
        idempotency.finish(runtime, claim, status=200, body="")
    return redirect(request, back, Flash("success", viewer.gettext(done)))


def _claim(request: Request, viewer: Viewer, once: str | None):
    if not once:
        return None
    return idempotency.claim(
        runtime_of(request),
        store_id=viewer.store_id,
        key=f"admin-form:{once}",
        fingerprint=f"admin {request.url.path}"[:64],
    )


def refusal(viewer: Viewer, error: TandemError, explain: dict[str, str]) -> str:
    """Why nothing was done: a sentence of `explain` (keyed by the invalid field, or else by the
    error code) in the viewer's language, or the service's own words. A sentence of `explain`
    may quote the service's words as %(reason)s."""
    invalid = isinstance(error, InvalidInput)
    key = error.field if invalid else error.code
    if key in explain:
        sentence = viewer.gettext(explain[key])
        reason = error.message.removeprefix(f"{error.field}: ") if invalid else error.message
        return sentence % {"reason": reason} if "%(reason)s" in sentence else sentence
    return viewer.gettext(REFUSED) % {"reason": error.message}


class FormProblem(Exception):
    """What a form sent cannot be used; `message` is an English msgid, shown translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def complain(request: Request, viewer: Viewer, back: str, problem: FormProblem) -> Response:
    """Back to `back` with what to correct in the form."""
    return redirect(request, back, Flash("error", viewer.gettext(problem.message)))
