"""The OpenAPI document says what the API does (auth, errors, enums, names) and /docs works offline."""

import re
from html.parser import HTMLParser

import pytest

from tandem.api.openapi import Error

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json()


def operations(document):
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method in METHODS:
                yield path, method, operation


def test_the_document_declares_the_bearer_scheme_on_every_operation(document):
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, method, operation in operations(document):
        assert operation["security"] == [{"bearerAuth": []}], (method, path)
        assert not any(p["name"].lower() == "authorization" for p in operation.get("parameters", []))


def test_only_the_json_api_is_in_the_document(document):
    assert document["paths"]
    assert all(path.startswith("/api/v1/") for path in document["paths"])


def test_operation_ids_are_unique_and_readable(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids), ids
    assert {"create_checkout", "complete_checkout", "get_order", "refund_order", "create_product"} <= set(ids)


def test_every_operation_lists_its_errors_with_the_error_schema_and_an_example(document):
    for path, method, operation in operations(document):
        errors = {code: r for code, r in operation["responses"].items() if code >= "400"}
        assert "401" in errors and "429" in errors, (method, path)
        if "requestBody" in operation:
            assert "413" in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
        if method != "get":
            assert "409" in errors, (method, path)
        for code, response in errors.items():
            content = response["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/Error"}, (method, path, code)
            Error.model_validate(content["example"])
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_the_checkout_routes_served_before_the_router_are_described(document):
    create = document["paths"]["/api/v1/checkouts"]["post"]
    complete = document["paths"]["/api/v1/checkouts/{checkout_id}/complete"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/CheckoutIn")
    assert {"201", "400", "401", "404", "409", "422"} <= set(create["responses"])
    assert {"201", "401", "402", "404", "409", "422"} <= set(complete["responses"])
    assert "idempotency-key" in [p["name"] for p in complete["parameters"]]


def test_enums_the_server_enforces_are_declared(document):
    topic = document["components"]["schemas"]["WebhookIn"]["properties"]["topic"]
    assert "orders/create" in topic["enum"] and "payment_schedules/failed" in topic["enum"]
    status = next(
        p for p in document["paths"]["/api/v1/supplier_orders"]["get"]["parameters"] if p["name"] == "status"
    )
    assert "open" in status["schema"]["anyOf"][0]["enum"]
    country = document["components"]["schemas"]["Address"]["properties"]["country_code"]
    assert "FR" in country["enum"] and "US" in country["enum"] and "XX" not in country["enum"]


def _declared_values(document, path: str, name: str) -> list[str]:
    parameter = next(p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name)
    schema = parameter["schema"]
    return schema.get("enum") or schema["anyOf"][0]["enum"]


@pytest.mark.parametrize(
    "path, name",
    [
        ("/api/v1/supplier_orders", "status"),
        ("/api/v1/webhook_deliveries", "status"),
        ("/api/v1/emails", "status"),
        ("/api/v1/orders", "sort"),
    ],
)
def test_every_declared_query_value_is_accepted_and_others_refused(document, shop, path, name):
    values = _declared_values(document, path, name)
    assert len(values) >= 3
    for value in values:
        response = shop.get(f"{path.removeprefix('/api/v1')}?{name}={value}")
        assert response.status_code == 200, (value, response.text)
    refused = shop.get(f"{path.removeprefix('/api/v1')}?{name}=nonsense")
    assert refused.status_code == 422 and refused.json()["error"]["field"] == name


def test_real_error_answers_match_the_documented_schema(client, shop):
    for response in (
        client.get("/api/v1/orders"),
        shop.get("/orders/999999"),
        shop.post("/products", {"title": ""}),
    ):
        assert response.status_code in (401, 404, 422)
        Error.model_validate(response.json())


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_load_swagger_ui_from_tandem_itself(client):
    page = client.get("/docs")
    assert page.status_code == 200
    links = _Links()
    links.feed(page.text)
    assert len(links.urls) >= 2
    assert "http://" not in page.text and "https://" not in page.text
    for url in links.urls:
        assert url.startswith("/"), url
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
    assert "url: '/openapi.json'" in page.text


def _call(shop, method: str, path: str, body):
    """Call an operation as the store, with ids that are not there."""
    concrete = re.sub(r"\{[^}]+\}", "999999", path.removeprefix("/api/v1"))
    if method in ("get", "delete"):
        return getattr(shop, method)(concrete)
    return getattr(shop, method)(concrete, body)


@pytest.mark.parametrize("body", [{}, {"id": 1, "unknown": True}], ids=["empty", "unknown-field"])
def test_every_answer_to_unknown_ids_and_bad_bodies_is_documented(document, shop, body):
    undocumented = []
    for path, method, operation in operations(document):
        response = _call(shop, method, path, body if "requestBody" in operation else None)
        if str(response.status_code) not in operation["responses"]:
            undocumented.append((method, path, response.status_code, response.text[:120]))
    assert undocumented == []


def test_every_operation_documents_the_answer_without_a_token(document, client):
    for path, method, operation in operations(document):
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        response = client.request(method.upper(), concrete, json={} if "requestBody" in operation else None)
        assert response.status_code == 401, (method, path, response.status_code)
        assert "401" in operation["responses"]
