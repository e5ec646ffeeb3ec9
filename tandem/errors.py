"""Domain errors; the API maps each to one HTTP status in a single handler."""

from typing import Any

import orjson


class TandemError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class Unauthorized(TandemError):
    status = 401
    code = "unauthorized"


class Forbidden(TandemError):
    status = 403
    code = "forbidden"


class NotFound(TandemError):
    status = 404
    code = "not_found"


class Conflict(TandemError):
    """The action is not allowed in the current state (409); nothing changed."""

    status = 409
    code = "conflict"


class IllegalTransition(Conflict):
    code = "invalid_transition"


class OutOfStock(Conflict):
    code = "out_of_stock"


class InvalidInput(TandemError):
    """Input that cannot be accepted (422), naming the field."""

    status = 422
    code = "invalid"

    def __init__(self, field: str, message: str, **details: Any):
        super().__init__(f"{field}: {message}", field=field, **details)
        self.field = field


class PaymentFailed(TandemError):
    """The gateway declined or failed the payment (402)."""

    status = 402
    code = "payment_declined"


def error_body(code: str, message: str, **extra: Any) -> dict:
    """The API's error shape: {"error": {"code", "message", "field"?, ...}}."""
    return {"error": {"code": code, "message": message, **extra}}


def error_json(exc: TandemError) -> str:
    extra = {k: v for k, v in exc.details.items() if v is not None}
    return orjson.dumps(error_body(exc.code, exc.message, **extra)).decode()
