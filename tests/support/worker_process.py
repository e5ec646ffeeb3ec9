"""A worker in its own process, for crash tests: `python -m tests.support.worker_process URL CRASH_AT`.

Its `test.record` job writes one timeline row per job; when it meets job number
CRASH_AT for the first time it dies (os._exit) with that row written but not
committed, like a killed process.
"""

import os
import sys
import threading
from pathlib import Path

from tandem.runtime import build_runtime
from tandem.settings import Settings
from tandem.timeline import service as timeline
from tandem.timeline.domain import WORKER, Change
from tandem.worker.runner import Worker


def record(uow, payload, now, crash_at: int, marker: Path) -> None:
    timeline.record(
        uow.session,
        store_id=payload["store_id"],
        subject_type="test",
        subject_id=payload["n"],
        changes=[Change("job_done", {})],
        actor=WORKER,
        now=now,
    )
    uow.session.flush()
    if payload["n"] == crash_at and not marker.exists():
        marker.write_text("crashed")
        os._exit(17)


def main() -> None:
    url, crash_at, marker = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    settings = Settings(env="test", database_url=url, secret_key="x" * 40, worker_poll_seconds=0.05)
    runtime = build_runtime(settings)
    from datetime import timedelta

    worker = Worker(
        runtime,
        handlers={"test.record": lambda u, p, n: record(u, p, n, crash_at, marker)},
        lease=timedelta(seconds=1),
        batch=10,
    )
    stop = threading.Event()
    threading.Timer(float(os.environ.get("WORKER_SECONDS", "20")), stop.set).start()
    worker.run_forever(stop)


if __name__ == "__main__":
    main()
