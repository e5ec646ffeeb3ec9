"""Running one use case from an admin form: as the signed-in store, then back with what happened."""

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import Response

from tandem.admin.deps import Viewer, runtime_of
from tandem.admin.pages import redirect
from tandem.admin.security import Flash
from tandem.errors import InvalidInput, TandemError
from tandem.i18n.labels import N_

REFUSED = N_("This action was refused: %(reason)s")


def perform(
    request: Request,
    viewer: Viewer,
    use_case: Callable[..., object],
    /,
    *,
    back: str,
    done: str,
    explain: dict[str, str] | None = None,
    **arguments,
) -> Response:
    """Run `use_case` for the viewer's store and redirect to `back` with a flash.

    A refusal (conflict, invalid input…) is shown on the page; nothing was changed, since
    the use case commits only when it succeeds. "Not found" stays a 404 page.
    """
    runtime = runtime_of(request)
    try:
        with runtime.uow() as uow:
            use_case(uow, store_id=viewer.store_id, now=runtime.clock.now(), **arguments)
    except TandemError as exc:
        if exc.status == 404:
            raise
        return redirect(request, back, Flash("error", refusal(viewer, exc, explain or {})))
    return redirect(request, back, Flash("success", viewer.gettext(done)))


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
