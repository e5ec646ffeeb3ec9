"""Readable helpers for HTTP tests: a store's API client, products, checkouts, orders."""

from dataclasses import dataclass

from fastapi.testclient import TestClient

ADDRESS = {
    "first_name": "Camille",
    "last_name": "Martin",
    "address1": "12 rue de la Paix",
    "city": "Paris",
    "zip": "75002",
    "country_code": "FR",
}


@dataclass
class StoreClient:
    """Calls the API as one store."""

    client: TestClient
    store_id: int
    token: str
    staff_email: str = ""
    staff_password: str = ""

    def _headers(self, key: str | None = None, headers: dict | None = None) -> dict:
        merged = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if key:
            merged["Idempotency-Key"] = key
        return merged

    def get(self, path: str, **kwargs):
        return self.client.get(f"/api/v1{path}", headers=self._headers(), **kwargs)

    def post(self, path: str, json: dict | None = None, *, key: str | None = None, **kwargs):
        return self.client.post(f"/api/v1{path}", json=json, headers=self._headers(key), **kwargs)

    def patch(self, path: str, json: dict, **kwargs):
        return self.client.patch(f"/api/v1{path}", json=json, headers=self._headers(), **kwargs)

    def put(self, path: str, json: dict, **kwargs):
        return self.client.put(f"/api/v1{path}", json=json, headers=self._headers(), **kwargs)

    def delete(self, path: str, **kwargs):
        return self.client.delete(f"/api/v1{path}", headers=self._headers(), **kwargs)

    # -- shortcuts for arranging a test ----------------------------------------------------

    def product(
        self, *, quantity: int = 10, price: str = "25.00", title: str = "Linen shirt", sku: str = "SHIRT-1"
    ) -> dict:
        """Create a one-variant product; returns the variant."""
        response = self.post(
            "/products",
            {"title": title, "variants": [{"sku": sku, "price": price, "inventory_quantity": quantity}]},
        )
        assert response.status_code == 201, response.text
        return response.json()["variants"][0]

    def checkout(
        self,
        variant_id: int,
        quantity: int = 1,
        *,
        card: str = "tok_success",
        email: str = "camille@example.com",
        **extra,
    ):
        body = {
            "email": email,
            "line_items": [{"variant_id": variant_id, "quantity": quantity}],
            "shipping_address": ADDRESS,
            "card_token": card,
            **extra,
        }
        return self.post("/checkouts", body)

    def place_order(
        self,
        variant_id: int,
        quantity: int = 1,
        *,
        card: str = "tok_success",
        email: str = "camille@example.com",
    ) -> dict:
        checkout = self.checkout(variant_id, quantity, card=card, email=email)
        assert checkout.status_code == 201, checkout.text
        response = self.post(f"/checkouts/{checkout.json()['id']}/complete")
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, order_id: int) -> dict:
        response = self.get(f"/orders/{order_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def variant(self, variant_id: int) -> dict:
        response = self.get(f"/variants/{variant_id}")
        assert response.status_code == 200, response.text
        return response.json()

    # -- pre-orders ------------------------------------------------------------------------

    def selling_plan(
        self,
        variant_ids: list[int],
        *,
        deposit: tuple[str, str | int] = ("percentage", 20),
        balance_due: dict | None = None,
        inventory_reserve: str = "on_sale",
        name: str = "Pre-order",
    ) -> dict:
        response = self.post(
            "/selling_plans",
            {
                "name": name,
                "deposit": {"type": deposit[0], "value": deposit[1]},
                "balance_due": balance_due or {"trigger": "time_after_checkout", "after_seconds": 86400},
                "inventory_reserve": inventory_reserve,
                "variant_ids": variant_ids,
            },
        )
        assert response.status_code == 201, response.text
        return response.json()

    def preorder_checkout(
        self,
        variant_id: int,
        plan_id: int,
        quantity: int = 1,
        *,
        card="tok_success",
        email="camille@example.com",
        **extra,
    ):
        body = {
            "email": email,
            "line_items": [{"variant_id": variant_id, "quantity": quantity, "selling_plan_id": plan_id}],
            "shipping_address": ADDRESS,
            "card_token": card,
            **extra,
        }
        return self.post("/checkouts", body)

    def preorder(self, variant_id: int, plan_id: int, quantity: int = 1, **kwargs) -> dict:
        """Place a pre-order; returns the order."""
        checkout = self.preorder_checkout(variant_id, plan_id, quantity, **kwargs)
        assert checkout.status_code == 201, checkout.text
        response = self.post(f"/checkouts/{checkout.json()['id']}/complete")
        assert response.status_code == 201, response.text
        return response.json()
