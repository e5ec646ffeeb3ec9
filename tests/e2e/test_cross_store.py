"""No store reaches another's data: a matrix generated from /openapi.json.

A retailer and its supplier get one of everything a path can name. An outside store then
calls every operation with a path parameter on those ids, with bodies schemathesis generates
from the document: each answer is 404 and nothing in the database changes.
"""

import re
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, openapi
from schemathesis.core import NotSet
from sqlalchemy import select

from tandem.api.types import MAX_ID
from tandem.models import metadata
from tests.support.api import ADDRESS
from tests.support.world import everything

ID_FIELD = re.compile(r"(^|[._])ids?(\[\d+\])?$")  # customer_id, variant_ids[0], line_items[0].id
METHODS = {"get", "post", "put", "patch", "delete"}
BODIES_PER_OPERATION = 3
# Bodies the operations accept (their paths aside), for those that need one.
_SO = "/api/v1/supplier_orders/{supplier_order_id}"
_ORDER = "/api/v1/orders/{order_id}"
_CARD = {"card_token": "tok_success"}
VALID_BODIES: dict[tuple[str, str], dict] = {
    ("POST", f"{_SO}/fulfillments"): {"tracking_company": "DHL", "tracking_number": "1"},
    ("POST", f"{_SO}/cancellation/decline"): {"message": "Already packed"},
    ("POST", f"{_SO}/cancel"): {"reason": "Out of stock"},
    ("POST", f"{_SO}/refunds"): {"amount": "1.00"},
    ("POST", f"{_SO}/returns"): {"reason": "size_or_fit", "line_items": [{"id": 1, "quantity": 1}]},
    ("POST", "/api/v1/returns/{return_id}/decline"): {"message": "Worn"},
    ("POST", "/api/v1/customers/{customer_id}/payment_methods"): _CARD,
    ("PUT", "/api/v1/customers/{customer_id}/payment_methods/{payment_method_id}"): _CARD,
    ("POST", f"{_ORDER}/holds"): {"reason": "other"},
    ("POST", f"{_ORDER}/refunds"): {"amount": "1.00"},
    ("POST", "/api/v1/selling_plans/{plan_id}/variants"): {"variant_ids": [1]},
    ("PATCH", f"{_ORDER}/payment_schedules/{{schedule_id}}"): {"due_at": "2026-12-24T09:00:00Z"},
}


def _snapshot(runtime) -> dict[str, list]:
    with runtime.database.engine.connect() as conn:
        return {
            table.name: sorted(map(repr, conn.execute(select(table)).all()))
            for table in metadata.sorted_tables
        }


def _operations(document):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS and "{" in path:
                yield path, method, operation


def _path_parameters(path: str, ids: dict, notice: tuple[int, int]) -> dict:
    if path.endswith("/notices/{notice_id}/resolve"):
        return {"order_id": notice[0], "notice_id": notice[1]}
    return {name: ids[name] for name in re.findall(r"\{(\w+)\}", path)}


def test_another_stores_ids_in_any_path_are_not_found_and_change_nothing(
    runtime, client, make_store, clock, worker, receiver, allow_private_webhooks
):
    world = everything(make_store, clock, worker, receiver)
    ids, notice = world.ids, world.notice
    outsider = make_store("Boutique Tiers", kind="retailer,supplier")
    document = client.get("/openapi.json").json()
    schema = openapi.from_dict(document)
    before = _snapshot(runtime)
    answers = []
    for path, method, _ in _operations(document):
        operation = schema[path][method.upper()]
        answers += _call_as(outsider, operation, _path_parameters(path, ids, notice))
    after = _snapshot(runtime)

    # An id of another store is answered exactly as an id that exists nowhere...
    assert [a for a in answers if a.theirs != a.nowhere] == []
    # ...which is 404 once the body is valid: every operation was reached with a valid one.
    found = {(a.method, a.path) for a in answers if a.first and a.theirs[0] == 404}
    assert found == {(method.upper(), path) for path, method, _ in _operations(document)}
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"api_tokens"}, changed  # the outsider's token records its last use
    print(f"\ncross-store: {len(answers) * 2} calls, {len(found)} operations")


def _gist(response) -> tuple:
    """Status, error code and field: what tells one answer from another (not the request id)."""
    answered = response.json() if response.headers.get("content-type") == "application/json" else {}
    error = answered.get("error", {}) if isinstance(answered, dict) else {}
    return response.status_code, error.get("code"), error.get("field")


@dataclass
class Answer:
    method: str
    path: str
    body: object
    theirs: tuple  # (status, error code, field) for the other store's ids
    nowhere: tuple  # the same for ids that exist nowhere
    first: bool = False  # with the operation's valid body


