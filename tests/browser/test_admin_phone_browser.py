"""The admin on a phone (390 px): every page the demo links to fits the screen, and the
navigation opens from a menu button. On a desktop (1280 px) the navigation stays in the bar."""

import shutil
from urllib.parse import urljoin, urlparse

import pytest

from tandem.demo import PASSWORD, RETAILER_EMAIL, SUPPLIER_EMAIL, seed
from tandem.runtime import build_runtime
from tandem.settings import Settings
from tests.support.live import serving

PHONE = {"width": 390, "height": 844}
MAX_PAGES = 80


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory, sqlite_template):
    from tandem.api.app import create_app

    path = tmp_path_factory.mktemp("phone") / "tandem.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(env="test", database_url=f"sqlite:///{path}", secret_key="x" * 40)
    seed(settings, if_empty=False, echo=lambda _: None)
    runtime = build_runtime(settings)
    with serving(create_app(runtime=runtime)) as url:
        yield url
    runtime.close()


def _logged_in(chromium, url: str, email: str, viewport: dict, locale: str = "en-GB"):
    context = chromium.new_context(viewport=viewport, locale=locale)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{url}/admin/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return context, page


def _choose_language(page, locale: str) -> None:
    page.click("label.menu-button")
    page.click(f"button[value={locale}]")
    page.wait_for_load_state()


def _admin_links(page, here: str, base: str) -> list[str]:
    found = []
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
        target = urlparse(urljoin(here, href))._replace(fragment="")
        if target.netloc != urlparse(base).netloc or not target.path.startswith("/admin"):
            continue
        if target.path.endswith((".csv", ".css", ".js")) or "sort=" in target.query:
            continue
        found.append(target.geturl())
    return found


def _too_wide_pages(page, base: str) -> tuple[int, list[tuple[str, int]]]:
    """Visit every admin page reachable from the first one; those wider than the screen."""
    seen, queue, wide = set(), [page.url], []
    while queue and len(seen) < MAX_PAGES:
        here = queue.pop(0)
        if here in seen:
            continue
        seen.add(here)
        assert page.goto(here).status == 200, here
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            wide.append((here.removeprefix(base), width))
        queue += _admin_links(page, here, base)
    return len(seen), wide


@pytest.mark.parametrize("email", [RETAILER_EMAIL, SUPPLIER_EMAIL])
def test_every_admin_page_the_demo_links_to_fits_a_phone_screen(chromium, demo_url, email):
    context, page = _logged_in(chromium, demo_url, email, PHONE)
    visited, wide = _too_wide_pages(page, demo_url)
    context.close()
    assert visited >= 10
    assert wide == []


def test_on_a_phone_the_navigation_opens_from_the_menu_button(chromium, demo_url):
    context, page = _logged_in(chromium, demo_url, RETAILER_EMAIL, PHONE)
    nav = page.locator("nav.mainnav")
    assert not nav.is_visible()
    assert not page.locator("button[value=fr]").is_visible()  # the account's buttons are in the menu too
    _choose_language(page, "fr")
    page.click("label.menu-button")
    assert nav.is_visible()
    page.get_by_role("link", name="Clients").click()
    assert page.url.endswith("/admin/customers")
    assert not page.locator("nav.mainnav").is_visible()
    context.close()


def test_on_a_phone_table_cells_carry_their_column_heading(chromium, demo_url):
    context, page = _logged_in(chromium, demo_url, RETAILER_EMAIL, PHONE)
    _choose_language(page, "en")
    page.goto(f"{demo_url}/admin/orders")
    first_row = page.locator("table.orders-table tbody tr").first
    labels = first_row.locator("td").evaluate_all("cells => cells.map(c => c.dataset.label)")
    assert labels[:3] == ["Order", "Date ↓", "Customer"]
    assert page.locator("table.orders-table thead").bounding_box()["height"] <= 1
    context.close()


def test_on_a_desktop_the_navigation_stays_in_the_bar(chromium, demo_url):
    context, page = _logged_in(chromium, demo_url, RETAILER_EMAIL, {"width": 1280, "height": 900})
    assert page.locator("nav.mainnav").is_visible()
    assert not page.locator("label.menu-button").is_visible()
    assert page.locator("table.orders-table thead").is_visible()
    context.close()
