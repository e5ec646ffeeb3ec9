"""A client generated from /openapi.json by openapi-python-client drives a whole sale:
product, checkout, completion (with an Idempotency-Key), the order, a refund."""

import importlib
import subprocess
import sys
from decimal import Decimal

import httpx
import pytest

from tests.support.live import serving

PACKAGE = "tandem_generated_client"


def generate_client(base_url: str, directory) -> None:
    """Run the generator's CLI on the live server's document, in `directory` (no network needed)."""
    spec = directory / "openapi.json"
    spec.write_bytes(httpx.get(f"{base_url}/openapi.json", timeout=10).content)
    config = directory / "generator.yaml"
    config.write_text(f"package_name_override: {PACKAGE}\nproject_name_override: {PACKAGE}\npost_hooks: []\n")
    command = [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec)]
    command += ["--meta", "none", "--output-path", str(directory / PACKAGE), "--config", str(config)]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """Import the generated package, and forget it afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield lambda name: importlib.import_module(f"{PACKAGE}.{name}")
    for module in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[module]


def test_a_generated_client_sells_and_refunds(app, shop, tmp_path, generated):
    with serving(app) as url:
        generate_client(url, tmp_path)
        client_module, models = generated("client"), generated("models")
        # An answer the document does not declare raises: the document must be complete.
        api = client_module.AuthenticatedClient(
            base_url=url, token=shop.token, raise_on_unexpected_status=True
        )

        product = generated("api.catalog.create_product").sync(
            client=api,
            body=models.ProductIn(
                title="Linen shirt",
                variants=[models.VariantIn(price="59.00", sku="LIN-M", inventory_quantity=3)],
            ),
        )
        assert isinstance(product, models.ProductOut), product
        variant_id = product.variants[0].id

        checkout = generated("api.checkout.create_checkout").sync(
            client=api,
            body=models.CheckoutIn(
                email="lea@example.com",
                line_items=[models.CheckoutLineIn(variant_id=variant_id, quantity=2)],
                shipping_address=models.Address(
                    address1="8 rue des Lilas",
                    city="Lyon",
                    zip_="69003",
                    country_code=models.AddressCountryCode.FR,
                ),
                card_token="tok_success",
            ),
        )
        assert isinstance(checkout, models.CheckoutOut), checkout

        complete = generated("api.checkout.complete_checkout")
        order = complete.sync(checkout_id=checkout.id, client=api, idempotency_key="generated-1")
        assert isinstance(order, models.OrderOut), order
        assert order.financial_status == "paid" and Decimal(order.total) >= Decimal("118.00")
        again = complete.sync_detailed(checkout_id=checkout.id, client=api, idempotency_key="generated-1")
        assert again.status_code == 201 and again.parsed.id == order.id
        assert again.headers.get("idempotent-replayed") == "true"

        line = order.line_items[0]
        refund = generated("api.orders.refund_order").sync(
            order_id=order.id,
            client=api,
            body=models.RefundIn(line_items=[models.RefundLineIn(line_item_id=line.id, quantity=2)]),
            idempotency_key="generated-refund-1",
        )
        assert isinstance(refund, models.RefundOut), refund

        refunded = generated("api.orders.get_order").sync(order_id=order.id, client=api)
        assert refunded.financial_status in ("refunded", "partially_refunded")
        assert Decimal(refunded.total_refunded) == Decimal("118.00")

        missing = generated("api.orders.get_order").sync(order_id=999_999, client=api)
        assert isinstance(missing, models.Error) and missing.error.code == "not_found"
