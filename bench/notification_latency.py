"""How fast Calendar push notifications are answered under load, and how many syncs they cost.

Google counts a notification answered late as failed and backs off, so the hook must answer at once and
leave the reading to the background. This sends bursts of notifications (with many repeats, as Google's
are) to the real app under gunicorn, with the fake Google behind it, and reports the answer latency and
how many calendar reads the notifications turned into.

Run from the repository root: `.venv/bin/python bench/notification_latency.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addon.store import CalendarSync, WatchChannel  # noqa: E402 - after the path is set
from addon.store.sqlite import SqliteStore  # noqa: E402
from addon.sync import HOOK_PATH, token_hash  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.live_server import free_port  # noqa: E402

GUNICORN = Path(sys.executable).with_name("gunicorn")
BASE_URL = "https://addon.bench"
TARGET_P99_SECONDS = 1.0
STARTUP_DEADLINE_SECONDS = 30.0


def arrange(google: FakeGoogle, store: SqliteStore, calendars: int) -> list[tuple[str, str]]:
    """`calendars` users, each with one watched calendar holding an event; returns (channel id, secret)."""
    channels = []
    for number in range(calendars):
        email = f"user{number}@corp.example"
        google.state.delegation_users.add(email)
        start = datetime.now(UTC) + timedelta(days=2)
        google.add_event(
            email,
            {
                "id": f"evt{number}",
                "summary": "Weekly",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(hours=1)).isoformat()},
            },
        )
        sync_id = CalendarSync.id_for(f"sub-{number}", email)
        store.put(CalendarSync(sync_id=sync_id, user_id=f"sub-{number}", user_email=email, calendar_id=email))
        channel_id, secret = f"bench-channel-{number}", f"bench-secret-{number}-{os.urandom(8).hex()}"
        store.put(
            WatchChannel(
                channel_id=channel_id,
                sync_id=sync_id,
                resource_id=f"resource-{number}",
                token_hash=token_hash(secret),
                expires_at=datetime.now(UTC) + timedelta(days=7),
            )
        )
        channels.append((channel_id, secret))
    return channels


def send(port: int, channels: list[tuple[str, str]], count: int, latencies: list[float], failures: list[str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for message in range(count):
        channel_id, secret = random.choice(channels)
        number = channel_id.rsplit("-", 1)[-1]
        headers = {
            "X-Goog-Channel-ID": channel_id,
            "X-Goog-Channel-Token": secret,
            "X-Goog-Resource-ID": f"resource-{number}",
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": str(message + 2),
            "Content-Length": "0",
        }
        began = time.perf_counter()
        try:
            connection.request("POST", HOOK_PATH, headers=headers)
            response = connection.getresponse()
            response.read()
        except OSError as error:
            failures.append(type(error).__name__)
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            continue
        latencies.append(time.perf_counter() - began)
        if response.status != 200:
            failures.append(str(response.status))
    connection.close()


def reads_of(google: FakeGoogle) -> int:
    return sum(1 for r in list(google.state.requests) if r.method == "GET" and r.path.endswith("/events"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calendars", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--notifications", type=int, default=4000, help="in all, spread over the clients")
    args = parser.parse_args()

    google = FakeGoogle().start()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        store = SqliteStore(str(directory / "addon.db"))
        channels = arrange(google, store, args.calendars)
        store.close()
        key_file = google.service_account_key_file(directory)
        port = free_port()
        env = {
            **os.environ,
            "ADDON_ENV": "production",
            "ADDON_BASE_URL": BASE_URL,
            "ADDON_SERVICE_ACCOUNT_EMAIL": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            "ADDON_OAUTH_CLIENT_ID": "1-bench.apps.googleusercontent.com",
            "ADDON_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
            "ADDON_STORE": f"sqlite:///{directory / 'addon.db'}",
            "ADDON_GOOGLE_CERTS_URL": google.certs_url,
            "ADDON_GOOGLE_API_ENDPOINT": google.url,
            "ADDON_SYNC_CREDENTIALS": str(key_file),
            "WEB_CONCURRENCY": "2",
            "GUNICORN_THREADS": "8",
        }
        log_path = directory / "gunicorn.log"
        with log_path.open("w") as log:
            server = subprocess.Popen(
                [str(GUNICORN), "-b", f"127.0.0.1:{port}", "addon:create_app()"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for(port)
            latencies: list[float] = []
            failures: list[str] = []
            per_client = args.notifications // args.clients
            threads = [
                threading.Thread(target=send, args=(port, channels, per_client, latencies, failures))
                for _ in range(args.clients)
            ]
            began = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            sent_in = time.perf_counter() - began
            drained_in = drain(google) - began
        finally:
            server.terminate()
            server.wait(timeout=20)
        problems = [line for line in log_path.read_text().splitlines() if '"severity": "ERROR"' in line]

    google.stop()
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    result = {
        "notifications": len(latencies),
        "calendars": args.calendars,
        "clients": args.clients,
        "answered_per_second": round(len(latencies) / sent_in, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(p99 * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "failures": len(failures),
        "calendar_reads": reads_of(google),
        "all_synced_after_s": round(drained_in, 2),
        "error_log_lines": len(problems),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    verdict = "PASS" if p99 <= TARGET_P99_SECONDS and not failures and not problems else "MISS"
    print(f"{verdict}: p99 answer {result['p99_ms']} ms (target < {TARGET_P99_SECONDS * 1000:.0f} ms)")
    return 0 if verdict == "PASS" else 1


def wait_for(port: int) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("gunicorn did not start")


def drain(google: FakeGoogle, quiet_seconds: float = 2.0) -> float:
    """When the last calendar read happened, once reads have stopped for `quiet_seconds`."""
    last_count, last_change = reads_of(google), time.perf_counter()
    while time.perf_counter() - last_change < quiet_seconds:
        time.sleep(0.2)
        count = reads_of(google)
        if count != last_count:
            last_count, last_change = count, time.perf_counter()
    return last_change


if __name__ == "__main__":
    sys.exit(main())
