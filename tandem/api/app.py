"""The web application: JSON API under /api/v1, admin UI under /admin."""

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from tandem import __version__, metrics
from tandem.api import errors
from tandem.auth.service import TokenCache
from tandem.checkout.lanes import LanesByLoop
from tandem.clock import Clock
from tandem.runtime import Runtime, build_runtime
from tandem.settings import Settings, load_settings

log = logging.getLogger(__name__)


def create_app(
    settings: Settings | None = None, *, runtime: Runtime | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the app; nothing happens at import time."""
    owns_runtime = runtime is None
    runtime = runtime or build_runtime(settings or load_settings(), clock=clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Sync routes run in worker threads; allow enough for the connection pool.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 64
        if owns_runtime:
            runtime.beat()
        yield
        await app.state.checkout_lanes.close_current()
        if owns_runtime:
            runtime.close()

    app = FastAPI(
        title="Tandem",
        version=__version__,
        lifespan=lifespan,
        description="Order management for retailer-supplier networks and pre-orders.",
    )
    app.state.runtime = runtime
    app.state.token_cache = TokenCache()
    app.state.checkout_lanes = LanesByLoop(runtime)
    errors.install(app)
    app.include_router(_api_router(), prefix="/api/v1")
    from tandem.admin.views import mount

    mount(app)
    from tandem.customer_pages.views import mount as mount_customer_pages

    mount_customer_pages(app)  # /p/…: the pages behind mailed links

    @app.get("/healthz", include_in_schema=False)
    def health():
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text():
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/admin/orders")

    return app


def _api_router() -> APIRouter:
    from tandem.automation.api import router as automation
    from tandem.catalog.api import router as catalog
    from tandem.checkout.api import router as checkout
    from tandem.customers.api import router as customers
    from tandem.notifications.api import router as notifications
    from tandem.orders.api import router as orders
    from tandem.preorders.api import router as preorders
    from tandem.stores.api import router as stores
    from tandem.suppliers.api import router as suppliers

    router = APIRouter()
    # suppliers before catalog: POST /products/import must not be taken for a product id.
    for sub in (
        stores,
        suppliers,
        catalog,
        customers,
        checkout,
        orders,
        preorders,
        notifications,
        automation,
    ):
        router.include_router(sub)
    return router