def _call_as(store, operation, path_parameters: dict) -> list[Answer]:
    """A valid body first (the operation's example, or none), then generated ones."""
    nowhere = {name: MAX_ID for name in path_parameters}
    answers = []

    def send(body, query=None, first=False) -> Answer:
        def answer(parameters):
            response = store.client.request(
                operation.method.upper(),
                operation.path.format(**parameters),
                json=body,
                params=query,
                headers={"Authorization": f"Bearer {store.token}"},
            )
            return _gist(response)

        theirs, missing = answer(path_parameters), answer(nowhere)
        return Answer(operation.method.upper(), operation.path, body, theirs, missing, first)

    answers.append(send(VALID_BODIES.get((operation.method.upper(), operation.path)), first=True))

    @given(
        case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE, path_parameters=path_parameters)
    )
    @settings(
        max_examples=BODIES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def generated(case):
        answers.append(send(None if isinstance(case.body, NotSet) else case.body, case.query))

    generated()
    return answers


def _body_calls(store, own: dict, ids: dict) -> list[tuple[str, str, dict]]:
    """Calls on the store's own things whose bodies name `ids` (another store's, or nobody's)."""
    order, variant, plan, card = own["order"], own["variant"], own["plan"], own["card"]
    line = {"shipping_address": ADDRESS, "email": "noor@example.com", "card_token": "tok_success"}
    return [
        ("POST", "/checkouts", {**line, "line_items": [{"variant_id": ids["variant_id"], "quantity": 1}]}),
        (
            "POST",
            "/checkouts",
            {
                **line,
                "line_items": [{"variant_id": variant, "quantity": 1, "selling_plan_id": ids["plan_id"]}],
            },
        ),
        (
            "POST",
            "/checkouts",
            {
                **line,
                "customer_id": ids["customer_id"],
                "line_items": [{"variant_id": variant, "quantity": 1}],
            },
        ),
        (
            "POST",
            "/checkouts",
            {
                "shipping_address": ADDRESS,
                "customer_id": card["customer_id"],
                "payment_method_id": ids["payment_method_id"],
                "line_items": [{"variant_id": variant, "quantity": 1}],
            },
        ),
        ("POST", "/products/import", {"supplier_product_id": ids["supplier_product_id"]}),
        ("POST", "/inventory/set", {"variant_id": ids["variant_id"], "available": 3}),
        (
            "POST",
            "/selling_plans",
            {
                "name": "Pre-order",
                "deposit": {"type": "percentage", "value": 20},
                "balance_due": {"trigger": "time_after_checkout", "after_seconds": 86400},
                "variant_ids": [ids["variant_id"]],
            },
        ),
        ("POST", f"/selling_plans/{plan}/variants", {"variant_ids": [ids["variant_id"]]}),
        ("POST", f"/orders/{own['held']}/holds/release", {"hold_ids": [ids["hold_id"]]}),
        (
            "POST",
            f"/orders/{order}/refunds",
            {"line_items": [{"line_item_id": ids["line_item_id"], "quantity": 1}]},
        ),
        ("POST", f"/orders/{order}/fulfillments", {"line_item_ids": [ids["line_item_id"]]}),
        (
            "POST",
            f"/orders/{order}/fulfillments",
            {"line_items": [{"id": ids["line_item_id"], "quantity": 1}]},
        ),
    ]


def _own_things(store) -> dict:
    variant = store.product(sku="THEIRS-1")
    order = store.place_order(variant["id"])
    held = store.place_order(variant["id"])
    assert store.post(f"/orders/{held['id']}/holds", {"reason": "other"}).status_code == 201
    customer = store.post("/customers", {"email": "own@example.com"}).json()
    card = store.post(f"/customers/{customer['id']}/payment_methods", {"card_token": "tok_success"}).json()
    plan = store.selling_plan([store.product(sku="THEIRS-2")["id"]])
    return {
        "order": order["id"],
        "held": held["id"],
        "variant": variant["id"],
        "plan": plan["id"],
        "card": card,
    }


def test_another_stores_ids_in_a_body_are_not_found_and_change_nothing(
    runtime, make_store, clock, worker, receiver, allow_private_webhooks
):
    ids = everything(make_store, clock, worker, receiver).ids
    outsider = make_store("Boutique Tiers", kind="retailer,supplier")
    own = _own_things(outsider)
    nowhere = dict.fromkeys(ids, MAX_ID)
    before = _snapshot(runtime)
    answers = []
    for (method, path, body), (_, _, body_nowhere) in zip(
        _body_calls(outsider, own, ids), _body_calls(outsider, own, nowhere), strict=True
    ):
        theirs = outsider.client.request(method, f"/api/v1{path}", json=body, headers=outsider._headers())
        missing = outsider.client.request(
            method, f"/api/v1{path}", json=body_nowhere, headers=outsider._headers()
        )
        answers.append((method, path, body, _gist(theirs), _gist(missing)))
    after = _snapshot(runtime)

    # The same answer as for an id that exists nowhere: 404, or 422 naming the field with the id.
    assert [a for a in answers if a[3] != a[4]] == []
    refused = [
        a for a in answers if a[3][0] == 404 or a[3][:2] == (422, "invalid") and ID_FIELD.search(a[3][2])
    ]
    assert refused == answers
    print(f"\ncross-store bodies: {len(answers) * 2} calls, {len(answers)} bodies")
    changed = {name for name in before if before[name] != after[name]}
    # The test gateway (standing for the outside one) vaults a pre-order's card before the
    # checkout is looked at: a card there, nothing in Tandem.
    assert changed <= {"api_tokens", "testgw_cards"}, changed
