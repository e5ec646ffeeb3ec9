"""`tandem demo`: one seeding, read back through the API (retailer) and the services (supplier)."""

import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tandem.customers.models import PaymentMethod
from tandem.db import make_engine
from tandem.demo import PASSWORD, RETAILER_EMAIL, SUPPLIER_EMAIL, seed
from tandem.demo_preorders import balance_date
from tandem.migrate import upgrade
from tandem.notifications.models import Email
from tandem.orders.models import Order
from tandem.paging import PageRequest
from tandem.preorders.models import PaymentSchedule, SellingPlan
from tandem.runtime import build_runtime
from tandem.settings import Settings
from tandem.stores.models import Store
from tandem.suppliers import supplier_orders
from tandem.suppliers.models import Connection, SupplierOrder

TOKEN_LINE = "API token of the retailer (shown once): "


@dataclass
class Demo:
    settings: Settings
    output: str

    @property
    def token(self) -> str:
        return self.output.split(TOKEN_LINE)[1].split()[0]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def demo(request, tmp_path_factory):
    """Seeded once per database: the demo takes a few seconds."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "tandem.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        server = request.getfixturevalue("postgres_server")
        url = server.create_database()
        request.addfinalizer(lambda: server.drop_database(url))
    settings = Settings(env="test", database_url=url, secret_key="x" * 40)
    if request.param == "postgres":
        engine = make_engine(settings)
        upgrade(engine)
        engine.dispose()
    said: list[str] = []
    seed(settings, if_empty=False, echo=said.append)
    return Demo(settings, "\n".join(said))


@pytest.fixture
def runtime(demo):
    runtime = build_runtime(demo.settings)
    yield runtime
    runtime.close()


@pytest.fixture
def retailer(demo, runtime):
    from tandem.api.app import create_app

    with TestClient(create_app(runtime=runtime)) as client:
        client.headers["Authorization"] = f"Bearer {demo.token}"
        yield client


@pytest.fixture
def staff(runtime):
    """The retailer's staff, logged in to the admin UI with the login the demo prints."""
    from tandem.api.app import create_app

    with TestClient(create_app(runtime=runtime)) as client:
        _log_in(client, RETAILER_EMAIL)
        yield client


def _log_in(client: TestClient, email: str) -> None:
    form = client.get("/admin/login")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text).group(1)
    login = {"email": email, "password": PASSWORD, "csrf_token": token, "next": ""}
    assert client.post("/admin/login", data=login, follow_redirects=False).status_code == 303


def _orders(retailer: TestClient) -> list[dict]:
    response = retailer.get("/api/v1/orders", params={"limit": 250})
    assert response.status_code == 200, response.text
    return response.json()["orders"]


def _details(retailer: TestClient) -> list[dict]:
    return [retailer.get(f"/api/v1/orders/{o['id']}").json() for o in _orders(retailer)]


def _supplier_id(runtime) -> int:
    with runtime.uow(read_only=True) as uow:
        return uow.session.scalar(select(Store.id).where(Store.email == SUPPLIER_EMAIL))


def test_the_demo_prints_both_logins_and_a_working_retailer_token(demo, retailer):
    assert "retailer@demo.tandem.test" in demo.output and "supplier@demo.tandem.test" in demo.output
    assert retailer.get("/api/v1/store").json()["name"] == "Maison Tandem"


def test_the_demo_shows_its_progress_step_by_step(demo):
    steps = [line for line in demo.output.splitlines() if line.startswith("[")]

    assert [step[:5] for step in steps] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]


def test_retailer_orders_are_in_every_financial_and_fulfilment_state(retailer):
    orders = _orders(retailer)

    assert {o["financial_status"] for o in orders} >= {
        "paid",
        "authorized",
        "expired",
        "refunded",
        "partially_refunded",
    }
    assert {o["fulfillment_status"] for o in orders} >= {
        "unfulfilled",
        "scheduled",
        "on_hold",
        "in_progress",
        "partially_fulfilled",
        "fulfilled",
    }
    assert {o["status"] for o in orders} >= {"open", "cancelled"}


def test_supplier_orders_are_in_every_state_the_demo_can_show(retailer):
    statuses = [s["status"] for order in _details(retailer) for s in order["supplier_orders"]]

    assert sorted(statuses) == sorted(
        [
            "scheduled",
            "on_hold",
            "open",
            "open",
            "partially_fulfilled",
            "fulfilled",
            "awaiting_request",
            "cancelled",
        ]
    )


def test_the_last_order_is_still_inside_its_review_window(retailer):
    newest = retailer.get(f"/api/v1/orders/{_orders(retailer)[0]['id']}").json()
    [supplier_order] = newest["supplier_orders"]

    assert (newest["fulfillment_status"], supplier_order["status"]) == ("scheduled", "scheduled")
    assert supplier_order["release_at"] > newest["created_at"]


