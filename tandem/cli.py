"""The `tandem` command (SPEC §5)."""

import json
import logging
import signal
import threading
from typing import Annotated

import typer

from tandem.settings import SettingsError, load_settings

app = typer.Typer(no_args_is_help=True, help="Tandem order management.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
store_app = typer.Typer(no_args_is_help=True, help="Stores.")
bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks.")
app.add_typer(db_app, name="db")
app.add_typer(store_app, name="store")
app.add_typer(bench_app, name="bench")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        app()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


def _settings(**overrides):
    try:
        return load_settings(**overrides)
    except SettingsError:
        raise
    except Exception as exc:  # pydantic validation of TANDEM_* variables
        raise SettingsError(str(exc)) from None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations to TANDEM_DATABASE_URL."""
    from tandem.db import make_engine
    from tandem.migrate import current_revision, upgrade

    settings = _settings()
    engine = make_engine(settings)
    upgrade(engine)
    typer.echo(f"database at revision {current_revision(engine)}")
    engine.dispose()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="HTTP worker processes.")] = 1,
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Do not run the job worker here.")] = False,
) -> None:
    """Serve the API and admin UI (and the worker, unless --no-worker)."""
    import uvicorn

    _share_metrics_between(workers)

    from tandem.api.observing import configure_logging
    from tandem.serving import prepare_database, start_worker_thread

    settings = _settings()
    configure_logging(settings.log_format)
    prepare_database(settings)
    stop = threading.Event()
    thread = None if no_worker else start_worker_thread(settings, stop)
    typer.echo(
        f"Tandem is running at http://{host}:{port}/admin  (API: http://{host}:{port}/api/v1,"
        f" docs: http://{host}:{port}/docs)"
    )
    try:
        uvicorn.run(
            "tandem.serving:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,  # Tandem logs each request itself with TANDEM_LOG_FORMAT=json
            proxy_headers=True,
            **({"forwarded_allow_ips": settings.forwarded_allow_ips} if settings.forwarded_allow_ips else {}),
        )
    finally:
        stop.set()
        if thread:
            thread.join(timeout=10)


def _share_metrics_between(workers: int) -> None:
    """Several HTTP workers keep their /metrics counters in one directory (before any import
    of prometheus_client)."""
    import os
    import tempfile

    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="tandem-metrics-")


@app.command()
def worker() -> None:
    """Run the job worker (timers, payments, emails, webhooks) until interrupted."""
    from tandem.api.observing import configure_logging
    from tandem.serving import prepare_database, run_worker

    settings = _settings()
    configure_logging(settings.log_format)
    prepare_database(settings)
    stop = threading.Event()
    # SIGTERM: finish the job in hand, give back anything else held, and exit.
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    try:
        run_worker(settings, stop, own_process=True)
    except KeyboardInterrupt:
        stop.set()


@store_app.command("create")
def store_create(
    name: Annotated[str, typer.Option(help="Store name.")],
    kind: Annotated[str, typer.Option(help="retailer or supplier.")] = "retailer",
    email: Annotated[str | None, typer.Option(help="Store email; also the staff login.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 currency.")] = "EUR",
    locale: Annotated[str, typer.Option(help="en or fr.")] = "en",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    capture: Annotated[str, typer.Option(help="automatic or manual payment capture.")] = "automatic",
    automatic_payments: Annotated[
        bool, typer.Option("--automatic-payments", help="Enable collective automatic payments.")
    ] = False,
    billing_card_token: Annotated[
        str | None,
        typer.Option(
            help="Card token for the retailer's collective payments (needed with --automatic-payments)."
        ),
    ] = None,
    password: Annotated[str | None, typer.Option(help="Staff password (generated if omitted).")] = None,
) -> None:
    """Create a store; prints JSON with its id, API token and staff login."""
    from tandem.errors import InvalidInput
    from tandem.runtime import build_runtime
    from tandem.serving import prepare_database
    from tandem.stores import service
    from tandem.stores.domain import PaymentCapture, StoreKind

    settings = _settings()
    prepare_database(settings)
    kinds = tuple(StoreKind(k.strip()) for k in kind.split(",")) if _kinds_ok(kind) else None
    if kinds is None or capture not in ("automatic", "manual"):
        raise typer.BadParameter("--kind must be retailer and/or supplier; --capture automatic|manual")
    runtime = build_runtime(settings)
    new = service.NewStore(
        name=name,
        kinds=kinds,
        email=email,
        currency=currency.upper(),
        locale=locale,
        timezone=timezone,
        payment_capture=PaymentCapture(capture),
        collective_automatic_payments=automatic_payments,
        billing_card_token=billing_card_token,
        staff_password=password,
    )
    try:
        with runtime.uow() as uow:
            created = service.create_store(uow, new=new, now=runtime.clock.now())
    except InvalidInput as exc:
        typer.echo(f"error: {_option_of(exc.message)}", err=True)
        raise SystemExit(2) from None
    finally:
        runtime.close()
    typer.echo(
        json.dumps(
            {
                "id": created.store.id,
                "name": created.store.name,
                "kinds": created.store.kinds,
                "api_token": created.api_token,
                "staff_login": {
                    "email": created.staff_email,
                    "password": created.staff_password,
                    "url": f"{settings.base_url}/admin/login",
                },
            },
            indent=2,
        )
    )


@store_app.command("rotate-token")
def store_rotate_token(
    store_id: Annotated[int, typer.Option("--store-id", min=1, help="The store's id.")],
    name: Annotated[str, typer.Option(help="Which of the store's named tokens to replace.")] = "default",
) -> None:
    """Replace a store's API token: the old one stops working at once; prints JSON with the new one."""
    from tandem.errors import NotFound
    from tandem.runtime import build_runtime
    from tandem.serving import prepare_database
    from tandem.stores import tokens

    settings = _settings()
    prepare_database(settings)
    runtime = build_runtime(settings)
    try:
        with runtime.uow() as uow:
            token = tokens.rotate_token(uow, store_id=store_id, name=name, now=runtime.clock.now())
    except NotFound:
        typer.echo(f"error: there is no store {store_id}", err=True)
        raise SystemExit(2) from None
    finally:
        runtime.close()
    typer.echo(json.dumps({"store_id": store_id, "name": name, "api_token": token}, indent=2))


def _option_of(message: str) -> str:
    """The service names API fields; the command's user knows them as options."""
    return message.replace("billing_card_token", "--billing-card-token")


def _kinds_ok(kind: str) -> bool:
    return bool(kind) and all(k.strip() in ("retailer", "supplier") for k in kind.split(","))


@app.command()
def demo(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if demo data exists.")] = False,
) -> None:
    """Seed a demo network: stores, products, customers and orders in each state."""
    from tandem.demo import seed
    from tandem.serving import prepare_database

    settings = _settings()
    prepare_database(settings)
    seed(settings, if_empty=if_empty, echo=typer.echo)


@app.command()
def audit(
    database_url: Annotated[
        str | None, typer.Option(help="The database to audit (default: TANDEM_DATABASE_URL).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Check every invariant of SPEC §6 against the data; exit 1 on any violation."""
    from sqlalchemy.engine import make_url

    from tandem.audit import presenting
    from tandem.audit.service import CHECKS
    from tandem.db import make_engine
    from tandem.migrate import current_revision

    settings = _settings(**({"database_url": database_url} if database_url else {}))
    engine = make_engine(settings, pool_size=1)
    try:
        if current_revision(engine) is None:
            typer.echo("error: the database has no Tandem tables (run `tandem db upgrade`)", err=True)
            raise SystemExit(2)
        report = _audit_with_progress(engine, len(CHECKS))
    finally:
        engine.dispose()
    shown = make_url(settings.sqlalchemy_url).render_as_string(hide_password=True)
    typer.echo(presenting.as_json(report, shown) if as_json else presenting.as_text(report))
    if not report.clean:
        raise SystemExit(1)


def _audit_with_progress(engine, count: int):
    """The audit, with a progress bar on stderr (stdout stays the report)."""
    from rich.console import Console
    from rich.progress import Progress

    from tandem.audit.service import audit

    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("auditing", total=count)
        started = []

        def starting(check) -> None:
            progress.update(task, description=f"checking {check.name}", completed=len(started))
            started.append(check)

        report = audit(engine, on_check=starting)
        progress.update(task, completed=count)
    return report


@bench_app.command("flash-sale")
def bench_flash_sale(
    database_url: Annotated[
        str | None,
        typer.Option(
            help="sqlite:///FILE, or a PostgreSQL server on 127.0.0.1 where a throwaway "
            "database is created. Default: a temporary SQLite file."
        ),
    ] = None,
    units: Annotated[int, typer.Option(min=1, help="Units of the product on sale.")] = 1000,
    buyers: Annotated[int, typer.Option(min=1, help="Buyers, each wanting one unit.")] = 3000,
    concurrency: Annotated[int, typer.Option(min=1, help="Buyers checking out at once.")] = 64,
    retailers: Annotated[
        int,
        typer.Option(
            min=1, help="Retailers selling one supplier's stock (1: a retailer selling its own stock)."
        ),
    ] = 1,
    abandon_rate: Annotated[
        float, typer.Option(min=0.0, max=0.99, help="Fraction of buyers who reserve and never pay.")
    ] = 0.1,
    http_workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="`tandem serve --workers` (default: 1 on SQLite; on PostgreSQL one per two cores)."
        ),
    ] = None,
    reservation_seconds: Annotated[
        int, typer.Option(min=1, help="TANDEM_CHECKOUT_RESERVATION_SECONDS for this run.")
    ] = 5,
    gateway_latency_ms: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=60_000.0,
            help="TANDEM_TEST_GATEWAY_LATENCY_MS for this run: the test payment gateway's delay per call.",
        ),
    ] = 0.0,
    time_limit: Annotated[float, typer.Option(min=1.0, help="Give up after this many seconds.")] = 600.0,
    keep_database: Annotated[
        bool, typer.Option("--keep-database", help="Keep the database made for this run.")
    ] = False,
) -> None:
    """Flash sale (SPEC §7): buyers race for one product over HTTP; prints one JSON object.

    Besides throughput, latencies and the stock checks, the report gives the CPU used by the machine
    and by the benchmark itself, and the database work the server counted (/metrics) per checkout."""
    from tandem.bench import flash_sale

    options = flash_sale.FlashSaleOptions(
        database_url=database_url,
        units=units,
        buyers=buyers,
        concurrency=concurrency,
        retailers=retailers,
        abandon_rate=abandon_rate,
        http_workers=http_workers,
        reservation_seconds=reservation_seconds,
        gateway_latency_ms=gateway_latency_ms,
        time_limit=time_limit,
        keep_database=keep_database,
    )
    try:
        report = flash_sale.run(options)
    except flash_sale.BenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2 if isinstance(exc, flash_sale.BenchUsageError) else 1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; Tandem's processes were stopped", err=True)
        raise SystemExit(130) from None
    typer.echo(json.dumps(report, indent=2))
