"""How fast Calendar push notifications are answered under load, and how many syncs they cost.

Google counts a notification answered late as failed and backs off, so the hook must answer at once and
leave the reading to the background. This sends bursts of notifications (with many repeats, as Google's
are) to the real app under gunicorn, with the fake Google behind it, and reports the answer latency and
how many calendar reads the notifications turned into.

Run from the repository root: `.venv/bin/python bench/notification_latency.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addon.store import CalendarSync, WatchChannel  # noqa: E402 - after the path is set
from addon.store.sqlite import SqliteStore  # noqa: E402
from addon.sync import HOOK_PATH, token_hash  # noqa: E402
from bench.harness.load import Call, run_load  # noqa: E402
from bench.harness.logs import log_problems  # noqa: E402
from bench.harness.report import LoadSummary, summarize, verdict  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.live_server import served_by_gunicorn  # noqa: E402

BASE_URL = "https://addon.bench"
# The production serving settings (app.yaml), read by gunicorn.conf.py.
SERVING_ENV = {"WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "8"}
TARGET_P99_SECONDS = 1.0
# The load is bounded by its count; this only makes sure it also ends if the server stops answering.
LOAD_CEILING_SECONDS = 300.0
REQUEST_TIMEOUT_SECONDS = 10.0


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


def notification(channels: list[tuple[str, str]], number: int) -> Call:
    """The `number`th notification a client sends, for a random channel: most are repeats, as Google's are."""
    channel_id, secret = random.choice(channels)
    headers = {
        "X-Goog-Channel-ID": channel_id,
        "X-Goog-Channel-Token": secret,
        "X-Goog-Resource-ID": f"resource-{channel_id.rsplit('-', 1)[-1]}",
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": str(number + 2),
        "Content-Length": "0",
    }
    return Call("POST", HOOK_PATH, None, headers)


def reads_of(google: FakeGoogle) -> int:
    return sum(1 for r in list(google.state.requests) if r.method == "GET" and r.path.endswith("/events"))


def server_env(google: FakeGoogle, directory: Path) -> dict[str, str]:
    """Production settings on the SQLite store in `directory`, with delegation through the fake's token endpoint."""
    return {
        **os.environ,
        "ADDON_ENV": "production",
        "ADDON_BASE_URL": BASE_URL,
        "ADDON_SERVICE_ACCOUNT_EMAIL": "service-1@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
        "ADDON_OAUTH_CLIENT_ID": "1-bench.apps.googleusercontent.com",
        "ADDON_SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789",
        "ADDON_STORE": f"sqlite:///{directory / 'addon.db'}",
        "ADDON_GOOGLE_CERTS_URL": google.certs_url,
        "ADDON_GOOGLE_API_ENDPOINT": google.url,
        "ADDON_SYNC_CREDENTIALS": str(google.service_account_key_file(directory)),
        **SERVING_ENV,
    }


def report(args: argparse.Namespace, answers: LoadSummary, reads: int, drained_in: float, problems: list[str]) -> int:
    """Print the measures as JSON and the verdict; 0 when it passed."""
    failures = answers.non_200 + sum(answers.errors.values())
    result = {
        "notifications": answers.requests,
        "calendars": args.calendars,
        "clients": args.clients,
        "answered_per_second": answers.requests_per_second,
        "p50_ms": answers.p50_ms,
        "p99_ms": answers.p99_ms,
        "max_ms": answers.max_ms,
        "failures": failures,
        "calendar_reads": reads,
        "all_synced_after_s": round(drained_in, 2),
        "error_log_lines": len(problems),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, indent=2))
    passed = answers.p99_ms <= TARGET_P99_SECONDS * 1000 and not failures and not problems
    print(f"{verdict(passed)}: p99 answer {result['p99_ms']} ms (target < {TARGET_P99_SECONDS * 1000:.0f} ms)")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calendars", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--notifications", type=int, default=4000, help="in all, spread over the clients")
    args = parser.parse_args()

    google = FakeGoogle().start()
    try:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            store = SqliteStore(str(directory / "addon.db"))
            channels = arrange(google, store, args.calendars)
            store.close()
            log_path = directory / "gunicorn.log"
            with served_by_gunicorn(server_env(google, directory), log_path) as (server, _):
                load = run_load(
                    server.port,
                    lambda number: notification(channels, number),
                    clients=args.clients,
                    seconds=LOAD_CEILING_SECONDS,
                    calls_per_client=args.notifications // args.clients,
                    timeout=REQUEST_TIMEOUT_SECONDS,
                )
                drained_in = drain(google) - load.began
            problems = log_problems(log_path, least="ERROR")
    finally:
        google.stop()
    return report(args, summarize(load), reads_of(google), drained_in, problems)


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