def test_supplier_shipments_carry_tracking_and_one_order_mixes_both_stores(retailer):
    details = _details(retailer)
    shipped = [s for order in details for s in order["supplier_orders"] if s["fulfillments"]]
    mixed = [
        o
        for o in details
        if o["supplier_orders"] and len(o["line_items"]) > len(o["supplier_orders"][0]["line_items"])
    ]

    assert {f["tracking_company"] for s in shipped for f in s["fulfillments"]} == {"La Poste", "Colissimo"}
    assert {p["collective_payment"]["status"] for p in shipped} == {"paid"}
    [order] = mixed
    assert order["fulfillment_status"] == "partially_fulfilled"
    assert order["supplier_orders"][0]["status"] == "open"


def test_the_supplier_sees_its_open_orders_and_none_before_release(runtime):
    supplier_id = _supplier_id(runtime)
    with runtime.uow(read_only=True) as uow:
        page = PageRequest(limit=100)
        visible = supplier_orders.list_visible(uow, store_id=supplier_id, status=None, page=page).items
        statuses = sorted(s.status for s in visible)

    assert statuses == ["fulfilled", "open", "open", "partially_fulfilled"]


def test_seeding_again_if_empty_adds_nothing(demo, runtime):
    def counts() -> tuple[int, ...]:
        with runtime.uow(read_only=True) as uow:
            return tuple(
                uow.session.scalar(select(func.count()).select_from(table))
                for table in (
                    Store,
                    Order,
                    SupplierOrder,
                    Connection,
                    SellingPlan,
                    PaymentSchedule,
                    PaymentMethod,
                )
            )

    before = counts()
    said: list[str] = []
    seed(demo.settings, if_empty=True, echo=said.append)

    assert counts() == before
    assert TOKEN_LINE not in "\n".join(said) and "supplier@demo.tandem.test" in "\n".join(said)


# -- pre-orders ----------------------------------------------------------------------------------


def _preorders(retailer: TestClient) -> list[dict]:
    return [o for o in _details(retailer) if any(li["selling_plan_id"] for li in o["line_items"])]


def _with_schedule(preorders: list[dict], status: str) -> list[dict]:
    return [o for o in preorders if [s["status"] for s in o["payment_schedules"]] == [status]]


def test_the_retailer_sells_pre_orders_under_three_plans(retailer):
    plans = retailer.get("/api/v1/selling_plans").json()["selling_plans"][::-1]  # listed newest first
    titles = {li["product_title"] for o in _preorders(retailer) for li in o["line_items"]}

    assert [(p["deposit"], p["balance_due"]["trigger"], p["inventory_reserve"]) for p in plans] == [
        ({"type": "percentage", "value": "20"}, "exact_time", "on_sale"),
        ({"type": "percentage", "value": "100"}, "on_fulfillment", "on_sale"),
        ({"type": "percentage", "value": "30"}, "on_fulfillment", "on_fulfillment"),
    ]
    assert plans[0]["balance_due"]["at"] > plans[0]["created_at"]
    assert all(p["name"].startswith("Précommande") for p in plans)
    assert len({v for p in plans for v in p["variant_ids"]}) == 2
    assert len(titles) == 2 and all(t.endswith("(précommande)") for t in titles)


def test_pre_orders_show_every_payment_schedule_state(retailer):
    statuses = [s["status"] for o in _preorders(retailer) for s in o["payment_schedules"]]

    assert set(statuses) == {"pending", "paid", "failed", "awaiting_customer", "overdue", "cancelled"}


def test_the_pending_balance_falls_due_on_15_january_and_a_full_payment_schedules_nothing(retailer):
    preorders = _preorders(retailer)
    [pending] = _with_schedule(preorders, "pending")
    in_full = [o for o in preorders if not o["payment_schedules"]]

    assert pending["financial_status"] == "partially_paid"
    assert pending["payment_schedules"][0]["due_at"].startswith(
        f"{balance_date(datetime.now(UTC)).year}-01-15"
    )
    assert [o["financial_status"] for o in in_full] == ["paid"]


def test_a_cancelled_pre_order_refunded_its_deposit(retailer):
    [cancelled, by_hand] = sorted(_with_schedule(_preorders(retailer), "cancelled"), key=lambda o: o["id"])

    assert (cancelled["status"], cancelled["financial_status"]) == ("cancelled", "refunded")
    assert cancelled["total_refunded"] == cancelled["total_captured"] != "0.00"
    assert cancelled["notices"] == []
    assert by_hand["status"] == "cancelled" and by_hand["notices"]


def test_a_removed_card_left_a_manual_refund_notice(retailer):
    [order] = [o for o in _preorders(retailer) if o["notices"]]
    [notice] = order["notices"]
    customer = retailer.get(f"/api/v1/customers/{order['customer_id']}").json()

    assert notice["kind"] == "manual_refund_required" and notice["resolved_at"] is None
    assert notice["amount"] == order["total_captured"] and order["total_refunded"] == "0.00"
    assert (order["status"], order["financial_status"]) == ("cancelled", "partially_paid")
    assert [m["status"] for m in customer["payment_methods"]] == ["revoked"]


