"""Swagger UI at /docs, in a real browser with every request outside Tandem refused: it
renders the API and offers the bearer token (SPEC §4: /docs works without internet access)."""

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def offline_page(page, live_server):
    """A page that can reach only the live server; what else it asked for is kept."""
    refused: list[str] = []

    def only_tandem(route):
        if route.request.url.startswith(live_server):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_tandem)
    page.refused = refused
    return page


def test_swagger_ui_renders_the_api_offline_with_an_authorize_button(offline_page, live_server):
    page = offline_page
    page.goto(f"{live_server}/docs")
    page.get_by_text("/api/v1/checkouts/{checkout_id}/complete").first.wait_for()
    page.get_by_role("button", name="Authorize").first.click()
    page.get_by_text("bearerAuth").first.wait_for()
    assert page.locator("text=Unable to render this definition").count() == 0
    assert page.refused == []
