"""A real uvicorn server on a loopback port, in a background thread."""

import socket
import threading
import time
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(app):
    """Yield the base URL of `app` served by uvicorn until the block ends."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class TandemServer:
    """`tandem serve --no-worker` as a process of its own (its own GIL, like production), in a
    process group, so SIGKILL takes all of it at once."""

    def __init__(self, database_url: str, secret: str, **settings: str):
        import os
        import subprocess
        import sys

        import httpx

        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "TANDEM_DATABASE_URL": database_url,
            "TANDEM_ENV": "test",
            "TANDEM_SECRET_KEY": secret,
        }
        env.update({f"TANDEM_{name.upper()}": value for name, value in settings.items()})
        command = [sys.executable, "-m", "tandem", "serve", "--no-worker", "--port", str(port)]
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError("tandem serve did not start")

    def counters(self) -> dict[tuple[str, tuple], float]:
        """Its /metrics, by sample name and labels."""
        import httpx
        from prometheus_client.parser import text_string_to_metric_families

        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def kill(self) -> None:
        import os
        import signal

        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
