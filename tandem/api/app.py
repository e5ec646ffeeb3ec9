"""The web application: JSON API under /api/v1, admin UI under /admin."""

import logging
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from swagger_ui_bundle import swagger_ui_path

from tandem import __version__, metrics, operations
from tandem.api import errors, openapi
from tandem.api.guard import RequestGuard
from tandem.api.hot_routes import HotRoutes
from tandem.api.observing import ObservedRequests
from tandem.api.throttling import build_limits
from tandem.auth.service import TokenCache
from tandem.checkout.lanes import LanesByLoop
from tandem.checkout.schemas import CheckoutIn
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
        if hasattr(runtime.gateway, "close_current"):
            await runtime.gateway.close_current()
        if owns_runtime:
            runtime.close()

    app = FastAPI(
        title="Tandem",
        version=__version__,
        lifespan=lifespan,
        description="Order management for retailer-supplier networks and pre-orders.",
        generate_unique_id_function=openapi.operation_id,
        docs_url=None,  # served from local assets below
        redoc_url=None,
        # Tandem's metrics are Prometheus (/metrics); FastAPI's OpenTelemetry bridge would look
        # for a provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    app.state.token_cache = TokenCache()
    app.state.checkout_lanes = LanesByLoop(runtime)
    app.state.limits = build_limits(runtime.settings)
    errors.install(app)
    app.include_router(_api_router(), prefix="/api/v1")
    _list_hand_read_bodies(app, CheckoutIn)
    app.openapi = openapi.complete_document(app.openapi)
    openapi.install_docs(app, swagger_ui_path)
    from tandem.checkout import api as checkout_api

    app.add_middleware(
        HotRoutes,
        create=checkout_api.create_checkout,
        complete=checkout_api.complete_checkout,
        fastapi_app=app,
    )
    app.add_middleware(  # before any body is read: size limit, authentication, rate limit
        RequestGuard,
        fastapi_app=app,
        max_body_bytes=runtime.settings.max_body_bytes,
        api_limit=app.state.limits.api,
        hsts=runtime.settings.is_https,
    )
    # Outermost (added last): every answer, the guard's refusals and the checkout routes
    # included, is counted, logged and carries its request id.
    app.add_middleware(ObservedRequests, json_logs=runtime.settings.log_format == "json")
    from tandem.admin.views import mount

    mount(app)
    from tandem.customer_pages.views import mount as mount_customer_pages

    mount_customer_pages(app)  # /p/…: the pages behind mailed links

    @app.get("/healthz", include_in_schema=False)
    def health():
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def ready():
        """Ready for traffic: the database answers and its schema is current."""
        found = operations.readiness(runtime.database.engine)
        if not found.ready:
            return JSONResponse({"status": "unavailable", "reason": found.reason}, status_code=503)
        return {"status": "ok", "revision": found.revision}

    @app.get("/metrics", include_in_schema=False)
    async def metrics_text():
        queues = await anyio.to_thread.run_sync(_queue_figures, runtime)
        return Response(metrics.exposition(queues), media_type=CONTENT_TYPE_LATEST)

    @app.get("/", include_in_schema=False)
    def root():
        return RedirectResponse("/admin")

    return app


def _queue_figures(runtime: Runtime):
    """Jobs and outbox for /metrics; without a database, /metrics still answers its counters."""
    try:
        with runtime.uow(read_only=True) as uow:
            return operations.queue_figures(uow.session, runtime.clock.now())
    except Exception:  # noqa: BLE001 - /readyz reports the database; the counters still help
        log.warning("/metrics: the queue figures could not be read", exc_info=True)
        return None


def _list_hand_read_bodies(app: FastAPI, *models) -> None:
    """Bodies read with api.deps.parse_body are not seen by FastAPI: add their schemas."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = build()
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
        return app.openapi_schema

    app.openapi = openapi


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
    # checkout first: routes are matched in order, and its two are the busiest by far;
    # suppliers before catalog: POST /products/import must not be taken for a product id.
    for sub in (
        checkout,
        stores,
        suppliers,
        catalog,
        customers,
        orders,
        preorders,
        notifications,
        automation,
    ):
        router.include_router(sub)
    return router