def test_a_declined_balance_left_an_email_to_update_the_card(retailer, runtime):
    [order] = _with_schedule(_preorders(retailer), "failed")
    customer = retailer.get(f"/api/v1/customers/{order['customer_id']}").json()
    emails = retailer.get("/api/v1/emails", params={"limit": 250}).json()["emails"]
    [failed] = [e for e in emails if e["template"] == "payment_failed" and e["to"] == customer["email"]]
    with runtime.uow(read_only=True) as uow:
        body = uow.session.get(Email, failed["id"]).text_body

    assert order["payment_schedules"][0]["last_error"] == "card declined"
    assert order["fulfillment_status"] == "fulfilled" and order["financial_status"] == "partially_paid"
    assert failed["status"] == "kept" and "/p/update_card/" in body


def test_a_bank_challenge_left_an_email_to_confirm_the_payment(retailer):
    [order] = _with_schedule(_preorders(retailer), "awaiting_customer")
    customer = retailer.get(f"/api/v1/customers/{order['customer_id']}").json()
    emails = retailer.get("/api/v1/emails", params={"limit": 250}).json()["emails"]

    assert [e["template"] for e in emails if e["to"] == customer["email"]].count("payment_confirmation") == 1


def test_gateway_errors_left_a_balance_overdue_on_a_replaced_card(retailer):
    [order] = _with_schedule(_preorders(retailer), "overdue")
    schedule = order["payment_schedules"][0]
    customer = retailer.get(f"/api/v1/customers/{order['customer_id']}").json()

    assert schedule["attempts"] >= 2 and schedule["due_at"] < datetime.now(UTC).isoformat()
    assert sorted(m["status"] for m in customer["payment_methods"]) == ["active", "replaced"]
    assert schedule["payment_method_id"] == next(
        m["id"] for m in customer["payment_methods"] if m["status"] == "active"
    )


def test_pre_order_customers_have_cards_in_every_state(retailer):
    customers = {o["customer_id"] for o in _preorders(retailer)}
    statuses = {
        m["status"]
        for c in customers
        for m in retailer.get(f"/api/v1/customers/{c}").json()["payment_methods"]
    }

    assert statuses == {"active", "replaced", "revoked"}


def test_the_unpaid_tab_lists_the_partially_paid_pre_orders(retailer):
    owing = {
        o["id"]
        for o in _preorders(retailer)
        if o["status"] == "open" and o["financial_status"] == "partially_paid"
    }
    unpaid = retailer.get("/api/v1/orders", params={"financial_status": "unpaid", "limit": 250}).json()

    assert len(owing) == 4  # pending, failed, awaiting_customer, overdue
    assert owing <= {o["id"] for o in unpaid["orders"]}


def test_staff_find_the_pre_orders_in_the_admin_unpaid_tab_and_open_each(retailer, staff):
    preorders = _preorders(retailer)
    owing = [o for o in preorders if o["status"] == "open" and o["financial_status"] == "partially_paid"]
    unpaid = staff.get("/admin/orders", params={"tab": "unpaid"})

    assert unpaid.status_code == 200 and len(owing) == 4
    assert all(f'href="/admin/orders/{o["id"]}"' in unpaid.text for o in owing)
    for order in preorders:
        page = staff.get(f"/admin/orders/{order['id']}")
        assert page.status_code == 200, (order["id"], page.text[:500])


# -- every admin page a new user can reach -------------------------------------------------------

LINK = re.compile(r'href="(/admin[^"#?]*(?:\?[^"#]*)?)"')
NOT_PAGES = ("/admin/static/", "/admin/logout")


def _crawl(client: TestClient, start: str, limit: int = 400) -> dict[str, int]:
    """GET every admin page reachable by links from `start`; the status of each."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        path = queue.pop(0).replace("&amp;", "&")
        if path in seen:
            continue
        page = client.get(path)
        seen[path] = page.status_code
        if page.status_code == 200 and "text/html" in page.headers.get("content-type", ""):
            queue += [link for link in LINK.findall(page.text) if not link.startswith(NOT_PAGES)]
    return seen


@pytest.mark.parametrize("email", [RETAILER_EMAIL, SUPPLIER_EMAIL])
def test_every_admin_page_reachable_from_the_demo_opens(runtime, email):
    from tandem.api.app import create_app

    with TestClient(create_app(runtime=runtime)) as client:
        _log_in(client, email)
        pages = _crawl(client, "/admin/orders")

    broken = {path: status for path, status in pages.items() if status != 200}
    assert broken == {}
    assert len(pages) > 10, pages  # orders, supplier orders, customers, settings… not just the list
    assert any(path.startswith("/admin/supplier_orders/") for path in pages)
