"""Process start-up: database preparation, the app factory for uvicorn, the worker thread."""

import gc
import logging
import os
import threading

from tandem.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)


def prepare_database(settings: Settings) -> None:
    """SQLite is upgraded automatically; PostgreSQL must be at head (`tandem db upgrade`)."""
    from tandem.db import make_engine
    from tandem.migrate import current_revision, head_revision, upgrade

    engine = make_engine(settings)
    try:
        if settings.is_sqlite:
            upgrade(engine)
        elif current_revision(engine) != head_revision():
            raise SettingsError("the PostgreSQL schema is not up to date: run `tandem db upgrade`")
    finally:
        engine.dispose()


# Collect cyclic garbage after this many new objects instead of CPython's 700: a flash sale
# allocates fast, and every collection pauses all requests (measured: p99 322 -> 191 ms).
GC_FIRST_GENERATION = 50_000


def app_factory():
    from tandem.api.app import create_app
    from tandem.api.observing import configure_logging

    settings = load_settings()
    configure_logging(settings.log_format)
    app = create_app(settings)
    tune_garbage_collector()
    return app


def tune_garbage_collector() -> None:
    """For a serving process, once its code and app are loaded: what exists now stays for the
    process's life, so it moves out of the collector's sight (gc.freeze), and collections
    come less often."""
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_FIRST_GENERATION, second, third)


def run_worker(settings: Settings, stop: threading.Event, *, own_process: bool = False) -> None:
    from tandem.runtime import build_runtime
    from tandem.wiring import build_worker

    _yield_cpu(settings.worker_nice, own_process)
    runtime = build_runtime(settings, role="worker")
    runtime.beat()
    try:
        build_worker(runtime).run_forever(stop)
    finally:
        runtime.close()


def _yield_cpu(nice: int, own_process: bool) -> None:
    """Lower the worker's CPU priority, where the OS allows it. Linux keeps a nice value per
    thread, and shares CPU fairly between sessions first (autogroups): a worker process of
    its own also lowers its session's share, or its nice value would only count against
    itself."""
    try:
        os.nice(nice)
        if own_process and os.path.exists("/proc/self/autogroup"):
            with open("/proc/self/autogroup", "w") as autogroup:
                autogroup.write(str(nice))
    except (AttributeError, OSError):
        log.info("the worker runs at normal CPU priority")


def start_worker_thread(settings: Settings, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_worker, args=(settings, stop), name="tandem-worker", daemon=True)
    thread.start()
    return thread
