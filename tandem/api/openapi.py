"""The OpenAPI document and /docs: what code generators, fuzzers and Swagger UI need.

FastAPI describes the routes; this module adds what it cannot know: the bearer token, the
error answers each operation can give (in Tandem's error shape, from tandem.api.errors),
the enums the services check by hand, readable operation ids, and a Swagger UI served from
the swagger-ui-bundle package so /docs works without internet access.
"""

from collections.abc import Callable, Iterator
from enum import StrEnum

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from tandem.notifications.domain import DeliveryStatus, EmailStatus, Topic
from tandem.orders.domain import FinancialStatus, FulfillmentStatus, OrderStatus
from tandem.orders.listing import SORTS, SPECIAL_FINANCIAL, SPECIAL_FULFILLMENT
from tandem.suppliers.domain import SupplierOrderStatus

API_PREFIX = "/api/v1"
DOCS_ASSETS = "/docs/assets"
SECURITY_SCHEME = "bearerAuth"

# Route functions whose name alone would be ambiguous or clash (module.function -> operationId).
OPERATION_IDS = {
    "tandem.orders.api.capture": "capture_order",
    "tandem.orders.api.cancel": "cancel_order",
    "tandem.orders.api.refund": "refund_order",
    "tandem.orders.api.fulfill": "fulfill_order",
    "tandem.orders.api.archive": "archive_order",
    "tandem.orders.api.unarchive": "unarchive_order",
    "tandem.suppliers.api.fulfill": "fulfill_supplier_order",
    "tandem.suppliers.api.supplier_cancel": "cancel_supplier_order",
    "tandem.suppliers.api.supplier_catalog": "list_supplier_catalog",
    "tandem.preorders.api.charge": "charge_payment_schedule",
    "tandem.preorders.api.attach_variants": "attach_selling_plan_variants",
    "tandem.preorders.api.change_due_date": "change_payment_schedule_due_date",
    "tandem.automation.api.create_rule": "create_automation_rule",
    "tandem.automation.api.list_rules": "list_automation_rules",
    "tandem.automation.api.delete_rule": "delete_automation_rule",
    "tandem.notifications.api.list_deliveries": "list_webhook_deliveries",
    "tandem.notifications.api.resend_delivery": "resend_webhook_delivery",
}

# Operations that call the payment gateway and answer 402 when it declines.
PAYING = {
    "complete_checkout",
    "capture_order",
    "cancel_order",
    "refund_order",
    "charge_payment_schedule",
    "refund_retailer",
}
# Operations that refuse the wrong kind of store with 403.
KIND_CHECKED = {"request_connection", "accept_connection", "decline_connection"}

# Values the services check by hand (with their own messages): (operationId, parameter) -> enum.
QUERY_ENUMS: dict[tuple[str, str], type[StrEnum]] = {
    ("list_supplier_orders", "status"): SupplierOrderStatus,
    ("list_webhook_deliveries", "status"): DeliveryStatus,
    ("list_emails", "status"): EmailStatus,
}
# Filters that take one value or several separated by commas, or a tab name.
QUERY_LISTS: dict[tuple[str, str], tuple[type[StrEnum], list[str]]] = {
    ("list_orders", "financial_status"): (FinancialStatus, list(SPECIAL_FINANCIAL)),
    ("list_orders", "fulfillment_status"): (FulfillmentStatus, list(SPECIAL_FULFILLMENT)),
    ("list_orders", "status"): (OrderStatus, ["any"]),
    ("export_orders", "financial_status"): (FinancialStatus, list(SPECIAL_FINANCIAL)),
    ("export_orders", "fulfillment_status"): (FulfillmentStatus, list(SPECIAL_FULFILLMENT)),
    ("export_orders", "status"): (OrderStatus, ["any"]),
}
ORDER_SORTS = [f"{sign}{name}" for name in SORTS for sign in ("-", "")]
# (schema, property) -> enum, for request bodies.
BODY_ENUMS: dict[tuple[str, str], type[StrEnum]] = {("WebhookIn", "topic"): Topic}


class ErrorItem(BaseModel):
    field: str
    message: str


class ErrorDetail(BaseModel):
    code: str = Field(description="stable, machine-readable: out_of_stock, invalid_transition, not_found…")
    message: str = Field(description="for people; may change")
    field: str | None = Field(None, description="the input at fault (422), e.g. line_items[0].quantity")
    errors: list[ErrorItem] | None = Field(None, description="every invalid field (422)")


class Error(BaseModel):
    """Every error answer: {"error": {"code", "message", "field"?, ...}}."""

    error: ErrorDetail


def _example(code: str, message: str, **extra) -> dict:
    return {"error": {"code": code, "message": message, **extra}}


