"""The add-on served by a real gunicorn on 127.0.0.1, for end-to-end tests."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import requests

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_gunicorn(env: dict[str, str], port: int, log_path: Path, *options: str) -> Iterator[str]:
    """Start `gunicorn 'addon:create_app()'`, wait for /healthz, yield its root URL; no traceback may be logged."""
    # A file, not a pipe: nobody reads a pipe while tests run, and a full one would stall the server.
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [GUNICORN, "-b", f"127.0.0.1:{port}", *options, "addon:create_app()"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        root = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    if requests.get(root + "/healthz", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield root
        finally:
            process.terminate()
            process.wait(timeout=20)
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
