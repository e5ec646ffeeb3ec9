"""Tandem's API server and job worker as subprocesses of the benchmark, stopped whatever happens."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tandem.bench.errors import BenchError

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 15


@dataclass(frozen=True)
class TandemConfig:
    database_url: str
    secret: str
    http_workers: int
    reservation_seconds: int
    gateway_latency_ms: float = 0.0
    worker_poll_seconds: float = 0.5


@dataclass
class RunningTandem:
    base_url: str
    processes: dict[str, subprocess.Popen]
    workdir: Path


def log_path(workdir: Path, name: str) -> Path:
    return workdir / f"{name}.log"


def metrics_dir(workdir: Path) -> Path:
    """Where the server's and the worker's counters meet, so /metrics adds up both (fresh and empty:
    counters left by an earlier process would count too)."""
    path = workdir / "metrics"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def log_tail(workdir: Path, name: str, lines: int = 80) -> str:
    path = log_path(workdir, name)
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def running_tandem(config: TandemConfig, workdir: Path, *, startup_timeout: float) -> Iterator[RunningTandem]:
    """`tandem serve --no-worker` and `tandem worker` on a free loopback port, until the block ends."""
    port = free_port()
    env = tandem_environment(config, port, metrics_dir(workdir))
    started: dict[str, subprocess.Popen] = {}
    try:
        serve = ["serve", "--no-worker", "--host", HOST, "--port", str(port)]
        started["server"] = spawn([*serve, "--workers", str(config.http_workers)], env, workdir, "server")
        started["worker"] = spawn(["worker"], env, workdir, "worker")
        tandem = RunningTandem(f"http://{HOST}:{port}", started, workdir)
        wait_until_healthy(tandem, timeout=startup_timeout)
        yield tandem
    finally:
        for process in reversed(started.values()):
            stop(process)


def tandem_environment(config: TandemConfig, port: int, metrics: Path) -> dict[str, str]:
    """The caller's environment plus the settings this run needs (SPEC §5); `metrics`: a directory
    the processes share their /metrics counters through."""
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "TANDEM_ENV": "production",
        "TANDEM_SECRET_KEY": config.secret,
        "TANDEM_DATABASE_URL": config.database_url,
        "TANDEM_BASE_URL": f"http://{HOST}:{port}",
        "TANDEM_CHECKOUT_RESERVATION_SECONDS": str(config.reservation_seconds),
        "TANDEM_WORKER_POLL_SECONDS": str(config.worker_poll_seconds),
        "TANDEM_TEST_GATEWAY_LATENCY_MS": str(config.gateway_latency_ms),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    }


def spawn(args: list[str], env: dict[str, str], workdir: Path, name: str) -> subprocess.Popen:
    # A session of its own: Ctrl+C reaches only us, and stop() can signal uvicorn's worker processes too.
    with open(log_path(workdir, name), "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tandem", *args],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group, then SIGKILL if it lingers."""
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()
    # uvicorn's worker processes may outlive their supervisor for a moment.
    _signal_group(process, signal.SIGKILL)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def wait_until_healthy(tandem: RunningTandem, *, timeout: float) -> None:
    """Poll /healthz; fail early, with the log, if a process dies first."""
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        for name, process in tandem.processes.items():
            if process.poll() is not None:
                raise BenchError(
                    f"tandem {name} exited with code {process.returncode} while starting:\n"
                    + log_tail(tandem.workdir, name)
                )
        if _healthy(tandem.base_url):
            return
        time.sleep(0.1)
    raise BenchError(f"tandem did not answer {tandem.base_url}/healthz within {timeout:.0f} s")


def _healthy(base_url: str) -> bool:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
    try:
        with direct.open(f"{base_url}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]
