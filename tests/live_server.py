"""The add-on served by a real gunicorn on 127.0.0.1, as deployed, for end-to-end tests and the benchmarks."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
APP = "addon:create_app()"
START_SECONDS = 30
# Past gunicorn.conf.py's graceful_timeout, after which the master kills its workers itself.
STOP_SECONDS = 25


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class FirstAnswer:
    """The first 200 to a request polled from the spawn: seconds since the spawn, its body, the answers before it."""

    seconds: float
    body: bytes
    non_200: dict[str, int]


class Gunicorn:
    """`gunicorn -b 127.0.0.1:PORT [options] APP` from the repository root, so gunicorn.conf.py applies as deployed.

    It runs in a session of its own (a Ctrl-C reaches it only through `stop`), logging to a file: a file, not a
    pipe, since nobody reads a pipe while tests or loads run, and a full one would stall the server.
    """

    def __init__(self, env: dict[str, str], log_path: Path, *options: str, app: str = APP, port: int = 0) -> None:
        self.port = port or free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.command = [GUNICORN, *options, "-b", f"127.0.0.1:{self.port}", app]
        with log_path.open("wb") as log:
            self.started_at = time.perf_counter()
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def first_200(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> FirstAnswer:
        """Send the request until it is answered 200; fails when gunicorn exits or START_SECONDS pass from the spawn."""
        deadline = self.started_at + START_SECONDS
        non_200: Counter[str] = Counter()
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=START_SECONDS)
            try:
                connection.request(method, path, body, headers or {})
                response = connection.getresponse()
                status, answer = response.status, response.read()
            except (ConnectionRefusedError, ConnectionResetError, http.client.RemoteDisconnected):
                time.sleep(0.002)  # not listening yet: poll finely, since a cold start is timed from here
                continue
            finally:
                connection.close()
            if status == 200:
                return FirstAnswer(time.perf_counter() - self.started_at, answer, dict(non_200))
            non_200[str(status)] += 1
            time.sleep(0.01)
        raise RuntimeError(f"no 200 for {method} {path} within {START_SECONDS} s:\n{self.log_path.read_text()}")

    def stop(self) -> None:
        """SIGTERM, as the platform stops an instance; what is left after STOP_SECONDS is killed, and that fails."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            raise RuntimeError(f"gunicorn did not stop within {STOP_SECONDS} s; killed") from None


@contextmanager
def served_by_gunicorn(
    env: dict[str, str], log_path: Path, *options: str, app: str = APP, port: int = 0
) -> Iterator[tuple[Gunicorn, FirstAnswer]]:
    """Start gunicorn, wait for the first 200 on /healthz, yield the server and that answer; stop it afterwards."""
    server = Gunicorn(env, log_path, *options, app=app, port=port)
    try:
        yield server, server.first_200("GET", "/healthz")
    finally:
        server.stop()


@contextmanager
def running_gunicorn(env: dict[str, str], port: int, log_path: Path, *options: str) -> Iterator[str]:
    """Start `gunicorn 'addon:create_app()'`, wait for /healthz, yield its root URL; no traceback may be logged."""
    with served_by_gunicorn(env, log_path, *options, port=port) as (server, _):
        yield server.root
    assert "Traceback" not in log_path.read_text(), log_path.read_text()


# Debian's Chromium (scripts/test installs it), never a browser Playwright would download: there is no internet.
CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
)


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()
