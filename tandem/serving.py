"""Process start-up: database preparation, the app factory for uvicorn, the worker thread."""

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


def app_factory():
    from tandem.api.app import create_app

    return create_app(load_settings())


def run_worker(settings: Settings, stop: threading.Event) -> None:
    from tandem.runtime import build_runtime
    from tandem.wiring import build_worker

    _yield_cpu(settings.worker_nice)
    runtime = build_runtime(settings, role="worker")
    runtime.beat()
    try:
        build_worker(runtime).run_forever(stop)
    finally:
        runtime.close()


def _yield_cpu(nice: int) -> None:
    """Lower this thread's CPU priority (Linux keeps one per thread), where the OS allows it."""
    try:
        os.nice(nice)
    except (AttributeError, OSError):
        log.info("the worker runs at normal CPU priority")


def start_worker_thread(settings: Settings, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=run_worker, args=(settings, stop), name="tandem-worker", daemon=True)
    thread.start()
    return thread
