"""The real Cloud Datastore emulator for tests: started in its own process group, stopped with its Java child."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO

HOST_VARIABLE = "DATASTORE_EMULATOR_HOST"
PROJECT_VARIABLE = "GOOGLE_CLOUD_PROJECT"
START_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


@contextmanager
def datastore_emulator(project: str = "addon-test") -> Iterator[str]:
    """Yield a running emulator's host:port, with DATASTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT set meanwhile."""
    existing = os.environ.get(HOST_VARIABLE)
    if existing:
        _wait_until_ready(existing, process=None, output=None)
        with _environment({HOST_VARIABLE: existing, PROJECT_VARIABLE: os.environ.get(PROJECT_VARIABLE) or project}):
            yield existing
        return

    host = f"127.0.0.1:{_free_port()}"
    with tempfile.TemporaryDirectory(prefix="datastore-emulator-") as data_dir, tempfile.TemporaryFile() as output:
        command = [
            "gcloud",
            "beta",
            "emulators",
            "datastore",
            "start",
            "--quiet",
            "--no-store-on-disk",
            "--consistency=1.0",
            f"--host-port={host}",
            f"--project={project}",
            # Its own data dir, so it never rewrites the env.yaml of an emulator someone else started.
            f"--data-dir={data_dir}",
        ]
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_ready(host, process=process, output=output)
            with _environment({HOST_VARIABLE: host, PROJECT_VARIABLE: project}):
                yield host
        finally:
            _stop(process)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(host: str, process: subprocess.Popen[bytes] | None, output: IO[bytes] | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"http://{host}/", timeout=1) as response:
                if response.read().strip() == b"Ok":
                    return
        except (urllib.error.URLError, OSError):
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"Datastore emulator exited with {process.returncode}:\n{_read(output)}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"Datastore emulator at {host} not ready after {START_TIMEOUT_SECONDS:.0f} s:\n{_read(output)}"
            )
        time.sleep(0.1)


def _read(output: IO[bytes] | None) -> str:
    if output is None:
        return "(not started by the tests)"
    output.seek(0)
    return output.read().decode(errors="replace")


def _stop(process: subprocess.Popen[bytes]) -> None:
    # gcloud starts a shell script that starts Java; signalling the group reaches all three.
    group = process.pid
    _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    while _group_alive(group) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _group_alive(group):
        _signal_group(group, signal.SIGKILL)
    process.wait()


def _signal_group(group: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