ERRORS: dict[int, tuple[str, dict]] = {
    400: ("Malformed JSON", _example("invalid_json", "the request body is not valid JSON")),
    401: ("Missing or unknown API token", _example("unauthorized", "a valid API token is required")),
    402: ("The payment was declined", _example("payment_declined", "payment declined: card declined")),
    403: ("Not allowed for this kind of store", _example("forbidden", "only the supplier answers")),
    404: ("Not found, or not the calling store's", _example("not_found", "order not found")),
    409: (
        "The current state does not allow it; nothing changed",
        _example("invalid_transition", "the order cannot be cancelled now"),
    ),
    413: (
        "The request body is larger than the server accepts (TANDEM_MAX_BODY_BYTES)",
        _example("too_large", "the request body is larger than 1048576 bytes"),
    ),
    422: (
        "Invalid input; `field` names it",
        _example(
            "invalid",
            "line_items[0].quantity: Input should be greater than or equal to 1",
            field="line_items[0].quantity",
            errors=[{"field": "line_items[0].quantity", "message": "Input should be >= 1"}],
        ),
    ),
    429: (
        "Too many calls with this token (TANDEM_API_RATE_LIMIT); retry after Retry-After seconds",
        _example("too_many_requests", "too many requests for this API token; retry later"),
    ),
    503: (
        "The database was busy; nothing changed, retry (see Retry-After)",
        _example("busy", "the database was busy; nothing was changed, retry the request"),
    ),
}


def operation_id(route: APIRoute) -> str:
    """A stable, readable operationId: the route function's name, or its entry in OPERATION_IDS."""
    return OPERATION_IDS.get(f"{route.endpoint.__module__}.{route.name}", route.name)


def install_docs(app: FastAPI, swagger_ui_path) -> None:
    """/docs from local assets (create the app with docs_url=None, redoc_url=None)."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url,
            title=f"{app.title} API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            # The default validator badge calls an outside service.
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )


def complete_document(build: Callable[[], dict]) -> Callable[[], dict]:
    """Wrap FastAPI's document builder with security, errors and enums."""

    completed: list[dict] = []

    def document() -> dict:
        if completed:
            return completed[0]
        spec = build()
        components = spec.setdefault("components", {})
        components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
            "type": "http",
            "scheme": "bearer",
            "description": "A store's API token (tandem store create prints one)",
        }
        schemas = components.setdefault("schemas", {})
        _add_model(schemas, Error)
        for path, method, operation in _operations(spec):
            _describe(schemas, path, method, operation)
        _declare_enums(spec, schemas)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        completed.append(spec)
        return spec

    return document


def _add_model(schemas: dict, model: type[BaseModel]) -> None:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[model.__name__] = schema


def _operations(spec: dict) -> Iterator[tuple[str, str, dict]]:
    for path, operations in spec.get("paths", {}).items():
        if path.startswith(API_PREFIX):
            for method, operation in operations.items():
                yield path, method, operation


def _describe(schemas: dict, path: str, method: str, operation: dict) -> None:
    operation["security"] = [{SECURITY_SCHEME: []}]
    responses = operation.setdefault("responses", {})
    statuses = _error_statuses(schemas, path, method, operation)
    if 422 not in statuses:  # FastAPI lists it for any dependency, even a hidden header
        responses.pop("422", None)
    for status in statuses:
        description, example = ERRORS[status]
        kept = responses.get(str(status), {}).get("description")
        responses[str(status)] = {
            "description": kept or description,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}, "example": example}
            },
        }


def _error_statuses(schemas: dict, path: str, method: str, operation: dict) -> list[int]:
    body = operation.get("requestBody")
    takes_input = bool(body or operation.get("parameters") or "{" in path)
    writes = method != "get"
    statuses = {401, 429}  # 429: only where the operator set a per-token rate limit
    statuses |= {400, 413} if body else set()
    statuses |= {402} if operation.get("operationId") in PAYING else set()
    statuses |= {403} if operation.get("operationId") in KIND_CHECKED else set()
    statuses |= {404} if "{" in path or _names_ids(schemas, body) else set()
    statuses |= {409, 503} if writes else set()
    statuses |= {422} if takes_input else set()
    return sorted(statuses)


def _names_ids(schemas: dict, body: dict | None) -> bool:
    """A body that refers to other resources by id can name one that is not there (404)."""
    names = _property_names(schemas, body or {}, seen=set())
    return any(name.endswith(("_id", "_ids")) for name in names)


def _property_names(schemas: dict, node, seen: set[str]) -> Iterator[str]:
    """Every property name in a schema, following $refs once each."""
    if isinstance(node, list):
        for item in node:
            yield from _property_names(schemas, item, seen)
    if not isinstance(node, dict):
        return
    ref = node.get("$ref", "").rsplit("/", 1)[-1]
    if ref and ref not in seen:
        seen.add(ref)
        yield from _property_names(schemas, schemas.get(ref, {}), seen)
    if isinstance(node.get("properties"), dict):
        yield from node["properties"]
    for value in node.values():
        yield from _property_names(schemas, value, seen)


def _declare_enums(spec: dict, schemas: dict) -> None:
    for _, _, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            key = (operation.get("operationId"), parameter["name"])
            if key in QUERY_LISTS:
                enum, tabs = QUERY_LISTS[key]
                parameter["description"] = (
                    f"{' or '.join(tabs)}, or one or more of {', '.join(e.value for e in enum)}"
                    " separated by commas"
                )
            if key in (("list_orders", "sort"), ("export_orders", "sort")):
                parameter["schema"] = {**parameter["schema"], "enum": ORDER_SORTS}
            enum = QUERY_ENUMS.get(key)
            if enum is not None:
                parameter["schema"] = {
                    "anyOf": [{"type": "string", "enum": [e.value for e in enum]}, {"type": "null"}],
                    "title": parameter["schema"].get("title", parameter["name"]),
                }
    for (schema_name, prop), enum in BODY_ENUMS.items():
        field = schemas.get(schema_name, {}).get("properties", {}).get(prop)
        if field is not None:
            field["enum"] = [e.value for e in enum]
