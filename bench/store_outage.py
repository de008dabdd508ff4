"""How long the sidebar waits when the store stops answering, and how soon it is back once the store is.

Run from the repository root: `.venv/bin/python bench/store_outage.py` (about 1 minute; needs the Datastore
emulator, as the tests do). The app runs in this process on the real emulator, reached through the tests'
relay (tests/relay.py), which the bench cuts two ways: `refused` (every connection reset, as when the store's
process is gone) and `stalled` (connections taken and never answered, as when it is stopped or packets drop).
For each, it sends the Gmail homepage trigger (one store lookup) a few times in a row, one after the other as one
user would, and prints each answer's time and card; then it mends the link and times the wait until `/readyz`
answers 200 and the homepage is back. The wait is the app's own, so serving it in-process instead of gunicorn
changes nothing that matters here.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addon import create_app  # noqa: E402 - after the path is set
from addon.settings import Settings  # noqa: E402
from bench.harness.report import table  # noqa: E402
from tests.datastore_emulator import datastore_emulator  # noqa: E402
from tests.fakes.google import running_fake_google  # noqa: E402
from tests.google_caller import GoogleCaller  # noqa: E402
from tests.relay import TcpRelay  # noqa: E402

GIVE_UP_SECONDS = 60.0


def card_title(answer: dict) -> str:
    """The header title of a trigger's first card."""
    navigations = answer.get("action", {}).get("navigations", [])
    card = navigations[0]["pushCard"] if navigations else {}
    return card.get("header", {}).get("title", "?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=7, help="triggers sent one after the other while down")
    args = parser.parse_args()

    with datastore_emulator() as host, running_fake_google() as google, tempfile.TemporaryDirectory() as scratch:
        relay = TcpRelay(host)
        os.environ["DATASTORE_EMULATOR_HOST"] = relay.address
        settings = Settings(
            environment="production",
            base_url="https://addon.bench",
            service_account_email="service-123456789@gcp-sa-gsuiteaddons.iam.gserviceaccount.com",
            oauth_client_id="123456789-bench.apps.googleusercontent.com",
            secret_key="bench-secret-key-that-is-long-enough-0123456789",
            store=f"sqlite:///{Path(scratch) / 'unused.db'}",
            google_certs_url=google.certs_url,
            google_api_endpoint=google.url,
        )
        app = create_app(dataclasses.replace(settings, store="datastore", datastore_namespace=uuid.uuid4().hex))
        client = app.test_client()
        caller = GoogleCaller(client, google, settings)

        def home() -> tuple[float, str]:
            start = time.monotonic()
            answer = caller.post("/gmail/home", caller.event("GMAIL")).get_json()
            return time.monotonic() - start, card_title(answer)

        rows = []
        for _ in range(3):
            seconds, title = home()  # the first pays for the channel; the last is the healthy time
        rows.append(["healthy", "", f"{seconds * 1000:.0f} ms", title])
        for outage in ("refused", "stalled"):
            relay.refuse() if outage == "refused" else relay.stall()
            for index in range(1, args.requests + 1):
                seconds, title = home()
                rows.append([outage, str(index), f"{seconds * 1000:.0f} ms", title])
            relay.restore()
            start = time.monotonic()
            while client.get("/readyz").status_code != 200:
                if time.monotonic() - start > GIVE_UP_SECONDS:
                    print(f"/readyz not 200 {GIVE_UP_SECONDS:.0f} s after the store was back", file=sys.stderr)
                    return 1
                time.sleep(0.05)
            ready = time.monotonic() - start
            seconds, title = home()
            rows.append([f"{outage}, mended", "", f"ready after {ready * 1000:.0f} ms; {seconds * 1000:.0f} ms", title])
        app.extensions["addon"].close()
        relay.close()

    columns = [("store", 16), ("request", 7), ("answered in", 34), ("card", 44)]
    print("\n".join(table(columns, rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
