"""Memory of the gunicorn workers while they answer 10,000 Gmail triggers: it should level off, not grow.

Run from the repository root: `.venv/bin/python bench/trigger_memory.py` (bench/README.md says more).
"""

from __future__ import annotations

import argparse
import functools
import itertools
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness.cpu import children_of  # noqa: E402 - after the path is set
from bench.harness.fake_process import fake_in_process  # noqa: E402
from bench.harness.gmail_trigger import SERVING, ArrangedGoogle, addon_env, arrange_google, is_the_card  # noqa: E402
from bench.harness.load import run_load  # noqa: E402
from bench.harness.logs import log_problems  # noqa: E402
from bench.harness.memory import rss_bytes  # noqa: E402
from bench.harness.report import table, verdict  # noqa: E402
from tests.fakes.google import FakeGoogle  # noqa: E402
from tests.live_server import served_by_gunicorn  # noqa: E402

LOG_FILE = ROOT / "bench" / "results" / "trigger_memory.log"
CHECKPOINTS = (1_000, 2_500, 5_000, 7_500, 10_000)
# Growth allowed from the middle sample to the last: caches filled in the first thousands level off.
TARGET_GROWTH = 0.05
BOOT_SECONDS = 30.0
# Each stretch of load also stops at this, should the server stop answering.
STRETCH_CEILING_SECONDS = 120.0


@dataclass(frozen=True)
class Sample:
    requests: int
    rss: tuple[int, ...]  # per worker, bytes

    @property
    def total(self) -> int:
        return sum(self.rss)


def mb(size: int) -> str:
    return f"{size / 2**20:.1f}"


def booted_workers(master: int, expected: int) -> list[int]:
    """The master's workers once all have booted (the first answer on /healthz needs only one)."""
    deadline = time.monotonic() + BOOT_SECONDS
    while len(workers := children_of(master)) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return workers


def measure(args: argparse.Namespace) -> tuple[list[Sample], Counter[str], list[str]]:
    """Start the add-on, then load it to each checkpoint in turn and note its workers' memory there."""
    arrange = functools.partial(arrange_google, users=args.users)
    with tempfile.TemporaryDirectory(prefix="trigger-memory-") as tmp, fake_in_process(FakeGoogle, arrange) as fake:
        google: ArrangedGoogle = fake.arranged
        LOG_FILE.parent.mkdir(parents=True, exist_ok=True)
        env = addon_env(google, Path(tmp) / "bench.db")
        users = itertools.count()  # every call, from any client, is the next user's
        outcomes: Counter[str] = Counter()
        with served_by_gunicorn(env, LOG_FILE) as (server, _):
            workers = booted_workers(server.process.pid, int(env["WEB_CONCURRENCY"]))
            samples = [Sample(0, tuple(rss_bytes(pid) for pid in workers))]
            done = 0
            for checkpoint in CHECKPOINTS:
                print(f"load to {checkpoint} requests ...", flush=True)
                load = run_load(
                    server.port,
                    lambda n: google.call(next(users)),
                    clients=args.clients,
                    seconds=STRETCH_CEILING_SECONDS,
                    calls_per_client=(checkpoint - done) // args.clients,
                    accept=is_the_card,
                    refusal="200 without the message card",
                )
                done += len(load.tally.latencies) + sum(load.tally.errors.values())
                outcomes.update(load.tally.statuses)
                outcomes.update({"refused": load.tally.refused, **load.tally.errors})
                samples.append(Sample(done, tuple(rss_bytes(pid) for pid in workers)))
            if children_of(server.process.pid) != workers:
                outcomes["worker restarted"] += 1
    return samples, outcomes, log_problems(LOG_FILE)


def report(args: argparse.Namespace, samples: list[Sample], outcomes: Counter[str], problems: list[str]) -> int:
    columns = [("requests", 9), *((f"worker {n + 1} MB", 12) for n in range(len(samples[0].rss))), ("total MB", 9)]
    columns.append(("vs previous", 12))
    rows = []
    for before, sample in zip([None, *samples], samples, strict=False):
        change = f"{(sample.total - before.total) / before.total:+.1%}" if before else ""
        rows.append([str(sample.requests), *(mb(rss) for rss in sample.rss), mb(sample.total), change])
    middle = next(s for s in samples if s.requests >= CHECKPOINTS[len(CHECKPOINTS) // 2])
    growth = (samples[-1].total - middle.total) / middle.total
    failures = sum(n for outcome, n in outcomes.items() if outcome != "200")
    lines = [
        "",
        f"Worker memory (RSS) under the Gmail trigger: {args.clients} keep-alive clients, {args.users} users in turn",
        f"server: {SERVING}, -b 127.0.0.1:PORT addon:create_app()",
        "",
        *table(columns, rows),
        "",
        f"{verdict(growth <= TARGET_GROWTH)}  growth from {middle.requests} to {samples[-1].requests} requests "
        f"<= {TARGET_GROWTH:.0%}: {growth:+.1%} ({mb(middle.total)} -> {mb(samples[-1].total)} MB)",
    ]
    if failures or problems:
        lines.append(f"PROBLEMS: answers {dict(outcomes)}; {len(problems)} warning/error lines in {LOG_FILE}")
        lines += [f"  {line[:300]}" for line in problems[:3]]
    else:
        lines.append("No problems: every answer was 200 with the message card, and the log has no warnings.")
    print("\n".join(lines))
    return 0 if growth <= TARGET_GROWTH and not failures and not problems else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=10, help="concurrent keep-alive clients (default 10)")
    parser.add_argument("--users", type=int, default=1000, help="distinct users, taken in turn (default 1000)")
    args = parser.parse_args()
    # SIGTERM unwinds like Ctrl-C, so the server and the fake are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        samples, outcomes, problems = measure(args)
    except KeyboardInterrupt:
        print("interrupted; the server and the fake Google are stopped", file=sys.stderr)
        return 130
    return report(args, samples, outcomes, problems)


if __name__ == "__main__":
    sys.exit(main())
